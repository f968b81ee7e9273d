import { createRequire as __mdCreateRequire } from 'node:module'; const require = __mdCreateRequire(import.meta.url);
import {
  STATE,
  getState,
  pinTools,
  removeCredentials,
  removeWorkDirs,
  saveCachesTask,
  sealEnvironment,
  untrustedFolders,
  warning,
  writeSummary
} from "./chunks/chunk-CNXLA3SW.js";

// src/post-step.ts
async function runPostTasks(tasks) {
  for (const task of tasks) {
    try {
      await task.run();
    } catch (error) {
      warning(`post step: ${task.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

// src/post.ts
async function run() {
  sealEnvironment();
  pinTools(untrustedFolders());
  await runPostTasks([
    removeCredentials,
    removeWorkDirs,
    saveCachesTask,
    {
      name: "write the job summary",
      run: () => writeSummary(`${getState(STATE.summaryTitle) || "mirage-deploy"}: post step`, ["cache", "saved?"])
    }
  ]);
}

// src/post-index.ts
await run();
process.exit();
