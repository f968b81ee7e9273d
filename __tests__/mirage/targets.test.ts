import { describe, expect, it } from 'vitest';
import {
  TARGETS,
  TARGET_NAMES,
  checkTargetRunnable,
  imageFileName,
  isTarget,
  sideFilePaths,
  type RunnerOs,
  type Target,
} from '../../src/mirage/targets.js';

describe('the target table', () => {
  it('holds exactly the 11 targets of mirage 4.11', () => {
    expect([...TARGET_NAMES].sort()).toEqual(
      [
        'unix',
        'macosx',
        'xen',
        'qubes',
        'hvt',
        'spt',
        'virtio',
        'muen',
        'genode',
        'unikraft-qemu',
        'unikraft-firecracker',
      ].sort(),
    );
    expect(isTarget('xenn')).toBe(false);
    expect(isTarget('toString')).toBe(false);
  });

  it.each<[Target, string, string[], RunnerOs[], string[]]>([
    ['unix', 'www', [], ['Linux', 'macOS'], []],
    ['macosx', 'www', [], ['macOS'], []],
    [
      'xen',
      'www.xen',
      ['dist/www.xl', 'dist/www.xl.in', 'mirage/www_libvirt.xml'],
      ['Linux'],
      ['libseccomp-dev', 'pkg-config'],
    ],
    ['qubes', 'www.xen', [], ['Linux'], ['libseccomp-dev', 'pkg-config']],
    ['hvt', 'www.hvt', [], ['Linux'], ['libseccomp-dev', 'pkg-config']],
    ['spt', 'www.spt', [], ['Linux'], ['libseccomp-dev', 'pkg-config']],
    ['virtio', 'www.virtio', ['mirage/www_libvirt.xml'], ['Linux'], ['libseccomp-dev', 'pkg-config']],
    ['muen', 'www.muen', [], ['Linux'], ['libseccomp-dev', 'pkg-config']],
    ['genode', 'www.genode', [], ['Linux'], ['libseccomp-dev', 'pkg-config']],
    ['unikraft-qemu', 'www.qemu', [], ['Linux'], []],
    ['unikraft-firecracker', 'www.fc', [], ['Linux'], []],
  ])('%s: image %s, side files, runners, system packages', (target, image, sides, runners, packages) => {
    expect(imageFileName(target, 'www')).toBe(image);
    expect(sideFilePaths(target, 'www')).toEqual(sides);
    expect(TARGETS[target].buildsOn).toEqual(runners);
    expect(TARGETS[target].systemPackages).toEqual(packages);
  });
});

describe('checkTargetRunnable', () => {
  const cases: Array<[Target, RunnerOs, string | null]> = [
    ['unix', 'Linux', null],
    ['unix', 'macOS', null],
    ['macosx', 'macOS', null],
    ['hvt', 'Linux', null],
    ['unikraft-qemu', 'Linux', null],
    [
      'macosx',
      'Linux',
      'input `target`: `macosx` builds only on macOS runners, and this runner is Linux; use `runs-on: macos-latest` or target `unix`',
    ],
    [
      'xen',
      'macOS',
      'input `target`: `xen` builds only on Linux runners, and this runner is macOS; use `runs-on: ubuntu-latest`',
    ],
    [
      'unikraft-firecracker',
      'Windows',
      'input `target`: `unikraft-firecracker` builds only on Linux runners, and this runner is Windows; use `runs-on: ubuntu-latest`',
    ],
    [
      'unix',
      'Windows',
      'input `target`: `unix` builds only on Linux or macOS runners, and this runner is Windows; use `runs-on: ubuntu-latest`',
    ],
  ];
  it.each(cases)('%s on %s', (target, os, message) => {
    if (message === null) expect(() => checkTargetRunnable(target, os)).not.toThrow();
    else expect(() => checkTargetRunnable(target, os)).toThrow(message);
  });

  it('refuses every solo5, xen and unikraft target on macOS', () => {
    const refused = TARGET_NAMES.filter((t) => {
      try {
        checkTargetRunnable(t, 'macOS');
        return false;
      } catch {
        return true;
      }
    });
    expect(refused).toEqual(TARGET_NAMES.filter((t) => t !== 'unix' && t !== 'macosx'));
  });
});
