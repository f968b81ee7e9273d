import { saveCachesTask } from './cache/index.js';
import { removeCredentials } from './deploy/access.js';
import { sealEnvironment } from './isolation.js';
import { runPostTasks } from './post-step.js';

// The post step gets the inputs again, and starts processes (`opam clean`) of its own.
sealEnvironment();
await runPostTasks([removeCredentials, saveCachesTask]);
