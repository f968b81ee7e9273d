import { describe, expect, it } from 'vitest';
import {
  compilerKeyPart,
  dependencyHash,
  duneCacheKeys,
  duniverseCacheKeys,
  isDependencyInput,
  linuxRelease,
  lockFilesDigest,
  opamCacheKeys,
  periodOfKey,
  refreshPeriod,
  otherPeriodOnly,
  stalePeriod,
  type OpamKeyInputs,
} from '../../src/cache/keys.js';

const BASE: OpamKeyInputs = {
  prefix: 'v1',
  os: 'Linux',
  osRelease: 'ubuntu-24.04',
  arch: 'X64',
  opamVersion: '2.4.1',
  compiler: '5.4.1',
  repositories: [{ name: 'default', url: 'https://github.com/ocaml/opam-repository.git' }],
  pins: [],
  mirageVersion: '>= 4.11.0 & < 5.0.0',
  target: 'unix',
  dependencies: '0123456789abcdef',
  period: 't2026w49',
};

/** GitHub's rule: an entry is restored for the exact key, else for the first restore key that prefixes it. */
function restores(saved: string, wanted: OpamKeyInputs): 'exact' | 'partial' | 'miss' {
  const { key, restoreKeys } = opamCacheKeys(wanted);
  if (saved === key) return 'exact';
  return [key, ...restoreKeys].some((prefix) => saved.startsWith(prefix)) ? 'partial' : 'miss';
}

describe('opamCacheKeys', () => {
  const saved = opamCacheKeys(BASE).key;

  it('reads as its parts, in order', () => {
    expect(saved).toMatch(
      /^v1-opam-Linux-ubuntu-24\.04-X64-opam2\.4\.1-ocaml5\.4\.1-r[0-9a-f]{12}-p[0-9a-f]{12}-m[0-9a-f]{12}-unix-d0123456789abcdef-t2026w49$/,
    );
    expect(saved).not.toContain(',');
    expect(saved.length).toBeLessThan(512);
  });

  it.each<[string, Partial<OpamKeyInputs>, 'exact' | 'partial' | 'miss']>([
    ['the same inputs', {}, 'exact'],
    ['a new refresh period', { period: 't2026w50' }, 'partial'],
    ['changed dependency inputs', { dependencies: 'fedcba9876543210' }, 'partial'],
    ['another system compiler', { compiler: compilerKeyPart('ocaml-system', '5.4.1') }, 'miss'],
    ['another target', { target: 'hvt' }, 'partial'],
    ['another mirage constraint', { mirageVersion: '4.11.1' }, 'partial'],
    ['a pin', { pins: [{ name: 'fmt', url: 'git+https://example.org/fmt.git' }] }, 'partial'],
    ['other repositories', { repositories: [{ name: 'default', url: 'https://example.org/opam.git' }] }, 'miss'],
    ['another compiler', { compiler: '5.3.0' }, 'miss'],
    ['a compiler with the same prefix', { compiler: '5.4' }, 'miss'],
    ['another opam', { opamVersion: '2.3.0' }, 'miss'],
    ['another OS release', { osRelease: 'ubuntu-22.04' }, 'miss'],
    ['another arch', { arch: 'ARM64' }, 'miss'],
    ['another prefix', { prefix: 'v2' }, 'miss'],
  ])('%s → %s', (_, change, hit) => {
    expect(restores(saved, { ...BASE, ...change })).toBe(hit);
  });

  it('a saved compiler 5.4.1 is not restored for the prefix 5.4 and the other way round', () => {
    const prefix = opamCacheKeys({ ...BASE, compiler: '5.4' }).key;
    expect(restores(prefix, { ...BASE, dependencies: 'ffff' })).toBe('miss');
  });

  it('restore keys go from the longest to the shortest, each ending at a separator', () => {
    const { key, restoreKeys } = opamCacheKeys(BASE);
    expect(restoreKeys).toHaveLength(5);
    expect(restoreKeys[0]).toBe(`${key.slice(0, key.lastIndexOf('-'))}-`);
    for (const [i, prefix] of restoreKeys.entries()) {
      expect(prefix.endsWith('-')).toBe(true);
      expect(key.startsWith(prefix)).toBe(true);
      if (i > 0) expect(restoreKeys[i - 1]?.startsWith(prefix)).toBe(true);
    }
    expect(restoreKeys.at(-1)).toMatch(/-r[0-9a-f]{12}-$/);
  });

  it('the same root of the last period is restored before any other partial match', () => {
    const lastPeriod = opamCacheKeys({ ...BASE, period: 't2026w48' }).key;
    expect(lastPeriod.startsWith(opamCacheKeys(BASE).restoreKeys[0] ?? '')).toBe(true);
    expect(periodOfKey(lastPeriod)).toBe('t2026w48');
    expect(periodOfKey(saved)).toBe('t2026w49');
  });

  it('does not care how the mirage constraint is spaced', () => {
    expect(opamCacheKeys({ ...BASE, mirageVersion: '>=4.11.0 & <5.0.0' }).key).toBe(saved);
  });
});

