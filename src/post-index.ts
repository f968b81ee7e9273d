import { run } from './post.js';

await run();
// As in main: a cache save abandoned at its deadline must not keep the step running.
process.exit();
