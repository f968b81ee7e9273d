import * as core from '@actions/core';
import { saveCachesTask } from './cache/index.js';
import { removeCredentials } from './deploy/credentials/access.js';
import { removeWorkDirs } from './deploy/index.js';
import { sealEnvironment } from './isolation.js';
import { pinTools, untrustedFolders } from './sandbox/tools.js';
import { runPostTasks } from './post-step.js';
import { STATE } from './state.js';
import { writeSummary } from './summary.js';

/** The post step; `src/post-index.ts` runs it for the runner, `npm run local` imports it. */
export async function run(): Promise<void> {
  // The post step gets the inputs again, and starts processes (tar, zstd for the cache) of its own.
  sealEnvironment();
  // The runner put the switch's bin first on PATH for this step: programs only from trusted folders.
  pinTools(untrustedFolders());
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
