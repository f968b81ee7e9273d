import { saveCachesTask } from './cache/index.js';
import { runPostTasks } from './post-step.js';

await runPostTasks([saveCachesTask]);
