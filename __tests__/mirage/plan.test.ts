import { describe, expect, it } from 'vitest';
import type { BuildConfig } from '../../src/config.js';
import {
  buildCommand,
  buildEnvironment,
  commandLine,
  configureCommand,
  duneCacheKeys,
  duneCacheRoot,
  duniverseCacheKeys,
  formatSeconds,
  formatSize,
  lockFilesDigest,
  makeCommand,
  planDepend,
} from '../../src/mirage/plan.js';

const build = (over: Partial<BuildConfig> = {}): BuildConfig => ({
  target: 'hvt',
  workingDirectory: '/w/unikernel',
  configFile: 'config.ml',
  configureArgs: [],
  buildCommand: [],
  reproducible: 'off',
  ...over,
});

describe('commands', () => {
  it.each<[Partial<BuildConfig>, string]>([
    [{}, 'mirage configure -t hvt -f config.ml'],
    [{ target: 'unikraft-qemu', configFile: 'www.ml' }, 'mirage configure -t unikraft-qemu -f www.ml'],
    [{ configureArgs: ['--net=socket', '--no-dhcp'] }, 'mirage configure -t hvt -f config.ml --net=socket --no-dhcp'],
  ])('configure %j', (over, line) => {
    expect(commandLine(configureCommand(build(over)))).toBe(line);
  });

  it('runs make targets with one job per core, and build-command in place of make build', () => {
    expect(makeCommand('pull', 4)).toEqual({ program: 'make', args: ['-j4', 'pull'] });
    expect(buildCommand(build(), 2)).toEqual({ program: 'make', args: ['-j2', 'build'] });
    expect(buildCommand(build({ buildCommand: ['./build.sh', '--fast'] }), 2)).toEqual({
      program: './build.sh',
      args: ['--fast'],
    });
  });
});

describe('environment', () => {
  it('adds parallelism and the dune cache to the switch environment', () => {
    const env = buildEnvironment({ OPAMROOT: '/r', PATH: '/r/s/bin:/usr/bin', OPAMJOBS: '1' }, 3, '/h/dune');
    expect(env).toEqual({
      OPAMROOT: '/r',
      PATH: '/r/s/bin:/usr/bin',
      OPAMJOBS: '3',
      DUNE_JOBS: '3',
      DUNE_CACHE: 'enabled',
      DUNE_CACHE_ROOT: '/h/dune',
    });
  });

  it('keeps a dune cache root the user chose', () => {
    expect(duneCacheRoot({}, '/home/runner')).toBe('/home/runner/.cache/mirage-deploy/dune');
    expect(duneCacheRoot({ DUNE_CACHE_ROOT: '' }, '/home/runner')).toBe('/home/runner/.cache/mirage-deploy/dune');
    expect(duneCacheRoot({ DUNE_CACHE_ROOT: '/mnt/dune' }, '/home/runner')).toBe('/mnt/dune');
  });
});

describe('cache keys', () => {
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

  it('restores the dune cache from the same target first, then any', () => {
    expect(duneCacheKeys('v2', 'macOS', 'ARM64', 'unix', 'abc')).toEqual({
      key: 'v2-dune-macOS-ARM64-unix-abc',
      restoreKeys: ['v2-dune-macOS-ARM64-unix-', 'v2-dune-macOS-ARM64-'],
    });
  });
});

describe('planDepend', () => {
  const lock = { name: 'hello-unix.opam.locked', content: 'depends: []' };
  const stored = { inputs: 'digest-a', files: [lock] };
  const makefile = 'lock::\n\t@$(MAKE) -B x\n\ndepext-lockfile: $(MIRAGE_DIR)/x.opam.locked\n\techo\n';

  it('reuses the stored lock and runs only the depext target on an exact hit of the same inputs', () => {
    expect(planDepend('exact', stored, 'digest-a', makefile)).toEqual({
      reuse: true,
      files: [lock],
      depextTarget: 'depext-lockfile',
    });
  });

  it('has no depext target to run when mirage was configured with --no-depext', () => {
    expect(planDepend('exact', stored, 'digest-a', 'lock::\n')).toEqual({ reuse: true, files: [lock] });
  });

  it.each([
    ['a partial hit', 'partial', stored, 'digest-a', /a partial/],
    ['a miss', 'miss', stored, 'digest-a', /a miss/],
    ['no stored lock', 'exact', undefined, 'digest-a', /no lock file/],
    ['a stored lock with no files', 'exact', { inputs: 'digest-a', files: [] }, 'digest-a', /no lock file/],
    ['other configure output', 'exact', stored, 'digest-b', /another Makefile or opam file/],
  ] as const)('locks and installs again after %s', (_, hit, lockStored, inputs, reason) => {
    const plan = planDepend(hit, lockStored, inputs, makefile);
    expect(plan.reuse).toBe(false);
    expect(plan.reuse ? '' : plan.reason).toMatch(reason);
  });
});

describe('formatting', () => {
  it.each<[number, string]>([
    [0, '0 bytes'],
    [1023, '1023 bytes'],
    [1024, '1.0 KiB (1024 bytes)'],
    [5_242_880, '5.0 MiB (5242880 bytes)'],
  ])('%d bytes → %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('shows seconds with one decimal', () => {
    expect(formatSeconds(0.349)).toBe('0.3 s');
    expect(formatSeconds(12)).toBe('12.0 s');
  });
});
