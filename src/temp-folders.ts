/**
 * Private folders the action makes directly in RUNNER_TEMP (deploy credentials, deploy work
 * folders). Each is listed in the state before it exists, so that the post step removes it even
 * when main was killed, and the post step removes only folders of exactly that shape.
 */
import * as core from '@actions/core';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { PostTask } from './post-step.js';
import { readJsonState } from './state.js';

export interface TempFolderKind {
  readonly prefix: string;
  /** The shape of what follows the prefix: a UUID, mkdtemp's six characters. */
  readonly suffix: RegExp;
  /** The state entry listing the folders made. */
  readonly state: string;
  /** In messages: `credentials folder`. */
  readonly what: string;
}

/** Only folders of this kind: directly in RUNNER_TEMP, with its prefix and suffix. */
export function isTempFolder(kind: TempFolderKind, dir: string, runnerTemp: string): boolean {
  const name = basename(dir);
  return (
    isAbsolute(dir) &&
    dirname(dir) === resolve(runnerTemp) &&
    name.startsWith(kind.prefix) &&
    kind.suffix.test(name.slice(kind.prefix.length))
  );
}

/** The post step's removal of the folders of this kind that main listed. */
export function removeTempFolders(kind: TempFolderKind, name: string): PostTask {
  return {
    name,
    async run() {
      const runnerTemp = process.env.RUNNER_TEMP ?? tmpdir();
      const dirs = readJsonState<unknown>(kind.state, []);
      for (const dir of Array.isArray(dirs) ? dirs : []) {
        if (typeof dir !== 'string' || !isTempFolder(kind, dir, runnerTemp)) {
          core.warning(
            `post step: not removing ${String(dir)}: it is not a ${kind.what} of this action in RUNNER_TEMP`,
          );
          continue;
        }
        await rm(dir, { recursive: true, force: true });
        core.info(`removed the deploy ${kind.what} ${dir}`);
      }
    },
  };
}
