// Runs of the bundled action that set up from the offline opam repository fixture (Debian's OCaml
// as ocaml-system, the system opam, the stand-in mirage CLI) and build a checkout of example/hello.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { PROJECT_ROOT, removeRun, runAction, type RunOptions, type RunResult } from './harness.js';
import { makeOpamRepository } from './opam-repo.js';

/** A checkout of example/hello at `<workspace>/hello`; returns that folder. */
export function checkoutExample(workspace: string): string {
  const dir = join(workspace, 'hello');
  cpSync(join(PROJECT_ROOT, 'example/hello'), dir, { recursive: true });
  return dir;
}

/** The inputs that set up from the fixture repository at `opamRepoUrl` and build `hello/`. */
export function fixtureInputs(opamRepoUrl: string): Record<string, string> {
  return {
    'working-directory': 'hello',
    'ocaml-compiler': 'ocaml-system',
    'opam-version': 'system',
    'opam-repositories': `fixture: ${opamRepoUrl}`,
    'mirage-version': '4.11.1',
  };
}

/** Programs the action ran itself (the runner echoes them as `[command]`). */
export const commands = (log: string) => [...log.matchAll(/^\[command\](.*)$/gm)].map((m) => m[1] ?? '');

export interface FixtureScope {
  /** This test file's temporary folder. */
  readonly base: string;
  /** `file://` URL of the fixture opam repository, made in `base`. */
  readonly opamRepoUrl: string;
  /** runAction, with the run's folders removed after the file's tests. */
  run(options: RunOptions): Promise<RunResult>;
}

/**
 * Registers this test file's hooks: before its tests, a temporary folder named from `prefix` with
 * the fixture opam repository in it; after them, every run's folders and that folder removed.
 */
export function useFixtureScope(prefix: string): FixtureScope {
  const runs: RunResult[] = [];
  const scope = {
    base: '',
    opamRepoUrl: '',
    async run(options: RunOptions): Promise<RunResult> {
      const result = await runAction(options);
      runs.push(result);
      return result;
    },
  };
  beforeAll(async () => {
    scope.base = mkdtempSync(join(tmpdir(), prefix));
    scope.opamRepoUrl = (await makeOpamRepository(join(scope.base, 'opam-repository'))).url;
  }, 120_000);
  afterAll(() => {
    runs.forEach(removeRun);
    if (scope.base) rmSync(scope.base, { recursive: true, force: true });
  });
  return scope;
}
