/**
 * System packages through the bundle on a "GitHub-hosted runner" (RUNNER_ENVIRONMENT=github-hosted,
 * root): the action asks dpkg-query, runs apt-get only for what is missing, outside the build, and
 * waits for apt's and dpkg's locks when another process holds them.
 *
 * apt-get and dpkg-query are stand-ins first on the PATH given to the bundle
 * (__tests__/support/apt-standin.py): they record every call and keep their lists, locks and
 * "installed" packages in a folder of this test, so that nothing is installed on this machine and
 * no registry is asked. Their locks are fcntl locks on that folder's `lists/lock`,
 * `dpkg/lock-frontend` and `dpkg/lock`, taken and reported as apt 2.6 does (its words checked
 * against the real apt-get on a private folder): `update` fails at once on a held lock, naming the
 * holder; `install` waits up to `DPkg::Lock::Timeout`. The machine's own dpkg locks are never
 * touched, so other work on this machine is not disturbed. Everything else (opam, the stand-in
 * mirage and opam-monorepo of the fixture, bwrap) is real.
 *
 * The fixture's `duration` package (vendored into the unikernel) is given depexts for Debian and
 * for two other distributions: opam-monorepo copies them into the lock file with their filters.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/harness.js';
import { commands, useFixtureScope } from '../support/fixture-action.js';

const fixture = useFixtureScope('system-packages-');
const STANDIN = join(PROJECT_ROOT, '__tests__/support/apt-standin.py');
const DEPEXTS = `depexts: [
  ["libgmp-dev"] {os-family = "debian"}
  ["gmp-devel"] {os-distribution = "fedora"}
  ["Gmp_Alpine"] {os-distribution = "alpine"}
]
`;

/** One machine's apt: a state folder and the two stand-ins, first on the returned PATH. */
function machine(name: string, installed: readonly string[]): { state: string; path: string } {
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

const lines = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

function job(name: string, path: string) {
  return fixture.runExample({
    workspace: join(name, 'workspace'),
    opamRoot: join(name, 'opam-root'),
    env: { PATH: path, RUNNER_ENVIRONMENT: 'github-hosted' },
    inputs: { target: 'unix', cache: 'false' },
  });
}

beforeAll(() => {
  // The fixture's duration package gains depexts; the stand-in opam-monorepo locks them.
  const packages = join(fixture.base, 'opam-repository', 'packages', 'duration');
  for (const version of readdirSync(packages)) {
    const opam = join(packages, version, 'opam');
    writeFileSync(opam, readFileSync(opam, 'utf8') + DEPEXTS);
  }
});

describe('system packages on a hosted runner, root', { timeout: 300_000 }, () => {
  it('with everything installed, asks dpkg-query and calls no apt-get at all; opam installs no depexts', async () => {
    const { state, path } = machine('installed', ['libgmp-dev']);
    const result = await job('installed', path);
    expect(result.main.exitCode, result.log).toBe(0);

    expect(lines(join(state, 'calls'))).toEqual([]);
    // the first question is the plan's; what follows is the build record's (which package owns cc, versions)
    const dpkg = lines(join(state, 'dpkg-calls'));
    expect(dpkg[0]).toBe('-W -f=${Package} ${Status}\\n libgmp-dev');
    expect(dpkg.slice(1).filter((call) => !/^-[SW] /.test(call))).toEqual([]);
    expect(result.log).toContain('system packages, all installed: libgmp-dev');
    expect(commands(result.log).filter((c) => /apt-get/.test(c))).toEqual([]);

    const dir = join(fixture.base, 'installed', 'workspace', 'hello');
    const lock = readFileSync(join(dir, 'mirage', 'hello-unix.opam.locked'), 'utf8');
    expect(lock).toContain('["libgmp-dev"] {os-family = "debian"}');
    // configured with --no-depext: no depext step, and opam installs the switch without depexts
    const makefile = readFileSync(join(dir, 'Makefile'), 'utf8');
    expect(makefile).not.toContain('depext-lockfile');
    expect(makefile).toMatch(/^\t@\$\(OPAM\) install \$< --deps-only --yes --no-depexts$/m);
    expect(result.exportedEnv.OPAMNODEPEXTS).toBe('1');
  });

  it("installs the lock's Debian depexts, not another distribution's, and only what is missing", async () => {
    const { state, path } = machine('missing', []);
    const result = await job('missing', path);
    expect(result.main.exitCode, result.log).toBe(0);

    const calls = lines(join(state, 'calls')).map((c) => c.replace(/^(?:-o \S+ )+/, ''));
    expect(calls).toEqual(['update -qq', 'install -y -q --no-install-recommends libgmp-dev']);
    expect(lines(join(state, 'installed'))).toEqual(['libgmp-dev']);
    expect(result.log).toContain('::group::System packages: libgmp-dev');
    // apt ran after the lock and before the build's dependencies were installed
    const ran = commands(result.log);
    const apt = ran.findIndex((c) => / install -y -q /.test(c));
    expect(apt).toBeGreaterThan(ran.findIndex((c) => / lock$/.test(c)));
    expect(apt).toBeLessThan(ran.findIndex((c) => / install-switch$/.test(c)));
  });

  it("waits while another process holds apt's and dpkg's locks for 20 s, then installs and succeeds", async () => {
    const { state, path } = machine('busy', []);
    // The other process takes the three locks the moment the action has asked dpkg-query, so that
    // apt-get finds them held for 20 s however long the setup took.
    writeFileSync(join(state, 'hold-on-query'), '20');
    const result = await job('busy', path);
    expect(result.main.exitCode, result.log).toBe(0);

    const [holder] = lines(join(state, 'held')).map((l) => l.split(' ')[1]);
    expect(result.log).toMatch(
      new RegExp(
        `apt-get update: ${state}/lists/lock is held by process ${holder} \\(python3\\); trying again in \\d+ s`,
      ),
    );
    const calls = lines(join(state, 'calls')).map((c) => c.replace(/^(?:-o \S+ )+/, ''));
    expect(calls.filter((c) => c === 'update -qq').length).toBeGreaterThan(1);
    expect(calls.at(-1)).toBe('install -y -q --no-install-recommends libgmp-dev');
    // the install happened after the other process let go
    const [released] = lines(join(state, 'released')).map(Number);
    const [installedAt] = lines(join(state, 'installs')).map((l) => Number(l.split(' ')[0]));
    expect(installedAt).toBeGreaterThan(released ?? Infinity);
  }, 300_000);

  it("fails at the lock deadline, naming who holds apt's lock, and installs nothing", async () => {
    const { state, path } = machine('deadline', []);
    writeFileSync(join(state, 'hold-on-query'), '20');
    const result = await fixture.runExample({
      workspace: join('deadline', 'workspace'),
      opamRoot: join('deadline', 'opam-root'),
      env: { PATH: path, RUNNER_ENVIRONMENT: 'github-hosted', MIRAGE_DEPLOY_TEST_DEADLINE_MS: '6000' },
      inputs: { target: 'unix', cache: 'false' },
    });
    expect(result.main.exitCode).toBe(1);
    const [holder] = lines(join(state, 'held')).map((l) => l.split(' ')[1]);
    expect(result.errors.join('\n')).toContain(
      `${state}/lists/lock is held by process ${holder} (python3), still after 6 s (the action's apt lock deadline)`,
    );
    expect(lines(join(state, 'installed'))).toEqual([]);
    expect(commands(result.log).some((c) => / install-switch$/.test(c))).toBe(false);
  });

  it('eight jobs on one machine at once all succeed', async () => {
    const { state, path } = machine('eight', []);
    // The eight meet at apt-get: each one's first call waits for the others', so that they contend.
    writeFileSync(join(state, 'barrier'), '8');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => job(join('eight', `job-${i}`), path)));
    for (const result of results) expect(result.main.exitCode, result.log).toBe(0);
    expect(lines(join(state, 'installed'))).toContain('libgmp-dev');
    // seven of them found apt's index lock taken by another's `apt-get update`, and waited
    const waited = results.filter((r) =>
      /apt-get update: \S+\/lists\/lock is held by process \d+ \(python3\)/.test(r.log),
    );
    expect(waited.length).toBeGreaterThanOrEqual(7);
  }, 600_000);
});