describe('compilerKeyPart', () => {
  it('holds the system compiler version, not the word ocaml-system', () => {
    const system4 = opamCacheKeys({ ...BASE, compiler: compilerKeyPart('ocaml-system', '4.13.1') }).key;
    const system5 = opamCacheKeys({ ...BASE, compiler: compilerKeyPart('ocaml-system', '5.4.1') }).key;
    expect(system4).toContain('-ocamlsystem4.13.1-');
    expect(system5).toContain('-ocamlsystem5.4.1-');
    expect(system4).not.toContain('ocaml-system');
    expect(restores(system4, { ...BASE, compiler: compilerKeyPart('ocaml-system', '5.4.1') })).toBe('miss');
  });

  it('keeps any other compiler input as given', () => {
    expect(compilerKeyPart('5.4', undefined)).toBe('5.4');
    expect(compilerKeyPart('ocaml-variants.5.4.1+options', undefined)).toBe('ocaml-variants.5.4.1+options');
  });
});

describe('otherPeriodOnly', () => {
  const key = opamCacheKeys(BASE).key;

  it.each<[string, string | undefined, boolean]>([
    ['the same root of an earlier period', opamCacheKeys({ ...BASE, period: 't2026w48' }).key, true],
    ['this very key', key, false],
    [
      'another dependency hash of an earlier period',
      opamCacheKeys({ ...BASE, dependencies: 'ffff', period: 't2026w48' }).key,
      false,
    ],
    ['another target of this period', opamCacheKeys({ ...BASE, target: 'hvt' }).key, false],
    ['nothing restored', undefined, false],
  ])('%s: %s', (_, matched, expected) => {
    expect(otherPeriodOnly(key, matched)).toBe(expected);
  });
});

describe('stalePeriod', () => {
  const lastWeek = opamCacheKeys({ ...BASE, period: 't2026w48' }).key;
  const thisWeek = opamCacheKeys({ ...BASE, dependencies: 'ffff' }).key;

  it('names the period of a root restored from an earlier period', () => {
    expect(stalePeriod('partial', lastWeek, 't2026w49')).toBe('t2026w48');
  });

  it('is undefined for a partial hit of this period, an exact hit and a miss', () => {
    expect(stalePeriod('partial', thisWeek, 't2026w49')).toBeUndefined();
    expect(stalePeriod('exact', opamCacheKeys(BASE).key, 't2026w49')).toBeUndefined();
    expect(stalePeriod('miss', undefined, 't2026w49')).toBeUndefined();
  });
});

describe('refreshPeriod', () => {
  it.each<[string, Parameters<typeof refreshPeriod>[0], string]>([
    ['2026-11-30T23:59:59Z', { kind: 'daily' }, 't20261130'],
    ['2026-12-01T00:00:00Z', { kind: 'daily' }, 't20261201'],
    ['2026-11-30T12:00:00Z', { kind: 'monthly' }, 't202611'],
    ['2026-11-30T12:00:00Z', { kind: 'weekly' }, 't2026w49'],
    ['2026-12-06T23:59:59Z', { kind: 'weekly' }, 't2026w49'],
    ['2026-12-07T00:00:00Z', { kind: 'weekly' }, 't2026w50'],
    // ISO weeks: 1 January 2027 is a Friday, in the last week of 2026; 31 December 2024 a Tuesday, in 2025's first.
    ['2027-01-01T12:00:00Z', { kind: 'weekly' }, 't2026w53'],
    ['2024-12-31T12:00:00Z', { kind: 'weekly' }, 't2025w01'],
    ['2026-11-30T12:00:00Z', { kind: 'never' }, 'tnever'],
    ['2026-11-30T12:00:00Z', { kind: 'fixed', label: 'snap.2' }, 'tsnap.2'],
  ])('%s, %j → %s', (date, refresh, period) => {
    expect(refreshPeriod(refresh, new Date(date))).toBe(period);
    expect(period).not.toContain('-');
  });
});

