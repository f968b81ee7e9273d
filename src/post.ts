import { saveCachesTask } from './cache/index.js';
import { removeCredentials } from './deploy/access.js';
import { runPostTasks } from './post-step.js';

await runPostTasks([removeCredentials, saveCachesTask]);
