/**
 * A machine's apt for the system-packages tests: apt-get and dpkg-query stand-ins
 * (`apt-standin.py`) first on a PATH, keeping their lists, locks and "installed" packages in a
 * folder of the test (nothing is installed on this machine, no registry is asked), and the
 * fixture's `duration` package given depexts that opam-monorepo copies into the lock file.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll } from 'vitest';
import type { FixtureScope } from './fixture-action.js';
import { PROJECT_ROOT } from './harness.js';

const STANDIN = join(PROJECT_ROOT, '__tests__/support/apt-standin.py');
const DEPEXTS = `depexts: [
  ["libgmp-dev"] {os-family = "debian"}
  ["gmp-devel"] {os-distribution = "fedora"}
  ["Gmp_Alpine"] {os-distribution = "alpine"}
]
`;

/** One machine's apt: a state folder and the two stand-ins, first on the returned PATH. */
export function aptMachine(
  fixture: FixtureScope,
  name: string,
  installed: readonly string[],
): { state: string; path: string } {
  const state = join(fixture.base, name, 'apt-state');
  const bin = join(fixture.base, name, 'bin');
  for (const dir of [join(state, 'lists'), join(state, 'dpkg'), bin]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(state, 'installed'), installed.map((p) => `${p}\n`).join(''));
  for (const tool of ['apt-get', 'dpkg-query']) {
    writeFileSync(join(bin, tool), `#!/bin/sh\nAPT_STANDIN_STATE='${state}' exec python3 '${STANDIN}' ${tool} "$@"\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  return { state, path: `${bin}:${process.env.PATH ?? ''}` };
}

export const lines = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

/** A unix build of the example on a GitHub-hosted runner (root) with `path`'s apt. */
export function hostedJob(fixture: FixtureScope, name: string, path: string) {
  return fixture.runExample({
    workspace: join(name, 'workspace'),
    opamRoot: join(name, 'opam-root'),
    env: { PATH: path, RUNNER_ENVIRONMENT: 'github-hosted' },
    inputs: { target: 'unix', cache: 'false' },
  });
}

/** The fixture's duration package gains depexts (after the fixture's own beforeAll made it). */
export function useDepexts(fixture: FixtureScope): void {
  beforeAll(() => {
    const packages = join(fixture.base, 'opam-repository', 'packages', 'duration');
    for (const version of readdirSync(packages)) {
      const opam = join(packages, version, 'opam');
      writeFileSync(opam, readFileSync(opam, 'utf8') + DEPEXTS);
    }
  });
}
