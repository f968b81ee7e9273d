import { describe, expect, it } from 'vitest';
import { installedPackages, planSystemPackages } from '../../src/mirage/system-packages.js';

// What `dpkg-query -W -f='${Package} ${Status}\n' libseccomp-dev pkg-config` prints: a line per
// known package (removed ones included), nothing for unknown ones.
const BOTH = 'libseccomp-dev install ok installed\npkg-config install ok installed\n';
const ONE = 'pkg-config install ok installed\n';
const REMOVED = 'libseccomp-dev deinstall ok config-files\npkg-config install ok installed\n';
const REQUIRED = ['libseccomp-dev', 'pkg-config'];

describe('installedPackages', () => {
  it('keeps only installed packages, without architecture qualifiers', () => {
    expect([...installedPackages(REMOVED)]).toEqual(['pkg-config']);
    expect([...installedPackages('libseccomp-dev:amd64 install ok installed\n')]).toEqual(['libseccomp-dev']);
    expect([...installedPackages('')]).toEqual([]);
  });
});

describe('planSystemPackages', () => {
  it.each<[string, boolean, unknown]>([
    [BOTH, true, { action: 'none' }],
    [BOTH, false, { action: 'none' }],
    [ONE, true, { action: 'install', packages: ['libseccomp-dev'] }],
    [REMOVED, true, { action: 'install', packages: ['libseccomp-dev'] }],
    ['', true, { action: 'install', packages: REQUIRED }],
  ])('%j on a hosted runner: %s', (output, hosted, plan) => {
    expect(planSystemPackages(REQUIRED, output, hosted, 'hvt')).toEqual(plan);
  });

  it('on a self-hosted runner, says what to install instead of installing', () => {
    expect(planSystemPackages(REQUIRED, ONE, false, 'spt')).toEqual({
      action: 'warn',
      packages: ['libseccomp-dev'],
      message:
        'target `spt` needs the system packages libseccomp-dev, which are not installed on this runner; ' +
        'install them (`sudo apt-get install -y libseccomp-dev`) if the build fails for want of them',
    });
  });

  it('needs nothing for targets without system packages', () => {
    expect(planSystemPackages([], '', true, 'unix')).toEqual({ action: 'none' });
  });
});
