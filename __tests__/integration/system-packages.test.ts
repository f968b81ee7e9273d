/**
 * System packages through the bundle on a "GitHub-hosted runner" (RUNNER_ENVIRONMENT=github-hosted,
 * root): the action asks dpkg-query, runs apt-get only for what is missing, outside the build, and
 * fails at apt's lock deadline naming who holds it (waiting for the locks, and eight jobs at once, are
 * in system-packages-load.slow.test.ts).
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
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aptMachine, hostedJob, lines, useDepexts } from '../support/apt-machine.js';
import { commands, useFixtureScope } from '../support/fixture-action.js';

const fixture = useFixtureScope('system-packages-');
useDepexts(fixture);
const machine = (name: string, installed: readonly string[]) => aptMachine(fixture, name, installed);
const job = (name: string, path: string) => hostedJob(fixture, name, path);

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
});
