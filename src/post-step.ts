import * as core from '@actions/core';

/** One piece of post-step work. Each runs even when another failed, and none fails the job. */
export interface PostTask {
  readonly name: string;
  run(): Promise<void>;
}

export async function runPostTasks(tasks: readonly PostTask[]): Promise<void> {
  for (const task of tasks) {
    try {
      await task.run();
    } catch (error) {
      core.warning(`post step: ${task.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