describe('dependencyHash', () => {
  const config = { path: 'config.ml', content: 'let main = main "Unikernel" job' };
  const opam = { path: 'mirage/hello-unix.opam.locked', content: Buffer.from('depends: []') };

  it('does not depend on the order files were listed in', () => {
    expect(dependencyHash([config, opam])).toBe(dependencyHash([opam, config]));
    expect(dependencyHash([config])).toMatch(/^[0-9a-f]{16}$/);
  });

  it('changes with any content or name', () => {
    const base = dependencyHash([config, opam]);
    expect(dependencyHash([{ ...config, content: `${config.content} ` }, opam])).not.toBe(base);
    expect(dependencyHash([config, { ...opam, path: 'mirage/www-unix.opam.locked' }])).not.toBe(base);
    expect(dependencyHash([config])).not.toBe(base);
  });

  it('cannot be fooled by moving bytes from one file to the next', () => {
    expect(
      dependencyHash([
        { path: 'a.opam', content: 'xy' },
        { path: 'b.opam', content: 'z' },
      ]),
    ).not.toBe(
      dependencyHash([
        { path: 'a.opam', content: 'x' },
        { path: 'b.opam', content: 'yz' },
      ]),
    );
  });
});

describe('isDependencyInput', () => {
  it.each([
    ['hello.opam', true],
    ['mirage/hello-unix.opam.locked', true],
    ['mirage/hello-unix.opam', false],
    ['config.ml', false],
    ['unikernel.ml', false],
    ['sub/dir.opam', false],
    ['hello.opam.locked', false],
  ])('%s → %s', (path, yes) => {
    expect(isDependencyInput(path)).toBe(yes);
  });
});

describe('linuxRelease', () => {
  it.each([
    [
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
      'debian-12',
    ],
    ['NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n', 'ubuntu-24.04'],
    ['ID=arch\nBUILD_ID=rolling\n', 'arch-rolling'],
    ['', 'linux-unknown'],
  ])('%j → %s', (text, release) => {
    expect(linuxRelease(text)).toBe(release);
  });
});

describe('build cache keys', () => {
  const a = { name: 'a-unix.opam.locked', content: 'depends: [ "lwt" ]' };
  const b = { name: 'b-unix.opam.locked', content: 'depends: [ "fmt" ]' };

  it('digests lock files whatever their order, and changes with any byte or name', () => {
    expect(lockFilesDigest([a, b])).toBe(lockFilesDigest([b, a]));
    expect(lockFilesDigest([a, b])).toMatch(/^[0-9a-f]{64}$/);
    expect(lockFilesDigest([a])).not.toBe(lockFilesDigest([{ ...a, content: 'depends: [ "lwt" ] ' }]));
    expect(lockFilesDigest([a])).not.toBe(lockFilesDigest([{ ...a, name: 'c-unix.opam.locked' }]));
    // Name and content are separated, so moving bytes between them is a different digest.
    expect(lockFilesDigest([{ name: 'ab', content: 'c' }])).not.toBe(lockFilesDigest([{ name: 'a', content: 'bc' }]));
  });

  it('restores the duniverse only from its exact key', () => {
    expect(duniverseCacheKeys('v1', 'Linux', 'xen', 'abc')).toEqual({
      key: 'v1-duniverse-Linux-xen-abc',
      restoreKeys: [],
    });
  });

  it('restores the dune cache from the same folder and target first, then the same folder, never another folder', () => {
    const keys = duneCacheKeys('v2', 'macOS', 'ARM64', 'unix', 'abc', '/Users/runner/work/r/r/a');
    const folder = /^v2-dune-macOS-ARM64-(f[0-9a-f]{12})-unix-abc$/.exec(keys.key)?.[1];
    expect(folder).toBeDefined();
    expect(keys).toEqual({
      key: `v2-dune-macOS-ARM64-${folder}-unix-abc`,
      restoreKeys: [`v2-dune-macOS-ARM64-${folder}-unix-`, `v2-dune-macOS-ARM64-${folder}-`],
    });
    const other = duneCacheKeys('v2', 'macOS', 'ARM64', 'unix', 'abc', '/Users/runner/work/r/r/b');
    expect(other.key).not.toBe(keys.key);
    for (const prefix of other.restoreKeys) expect(keys.key.startsWith(prefix)).toBe(false);
    expect(duneCacheKeys('v2', 'macOS', 'ARM64', 'unix', 'abc', '/Users/runner/work/r/r/a')).toEqual(keys);
  });
});
