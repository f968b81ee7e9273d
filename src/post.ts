import { runPostTasks } from './post-step.js';

await runPostTasks([]);
