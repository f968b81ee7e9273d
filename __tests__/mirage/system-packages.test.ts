import { describe, expect, it } from 'vitest';
import type { InstallFacts } from '../../src/apt.js';
import {
  installedPackages,
  neededPackages,
  planSystemPackages,
  type Needed,
} from '../../src/mirage/system-packages.js';

// What `dpkg-query -W -f='${Package} ${Status}\n' libseccomp-dev pkg-config` prints: a line per
// known package (removed ones included), nothing for unknown ones.
const BOTH = 'libseccomp-dev install ok installed\npkg-config install ok installed\n';
const ONE = 'pkg-config install ok installed\n';
const REMOVED = 'libseccomp-dev deinstall ok config-files\npkg-config install ok installed\n';
const REQUIRED = ['libseccomp-dev', 'pkg-config'];
const target = (t: string): Needed[] => [{ from: `target \`${t}\``, packages: REQUIRED }];
const SUDO: InstallFacts = { hosted: true, privilege: 'sudo' };
const ROOT: InstallFacts = { hosted: true, privilege: 'root' };
const SUDO_APT = ['sudo', 'DEBIAN_FRONTEND=noninteractive', 'apt-get'];

describe('installedPackages', () => {
  it('keeps only installed packages, without architecture qualifiers', () => {
    expect([...installedPackages(REMOVED)]).toEqual(['pkg-config']);
    expect([...installedPackages('libseccomp-dev:amd64 install ok installed\n')]).toEqual(['libseccomp-dev']);
    expect([...installedPackages('')]).toEqual([]);
  });
});

describe('planSystemPackages', () => {
  it.each<[string, InstallFacts, unknown]>([
    [BOTH, SUDO, { action: 'none' }],
    [BOTH, { hosted: false, privilege: 'root' }, { action: 'none' }],
    [ONE, SUDO, { action: 'install', packages: ['libseccomp-dev'], command: SUDO_APT }],
    [REMOVED, SUDO, { action: 'install', packages: ['libseccomp-dev'], command: SUDO_APT }],
    ['', SUDO, { action: 'install', packages: REQUIRED, command: SUDO_APT }],
    // A `container:` job on a hosted runner: root, and no sudo to call.
    [ONE, ROOT, { action: 'install', packages: ['libseccomp-dev'], command: ['apt-get'] }],
  ])('%j with %j', (output, facts, plan) => {
    expect(planSystemPackages(target('hvt'), output, facts)).toEqual(plan);
  });

  it('on a self-hosted runner, says what to install instead of installing, even as root', () => {
    for (const privilege of ['root', 'sudo', 'none'] as const) {
      expect(planSystemPackages(target('spt'), ONE, { hosted: false, privilege })).toEqual({
        action: 'warn',
        packages: ['libseccomp-dev'],
        message:
          'target `spt` needs the system packages libseccomp-dev, which are not installed on this runner; ' +
          'install them (`sudo apt-get install -y libseccomp-dev`) if the build fails for want of them',
      });
    }
  });

  it('on a hosted runner without root or sudo, names the packages and goes on', () => {
    expect(planSystemPackages(target('xen'), '', { hosted: true, privilege: 'none' })).toEqual({
      action: 'warn',
      packages: REQUIRED,
      message:
        'target `xen` needs the system packages libseccomp-dev, pkg-config, which are not installed on this runner, ' +
        'and the action cannot install them here (not root, and no sudo); going on without them: install them in ' +
        "the job's image (`apt-get install -y libseccomp-dev pkg-config`) if the build fails for want of them",
    });
  });

  it('needs nothing for targets without system packages', () => {
    expect(planSystemPackages([], '', SUDO)).toEqual({ action: 'none' });
  });

  it("asks apt for the lock's depexts with the target's, each missing package once", () => {
    const needs: Needed[] = [
      ...target('hvt'),
      { from: 'the depexts of mirage/hello-hvt.opam.locked', packages: ['libgmp-dev', 'pkg-config'] },
    ];
    expect(planSystemPackages(needs, ONE, ROOT)).toEqual({
      action: 'install',
      packages: ['libseccomp-dev', 'libgmp-dev'],
      command: ['apt-get'],
    });
    expect(planSystemPackages(needs, `${BOTH}libgmp-dev install ok installed\n`, ROOT)).toEqual({ action: 'none' });
  });

  it('names every source of a missing package when it cannot install', () => {
    const needs: Needed[] = [
      ...target('spt'),
      { from: 'the depexts of mirage/hello-spt.opam.locked', packages: ['libgmp-dev'] },
    ];
    const plan = planSystemPackages(needs, BOTH, { hosted: false, privilege: 'root' });
    expect(plan).toMatchObject({
      action: 'warn',
      packages: ['libgmp-dev'],
      message: expect.stringMatching(
        /^the depexts of mirage\/hello-spt\.opam\.locked needs the system packages libgmp-dev,/,
      ),
    });
    const both = planSystemPackages(needs, '', { hosted: false, privilege: 'root' });
    expect(both).toMatchObject({
      message: expect.stringMatching(
        /^target `spt` and the depexts of mirage\/hello-spt\.opam\.locked need the system/,
      ),
    });
  });
});

describe('neededPackages', () => {
  const lock = (depexts: string) => ({
    name: 'hello-unix.opam.locked',
    content: `depends: []\ndepexts: [${depexts}]\n`,
  });
  const debian = { os: 'linux', 'os-family': 'debian', 'os-distribution': 'debian', 'os-version': '12' };
  const ubuntu = { os: 'linux', 'os-family': 'debian', 'os-distribution': 'ubuntu', 'os-version': '24.04' };

  it("the target's packages, then the depexts the lock selects on this distribution", () => {
    const depexts =
      '["libgmp-dev"] {os-family = "debian"} ["gmp-devel"] {os-distribution = "fedora"} ["gmp"] {os-distribution = "alpine"}';
    expect(neededPackages('hvt', [lock(depexts)], debian)).toEqual([
      { from: 'target `hvt`', packages: ['libseccomp-dev', 'pkg-config'] },
      { from: 'the depexts of mirage/hello-unix.opam.locked', packages: ['libgmp-dev'] },
    ]);
    expect(
      neededPackages('unix', [lock(depexts)], { ...debian, 'os-family': 'fedora', 'os-distribution': 'fedora' }),
    ).toEqual([{ from: 'the depexts of mirage/hello-unix.opam.locked', packages: ['gmp-devel'] }]);
    expect(neededPackages('unix', [lock(''), lock('["libev-dev"] {os-distribution = "debian"}')], ubuntu)).toEqual([]);
  });

  it('refuses a selected name that is not a Debian package name, naming the lock file', () => {
    for (const name of [
      '-oAPT::Update::Pre-Invoke::=touch /tmp/x',
      'libgmp-dev=2:6.2',
      'libgmp-dev/sid',
      'LibGMP',
      'x',
      'lib*',
    ]) {
      expect(() => neededPackages('unix', [lock(`[${JSON.stringify(name)}] {os-family = "debian"}`)], debian)).toThrow(
        /^mirage\/hello-unix\.opam\.locked: its depexts ask for the system package .* which is not a Debian package name/,
      );
    }
    // Another distribution's names are not apt's: neither checked nor selected.
    expect(neededPackages('unix', [lock('["Foo_Bar"] {os-distribution = "macports"}')], debian)).toEqual([]);
  });
});
