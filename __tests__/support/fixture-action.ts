// Runs of the bundled action that set up from the offline opam repository fixture (Debian's OCaml
// as ocaml-system, the system opam, the stand-in mirage CLI) and build a checkout of example/hello.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
    'mirage-version': '4.11.1+stand-in',
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
  /** One job on a fresh checkout of example/hello, set up from the fixture: see ExampleJob. */
  runExample(job: ExampleJob): Promise<RunResult>;
}

/**
 * A job of a runner that keeps its opam root between jobs: a fresh checkout of example/hello in
 * `<base>/<workspace>/hello`, the inputs that set up from the fixture repository, then `inputs`.
 */
export interface ExampleJob extends Omit<RunOptions, 'workspace'> {
  /** The workspace, a folder under the scope's, emptied first. */
  readonly workspace: string;
  /** OPAMROOT, a folder under the scope's; default `opam-root`, shared by the file's jobs. */
  readonly opamRoot?: string;
  /** Changes the checkout (its folder is given) before the run. */
  readonly prepare?: (dir: string) => void;
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
    runExample({ workspace, opamRoot = 'opam-root', prepare, inputs = {}, env = {}, ...options }: ExampleJob) {
      const dir = join(scope.base, workspace);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const checkout = checkoutExample(dir);
      prepare?.(checkout);
      return scope.run({
        workspace: dir,
        env: { OPAMROOT: join(scope.base, opamRoot), ...env },
        inputs: { ...fixtureInputs(scope.opamRepoUrl), ...inputs },
        timeoutMs: 300_000,
        ...options,
      });
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
