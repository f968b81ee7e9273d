/**
 * What the build runs, decided from the Config alone: the commands and their environment. No
 * process is started here.
 */
import { join } from 'node:path';
import type { BuildConfig, ReproducibleMode } from '../config.js';
import { CONNECT_SECONDS, LOW_SPEED_BYTES } from '../deadlines.js';
import type { CacheHit } from '../types.js';
import type { BootTestMode } from './boot-test.js';

export interface Command {
  readonly program: string;
  readonly args: readonly string[];
}

export function commandLine(command: Command): string {
  return [command.program, ...command.args].join(' ');
}

/**
 * `--no-depext` unless `configure-args` chose: the action installs the system packages itself,
 * outside the build's sandbox, so the Makefile needs no `depext-lockfile` step (which would run
 * `opam monorepo depext`, that is apt-get, from inside it).
 */
export function configureCommand(build: BuildConfig): Command {
  const chosen = build.configureArgs.some((a) => a === '--depext' || a === '--no-depext');
  return {
    program: 'mirage',
    args: [
      'configure',
      '-t',
      build.target,
      '-f',
      build.configFile,
      ...(chosen ? [] : ['--no-depext']),
      ...build.configureArgs,
    ],
  };
}

/** One target of the generated Makefile (`lock`, `install-switch`, `pull`, `build`). */
export function makeCommand(target: string, cores: number): Command {
  return { program: 'make', args: [`-j${cores}`, target] };
}

export function buildCommand(build: BuildConfig, cores: number): Command {
  const [program, ...args] = build.buildCommand;
  return program === undefined ? makeCommand('build', cores) : { program, args };
}

/** Where dune keeps its shared cache: the user's choice if set, else a fixed folder under home. */
export function duneCacheRoot(env: Readonly<Record<string, string | undefined>>, home: string): string {
  return env.DUNE_CACHE_ROOT || join(home, '.cache', 'mirage-deploy', 'dune');
}

/**
 * The switch's environment plus parallelism for opam and dune, and dune's shared cache, which is
 * what makes a rebuild after a cache restore fast.
 */
export function buildEnvironment(
  setupEnv: Readonly<Record<string, string>>,
  cores: number,
  cacheRoot: string,
): Record<string, string> {
  return {
    ...setupEnv,
    OPAMJOBS: String(cores),
    DUNE_JOBS: String(cores),
    DUNE_CACHE: 'enabled',
    DUNE_CACHE_ROOT: cacheRoot,
  };
}

/** What the unikernel's folder is called in everything the compilers record (debug info, locations). */
export const MAPPED_FOLDER = '/unikernel';

/** BUILD_PATH_PREFIX_MAP's escaping of one path (its `%`, `=` and `:`). */
function encodePrefixMapPath(path: string): string {
  return path.replace(/%/g, '%#').replace(/=/g, '%+').replace(/:/g, '%.');
}

/**
 * BUILD_PATH_PREFIX_MAP naming `dir` as MAPPED_FOLDER, after what the environment already maps
 * (the rightmost matching pair wins). OCaml honours it in every path it records, including the
 * assembler's compilation folder; dune 3 adds its own pair for its build root on top. The C
 * compiler ignores it: see withCFolderMap.
 */
export function pathPrefixMap(existing: string | undefined, dir: string): string {
  const pair = `${encodePrefixMapPath(MAPPED_FOLDER)}=${encodePrefixMapPath(dir)}`;
  return existing ? `${existing}:${pair}` : pair;
}

/** The variable naming the unikernel's folder for the C compiler's map (withCFolderMap). */
export const FOLDER_VARIABLE = 'MIRAGE_DEPLOY_UNIKERNEL';

/** The build environment for a build in `dir`: `env` with `dir` mapped (pathPrefixMap, withCFolderMap). */
export function inFolder(env: Readonly<Record<string, string>>, dir: string): Record<string, string> {
  return { ...env, BUILD_PATH_PREFIX_MAP: pathPrefixMap(env.BUILD_PATH_PREFIX_MAP, dir), [FOLDER_VARIABLE]: dir };
}

const C_FOLDER_MAP =
  '\n; mirage-deploy: C stubs name the unikernel folder as /unikernel, as OCaml does (BUILD_PATH_PREFIX_MAP)\n' +
  `(env (_ (c_flags (:standard -ffile-prefix-map=%{env:${FOLDER_VARIABLE}=/nonexistent}=${MAPPED_FOLDER}))))\n`;

