import { describe, expect, it } from 'vitest';
import type { InstallFacts } from '../../src/apt.js';
import { installedPackages, planSystemPackages } from '../../src/mirage/system-packages.js';

// What `dpkg-query -W -f='${Package} ${Status}\n' libseccomp-dev pkg-config` prints: a line per
// known package (removed ones included), nothing for unknown ones.
const BOTH = 'libseccomp-dev install ok installed\npkg-config install ok installed\n';
const ONE = 'pkg-config install ok installed\n';
const REMOVED = 'libseccomp-dev deinstall ok config-files\npkg-config install ok installed\n';
const REQUIRED = ['libseccomp-dev', 'pkg-config'];
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
    expect(planSystemPackages(REQUIRED, output, facts, 'hvt')).toEqual(plan);
  });

  it('on a self-hosted runner, says what to install instead of installing, even as root', () => {
    for (const privilege of ['root', 'sudo', 'none'] as const) {
      expect(planSystemPackages(REQUIRED, ONE, { hosted: false, privilege }, 'spt')).toEqual({
        action: 'warn',
        packages: ['libseccomp-dev'],
        message:
          'target `spt` needs the system packages libseccomp-dev, which are not installed on this runner; ' +
          'install them (`sudo apt-get install -y libseccomp-dev`) if the build fails for want of them',
      });
    }
  });

  it('on a hosted runner without root or sudo, names the packages and goes on', () => {
    expect(planSystemPackages(REQUIRED, '', { hosted: true, privilege: 'none' }, 'xen')).toEqual({
      action: 'warn',
      packages: REQUIRED,
      message:
        'target `xen` needs the system packages libseccomp-dev, pkg-config, which are not installed on this runner, ' +
        'and the action cannot install them here (not root, and no sudo); going on without them: install them in ' +
        "the job's image (`apt-get install -y libseccomp-dev pkg-config`) if the build fails for want of them",
    });
  });

  it('needs nothing for targets without system packages', () => {
    expect(planSystemPackages([], '', SUDO, 'unix')).toEqual({ action: 'none' });
  });
});
