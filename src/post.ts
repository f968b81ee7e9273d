import * as core from '@actions/core';
import { saveCachesTask } from './cache/index.js';
import { removeCredentials } from './deploy/credentials/access.js';
import { removeWorkDirs } from './deploy/index.js';
import { sealEnvironment } from './isolation.js';
import { runPostTasks } from './post-step.js';
import { STATE } from './state.js';
import { writeSummary } from './summary.js';

/** The post step; `src/post-index.ts` runs it for the runner, `npm run local` imports it. */
export async function run(): Promise<void> {
  // The post step gets the inputs again, and starts processes (`opam clean`) of its own.
  sealEnvironment();
  await runPostTasks([
    removeCredentials,
    removeWorkDirs,
    saveCachesTask,
    {
      name: 'write the job summary',
      run: () =>
        writeSummary(`${core.getState(STATE.summaryTitle) || 'mirage-deploy'}: post step`, ['cache', 'saved?']),
    },
  ]);
}