/**
 * The generated `dune-workspace` with the C compiler's folder mapped too: the C compiler ignores
 * BUILD_PATH_PREFIX_MAP and dune passes it no flag from the environment, but a workspace `env`
 * stanza's `c_flags` reach every stub built with `:standard` flags. The text names the folder only
 * through FOLDER_VARIABLE, so it is the same in every folder (and in the reproducibility check's
 * copy). The same text when it has this stanza already; undefined when it has a workspace `env`
 * stanza of its own (a second one is an error). A context's own `env` (mirage's unikraft contexts)
 * builds on this one through `:standard`. dune's cache is kept per folder for what stays unmapped.
 */
export function withCFolderMap(workspace: string): string | undefined {
  if (workspace.includes(C_FOLDER_MAP)) return workspace;
  if (/^\(env\b/m.test(workspace)) return undefined;
  return `${workspace.endsWith('\n') ? workspace : `${workspace}\n`}${C_FOLDER_MAP}`;
}

/**
 * curl's configuration file (`.curlrc`) for the build steps. `opam monorepo pull` downloads
 * archives with opam's library and its default command, a plain `curl` that reads no OPAMFETCH
 * (opam-monorepo never loads opam's settings) but does read `$CURL_HOME/.curlrc`: the same connect
 * and speed limits as opam's own downloads (opam/plan.ts fetchVariables). Git sources go through
 * `git`, which the GIT_HTTP_LOW_SPEED pair of the setup already bounds.
 */
export function curlConfig(lowSpeedSeconds: number): string {
  const connect = Math.min(CONNECT_SECONDS, lowSpeedSeconds);
  return `connect-timeout = ${connect}\nspeed-limit = ${LOW_SPEED_BYTES}\nspeed-time = ${lowSpeedSeconds}\n`;
}

/** Whether the build gets that file: not when the job has its own curl configuration, which it would hide. */
export function wantsCurlConfig(env: Readonly<Record<string, string | undefined>>, homeHasCurlrc: boolean): boolean {
  return !env.CURL_HOME && !homeHasCurlrc;
}

/** A file of the unikernel's folder, by name: a lock file, or one of what `make lock` reads. */
export interface NamedFile {
  readonly name: string;
  readonly content: string;
}

/** The lock files `make lock` wrote, kept in the opam root so that they are cached with it. */
export interface StoredLock {
  /** lockFilesDigest() of the Makefile and mirage/*.opam they were locked from. */
  readonly inputs: string;
  readonly files: readonly NamedFile[];
}

export type DependPlan =
  | { readonly reuse: false; readonly reason: string }
  | {
      readonly reuse: true;
      readonly files: readonly NamedFile[];
      /** The Makefile's own target for the lock's system packages, when it has one. */
      readonly depextTarget?: string;
    };

export const DEPEXT_TARGET = 'depext-lockfile';

/**
 * Whether `make lock` and `make install-switch` can be skipped. Only on an exact hit of the opam
 * root (its repositories are in the very state the stored lock was made from, and its switch has
 * what that lock's install-switch installed), or when a refresh of the same root changed nothing
 * the lock names (`lockKept`, from opam/plan.ts planRelock). The Makefile and opam files must be
 * the ones locked (configure arguments are not in the key). System packages are in no cache: the
 * action checks them on every run (system-packages.ts), and a Makefile configured with `--depext`
 * still runs its depext target.
 */
export function planDepend(
  rootHit: CacheHit,
  stored: StoredLock | undefined,
  inputs: string,
  makefile: string,
  lockKept = false,
): DependPlan {
  if (rootHit !== 'exact' && !lockKept) return { reuse: false, reason: `the opam root was a ${rootHit}` };
  if (stored === undefined || stored.files.length === 0) {
    return { reuse: false, reason: 'the cached opam root holds no lock file' };
  }
  if (stored.inputs !== inputs) {
    return { reuse: false, reason: 'mirage configure wrote another Makefile or opam file than the one locked' };
  }
  const depext = new RegExp(`^${DEPEXT_TARGET}:`, 'm').test(makefile);
  return { reuse: true, files: stored.files, ...(depext ? { depextTarget: DEPEXT_TARGET } : {}) };
}

/** The build's named steps, in order; each is run or skipped on a snapshot read just before it. */
export const BUILD_STEPS = [
  'configure',
  'lock',
  'install-switch',
  'depext',
  'pull',
  'build',
  'boot-test',
  'reproducibility',
] as const;
export type BuildStepName = (typeof BUILD_STEPS)[number];

/** What a step's decision depends on, read from the runner just before the step. */
export interface BuildSnapshot {
  readonly rootHit: CacheHit;
  /** The lock kept in the opam root, when caching. */
  readonly storedLock?: StoredLock;
  /** What configure wrote: lockFilesDigest() of the Makefile and mirage/*.opam, and the Makefile. */
  readonly lockInputs: { readonly digest: string; readonly makefile: string };
  /** `make lock` ran in this build: the switch must install what it locked. */
  readonly lockedThisRun: boolean;
  readonly duniverseRestored: boolean;
  readonly reproducible: ReproducibleMode;
  /** A new cache-refresh period changed nothing the stored lock names (opam/plan.ts planRelock). */
  readonly lockKept?: boolean;
  /** Input `boot-test`; absent: off. */
  readonly bootTest?: BootTestMode;
  /** `rebuild`: the deployed folder's lock file is put in place of `make lock`'s, in a fresh switch. */
  readonly recordedLock?: boolean;
}

export interface StepDecision {
  readonly run: boolean;
  /** Why it runs or is skipped, for the log. */
  readonly why: string;
}

/** A rebuild locks nothing: it builds what the deployed image was built from, in a switch installed from scratch. */
function recordedLockDecision(step: 'lock' | 'install-switch' | 'depext'): StepDecision {
  switch (step) {
    case 'lock':
      return { run: false, why: "the rebuilt folder's recorded lock file is used (`rebuild`)" };
    case 'install-switch':
      return { run: true, why: 'the switch installs what the recorded lock file names (`rebuild`: no cache)' };
    case 'depext':
      return { run: false, why: '`make install-switch` installs the system packages' };
  }
}

function dependDecision(step: 'lock' | 'install-switch' | 'depext', s: BuildSnapshot): StepDecision {
  if (s.recordedLock === true) return recordedLockDecision(step);
  const plan = s.lockedThisRun
    ? ({ reuse: false, reason: '`make lock` ran in this build' } as const)
    : planDepend(s.rootHit, s.storedLock, s.lockInputs.digest, s.lockInputs.makefile, s.lockKept ?? false);
  if (!plan.reuse) {
    return step === 'depext'
      ? { run: false, why: '`make install-switch` installs the system packages' }
      : { run: true, why: plan.reason };
  }
  if (step === 'lock') {
    const how = s.lockKept ? 'refreshed, no locked package changed' : 'exact hit';
    return { run: false, why: `the lock files come with the opam root (${how}, the same Makefile and opam file)` };
  }
  if (step === 'install-switch') {
    return plan.depextTarget === undefined
      ? {
          run: false,
          why: 'the switch is exactly the cached one (the Makefile has no depext target: configured with --no-depext)',
        }
      : { run: false, why: "the switch is exactly the cached one; the lock's system packages install on their own" };
  }
  return plan.depextTarget === undefined
    ? { run: false, why: 'the Makefile has no depext target (configured with --no-depext)' }
    : { run: true, why: "the switch is the cached one; the lock's system packages are in no cache" };
}

export function decideStep(step: BuildStepName, s: BuildSnapshot): StepDecision {
  switch (step) {
    case 'configure':
    case 'build':
      return { run: true, why: 'always' };
    case 'lock':
    case 'install-switch':
    case 'depext':
      return dependDecision(step, s);
    case 'pull':
      return s.duniverseRestored
        ? { run: false, why: 'duniverse/ restored from the cache for this lock file' }
        : { run: true, why: 'duniverse/ is not cached for this lock file' };
    case 'boot-test':
      return s.bootTest === undefined || s.bootTest === 'off'
        ? { run: false, why: 'input `boot-test` is off' }
        : { run: true, why: `input \`boot-test: ${s.bootTest}\`` };
    case 'reproducibility':
      return s.reproducible === 'off'
        ? { run: false, why: 'input `reproducible` is off' }
        : { run: true, why: `input \`reproducible: ${s.reproducible}\`` };
  }
}
