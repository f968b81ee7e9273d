import { describe, expect, it } from 'vitest';
import type { BuildConfig } from '../../src/config.js';
import {
  BUILD_STEPS,
  buildCommand,
  buildEnvironment,
  commandLine,
  configureCommand,
  decideStep,
  curlConfig,
  duneCacheRoot,
  inFolder,
  makeCommand,
  pathPrefixMap,
  planDepend,
  type BuildSnapshot,
  wantsCurlConfig,
  withCFolderMap,
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

describe('the unikernel folder mapped for the compilers', () => {
  it.each<[string | undefined, string, string]>([
    [undefined, '/home/runner/work/r/r/unikernel', '/unikernel=/home/runner/work/r/r/unikernel'],
    ['', '/w/u', '/unikernel=/w/u'],
    // the user's own pairs stay, and ours comes last: the rightmost matching pair wins
    ['/src=/home/me/src', '/w/u', '/src=/home/me/src:/unikernel=/w/u'],
    // `%`, `=` and `:` in a folder are escaped as the specification says
    [undefined, '/w/a=b:c%d', '/unikernel=/w/a%+b%.c%#d'],
  ])('after %j, %s is mapped as %s', (existing, dir, map) => {
    expect(pathPrefixMap(existing, dir)).toBe(map);
  });

  it('two folders of the same source get environments that differ only in the folder mapped', () => {
    const env = { PATH: '/usr/bin', BUILD_PATH_PREFIX_MAP: '/x=/y' };
    expect(inFolder(env, '/a/hello')).toEqual({
      PATH: '/usr/bin',
      BUILD_PATH_PREFIX_MAP: '/x=/y:/unikernel=/a/hello',
      MIRAGE_DEPLOY_UNIKERNEL: '/a/hello',
    });
    expect(inFolder(env, '/tmp/copy/hello').BUILD_PATH_PREFIX_MAP).toBe('/x=/y:/unikernel=/tmp/copy/hello');
    expect(env.BUILD_PATH_PREFIX_MAP).toBe('/x=/y');
  });
});

describe("curl's limits for the build steps", () => {
  it('connect, speed limit and speed time, shortened with the stall time', () => {
    expect(curlConfig(60)).toBe('connect-timeout = 30\nspeed-limit = 1000\nspeed-time = 60\n');
    expect(curlConfig(3)).toBe('connect-timeout = 3\nspeed-limit = 1000\nspeed-time = 3\n');
  });

  it.each<[Record<string, string>, boolean, boolean]>([
    [{}, false, true],
    [{ CURL_HOME: '/etc/mine' }, false, false],
    [{}, true, false],
    [{ CURL_HOME: '' }, false, true],
  ])('CURL_HOME %j, a ~/.curlrc: %s → %s', (env, curlrc, wanted) => {
    expect(wantsCurlConfig(env, curlrc)).toBe(wanted);
  });
});

describe("the C compiler's folder map in dune-workspace", () => {
  const generated = '(lang dune 3.0)\n(context (default))\n';

  it('appends one env stanza whose c_flags map the folder named by the variable, never the folder itself', () => {
    const mapped = withCFolderMap(generated) ?? '';
    expect(mapped.startsWith(generated)).toBe(true);
    expect(mapped).toContain(
      '(env (_ (c_flags (:standard -ffile-prefix-map=%{env:MIRAGE_DEPLOY_UNIKERNEL=/nonexistent}=/unikernel))))\n',
    );
    expect(mapped.match(/\(env\b/g)).toHaveLength(1);
    expect(withCFolderMap('(lang dune 3.0)')).toBe(`(lang dune 3.0)\n${mapped.slice(generated.length)}`);
  });

  it('is idempotent, and leaves a workspace with an env stanza of its own alone', () => {
    const mapped = withCFolderMap(generated) ?? '';
    expect(withCFolderMap(mapped)).toBe(mapped);
    expect(withCFolderMap('(lang dune 3.0)\n(env (release (flags (:standard))))\n')).toBeUndefined();
  });

  it("maps a workspace whose context has its own env (mirage's unikraft contexts), which builds on it", () => {
    const unikraft =
      '(lang dune 3.0)\n(context default)\n\n(context\n (default\n  (name unikraft)\n  (toolchain unikraft)\n' +
      '  (env\n   (_\n    (c_flags :standard -z unikraft-backend=qemu)))))\n';
    expect(withCFolderMap(unikraft)).toContain(`${unikraft}\n; mirage-deploy:`);
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

  it('reuses the stored lock on a partial hit when a refresh changed nothing it names', () => {
    expect(planDepend('partial', stored, 'digest-a', makefile, true)).toEqual({
      reuse: true,
      files: [lock],
      depextTarget: 'depext-lockfile',
    });
    expect(planDepend('partial', stored, 'digest-b', makefile, true)).toMatchObject({ reuse: false });
    expect(planDepend('partial', undefined, 'digest-a', makefile, true)).toMatchObject({ reuse: false });
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
    ['rebuild: the recorded lock, a fresh switch', { rootHit: 'miss' as const, recordedLock: true }, { lock: false, 'install-switch': true, depext: false }],
    ['rebuild: the recorded lock wins over a stored one', { recordedLock: true }, { lock: false, 'install-switch': true, depext: false }],
  ])('%s', (_, over, expected) => {
    expect(run(over)).toMatchObject({ configure: true, build: true, ...expected });
  }); // prettier-ignore

  it('pull is skipped when duniverse/ came from the cache; reproducibility only when asked', () => {
    expect(run({ duniverseRestored: true })).toMatchObject({ pull: false, reproducibility: false });
    expect(run({ reproducible: 'check' })).toMatchObject({ pull: true, reproducibility: true });
  });

  it('the boot test runs unless input `boot-test` is off (or not given)', () => {
    expect(run({ bootTest: 'auto' })).toMatchObject({ 'boot-test': true });
    expect(run({ bootTest: 'required' })).toMatchObject({ 'boot-test': true });
    expect(run({ bootTest: 'off' })).toMatchObject({ 'boot-test': false });
    expect(run({})).toMatchObject({ 'boot-test': false });
    expect(BUILD_STEPS.indexOf('boot-test')).toBe(BUILD_STEPS.indexOf('build') + 1);
  });
});
