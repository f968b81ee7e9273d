import { describe, expect, it } from 'vitest';
import type { BuildConfig } from '../../src/config.js';
import {
  BUILD_STEPS,
  buildCommand,
  buildEnvironment,
  commandLine,
  configureCommand,
  decideStep,
  duneCacheRoot,
  makeCommand,
  planDepend,
  type BuildSnapshot,
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
    [{}, 'mirage configure -t hvt -f config.ml --no-depext'],
    [{ target: 'unikraft-qemu', configFile: 'www.ml' }, 'mirage configure -t unikraft-qemu -f www.ml --no-depext'],
    [
      { configureArgs: ['--net=socket', '--no-dhcp'] },
      'mirage configure -t hvt -f config.ml --no-depext --net=socket --no-dhcp',
    ],
    // The user's choice stands (opam's depext then runs in the Makefile's depext-lockfile step).
    [{ configureArgs: ['--depext'] }, 'mirage configure -t hvt -f config.ml --depext'],
    [{ configureArgs: ['--no-depext'] }, 'mirage configure -t hvt -f config.ml --no-depext'],
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

describe('decideStep', () => {
  const lock = { inputs: 'digest', files: [{ name: 'hello-unix.opam.locked', content: 'x' }] };
  const base: BuildSnapshot = {
    rootHit: 'exact',
    storedLock: lock,
    lockInputs: { digest: 'digest', makefile: 'depext-lockfile:\n\topam-monorepo depext' },
    lockedThisRun: false,
    duniverseRestored: false,
    reproducible: 'off',
  };
  const run = (over: Partial<BuildSnapshot>) =>
    Object.fromEntries(BUILD_STEPS.map((step) => [step, decideStep(step, { ...base, ...over }).run]));

  it.each([
    ['exact hit, same inputs: lock and switch reused, depext runs', {}, { lock: false, 'install-switch': false, depext: true }],
    ['exact hit, no depext target', { lockInputs: { digest: 'digest', makefile: 'build:' } }, { lock: false, 'install-switch': false, depext: false }],
    ['partial hit: lock and install-switch', { rootHit: 'partial' as const }, { lock: true, 'install-switch': true, depext: false }],
    ['other Makefile', { lockInputs: { digest: 'other', makefile: '' } }, { lock: true, 'install-switch': true, depext: false }],
    ['lock ran in this build: install-switch runs though the stored lock now matches', { lockedThisRun: true }, { lock: true, 'install-switch': true, depext: false }],
  ])('%s', (_, over, expected) => {
    expect(run(over)).toMatchObject({ configure: true, build: true, ...expected });
  }); // prettier-ignore

  it('pull is skipped when duniverse/ came from the cache; reproducibility only when asked', () => {
    expect(run({ duniverseRestored: true })).toMatchObject({ pull: false, reproducibility: false });
    expect(run({ reproducible: 'check' })).toMatchObject({ pull: true, reproducibility: true });
  });
});
