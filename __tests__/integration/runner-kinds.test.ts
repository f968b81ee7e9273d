/**
 * The bundle on the runners people use: a `container:` job on a GitHub-hosted runner (root, no
 * sudo) installing a target's missing system packages with apt-get directly, apt's index refreshed
 * once and a failed download retried once, and no apt at all when nothing is missing; and opam's sandbox probed for real before `opam init`.
 * apt-get and dpkg-query are recording stand-ins on PATH (the machine's apt is not the test's to
 * change); bwrap, opam and everything else are real.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findProgram } from '../../src/exec.js';
import { checkoutExample, commands, fixtureInputs, useFixtureScope } from '../support/fixture-action.js';

const fixture = useFixtureScope('runner-kinds-');
const isRoot = process.getuid?.() === 0;
let bin = '';
let record = '';

function script(name: string, body: string): void {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\nset -eu\n${body}\n`);
  chmodSync(path, 0o755);
}

beforeAll(() => {
  bin = join(fixture.base, 'bin');
  record = join(fixture.base, 'apt-calls');
  mkdirSync(bin, { recursive: true });
  // Reports libseccomp-dev missing, whatever this machine has.
  script('dpkg-query', "echo 'pkg-config install ok installed'");
  // Records its arguments; the first `update` and the first `install` fail to download, as a stale
  // index's 404 and a mirror mid-sync do on hosted runners.
  script(
    'apt-get',
    [
      `echo "$*" >> '${record}'`,
      'for a in "$@"; do case "$a" in',
      `  update) [ -e '${record}.update-failed' ] && exit 0; touch '${record}.update-failed'`,
      `    echo "W: Failed to fetch http://archive.ubuntu.com/ubuntu/dists/noble/InRelease  Temporary failure resolving 'archive.ubuntu.com'" >&2; exit 100;;`,
      `  install) [ -e '${record}.install-failed' ] && exit 0; touch '${record}.install-failed'`,
      '    echo "E: Failed to fetch http://archive.ubuntu.com/ubuntu/pool/main/libs/libseccomp/libseccomp-dev_2.5.5-1ubuntu3_amd64.deb  404  Not Found" >&2',
      '    echo "E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?" >&2; exit 100;;',
      'esac; done',
    ].join('\n'),
  );
  // Only where the suite runs as a user with sudo (ci.yml): a sudo that records and runs the rest
  // with this PATH, so that the machine's apt stays untouched.
  if (!isRoot)
    script(
      'sudo',
      `echo "sudo $*" >> '${record}.sudo'\nwhile [ "$#" -gt 0 ] && [ "\${1#*=}" != "$1" ]; do shift; done\nexec "$@"`,
    );
});

async function run(name: string, inputs: Record<string, string>, path: string) {
  const workspace = join(fixture.base, name);
  mkdirSync(workspace, { recursive: true });
  checkoutExample(workspace);
  return fixture.run({
    workspace,
    env: { PATH: path, RUNNER_ENVIRONMENT: 'github-hosted', OPAMROOT: join(workspace, '.opam') },
    inputs: { ...fixtureInputs(fixture.opamRepoUrl), cache: 'false', ...inputs },
    timeoutMs: 300_000,
  });
}

describe('a container job on a GitHub-hosted runner: root, no sudo', () => {
  it('installs the target’s missing packages with apt-get itself, refreshing the index once and retrying a failed download once', async () => {
    const path = `${bin}:${process.env.PATH ?? ''}`;
    if (isRoot) expect(findProgram('sudo', { PATH: path }), 'this test needs a PATH without sudo').toBeUndefined();
    const result = await run('hvt', { target: 'hvt' }, path);
    expect(result.main.exitCode, result.log).toBe(0);

    const deadlines = '-o Acquire::http::Timeout=60 -o Acquire::https::Timeout=60 -o Acquire::Retries=2';
    const lock = (line: string) =>
      line.replace(/ -o DPkg::Lock::Timeout=(\d+) /, (_, s: string) =>
        Number(s) > 200 ? ' ' : ' (short lock timeout) ',
      );
    const install = `${deadlines} install -y -q --no-install-recommends libseccomp-dev`;
    // Each call waits for dpkg's lock up to what is left of the 5-minute deadline (checked, then cut out).
    expect(readFileSync(record, 'utf8').trim().split('\n').map(lock)).toEqual([
      `${deadlines} update -qq`, // failed to fetch: retried
      `${deadlines} update -qq`,
      install, // 404 with the index it had: refreshed and retried
      `${deadlines} update -qq`,
      install,
    ]);
    expect(existsSync(`${record}.sudo`)).toBe(!isRoot);
    expect(result.log).toContain('apt-get update could not download everything; refreshing and trying once more');
    expect(result.log).toContain('apt-get install could not download everything; refreshing and trying once more');
    expect(result.log).toContain('::group::System packages: libseccomp-dev');
    // The index is fresh already when opam's depext may need it in install-switch.
    const ran = commands(result.log);
    const lastApt = ran.findLastIndex((c) => /apt-get /.test(c));
    expect(lastApt).toBeLessThan(ran.findIndex((c) => / install-switch$/.test(c)));
    expect(result.outputs.image).toBe(join(fixture.base, 'hvt', 'hello', 'dist', 'hello.hvt'));
  });

  it('runs no apt-get for a target with no packages of its own and a lock without depexts', async () => {
    writeFileSync(record, '');
    const result = await run('unix', { target: 'unix' }, `${bin}:${process.env.PATH ?? ''}`);
    expect(result.main.exitCode, result.log).toBe(0);
    expect(readFileSync(record, 'utf8')).toBe('');
    expect(commands(result.log).filter((c) => /apt-get|dpkg-query/.test(c))).toEqual([]);
  });

  it('on a self-hosted runner installs nothing and names the packages', async () => {
    writeFileSync(record, '');
    const workspace = join(fixture.base, 'self-hosted');
    mkdirSync(workspace, { recursive: true });
    checkoutExample(workspace);
    const result = await fixture.run({
      workspace,
      env: { PATH: `${bin}:${process.env.PATH ?? ''}`, OPAMROOT: join(workspace, '.opam') },
      inputs: { ...fixtureInputs(fixture.opamRepoUrl), cache: 'false', target: 'spt' },
      timeoutMs: 300_000,
    });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(readFileSync(record, 'utf8')).toBe('');
    expect(result.log).toMatch(
      /::warning::target `spt` needs the system packages libseccomp-dev, which are not installed on this runner; install them/,
    );
  });
});

describe("opam's sandbox, probed before opam init", () => {
  it('works here, and the log says so', async () => {
    const result = await run('probe-ok', { target: 'unix' }, `${bin}:${process.env.PATH ?? ''}`);
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.log).toContain("probing opam's sandbox:");
    expect(result.log).toContain('opam sandboxing: on (bubblewrap works here)');
  });

  it('fails before opam init, naming the cause and the input, when bubblewrap gets no namespaces', async () => {
    // The real bwrap, inside a user namespace that maps no user: it is refused its own namespaces,
    // as in a container or on a kernel that forbids them.
    const denied = join(fixture.base, 'denied-bin');
    mkdirSync(denied, { recursive: true });
    const bwrap = findProgram('bwrap', process.env);
    writeFileSync(join(denied, 'bwrap'), `#!/bin/sh\nexec unshare -U '${bwrap}' "$@"\n`);
    chmodSync(join(denied, 'bwrap'), 0o755);
    const result = await run('probe-denied', { target: 'unix' }, `${denied}:${bin}:${process.env.PATH ?? ''}`);
    expect(result.main.exitCode).toBe(1);
    const [error] = result.errors;
    expect(error).toContain("opam's build sandbox does not work on this runner");
    expect(error).toContain('bwrap: No permissions to create new namespace');
    expect(error).toContain('does not let bubblewrap create namespaces');
    expect(error).toContain('`opam-disable-sandboxing: true`');
    expect(commands(result.log).some((c) => / init /.test(c))).toBe(false);
  });
});
