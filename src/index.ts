import { run } from './main.js';

await run();
// A request abandoned at its deadline (a cache service that never answers) would keep the process
// alive: the step is over, so end it with the exit code the run set.
process.exit();
