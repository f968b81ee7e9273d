/**
 * What the build runs, decided from the Config alone: the commands and their environment. No
 * process is started here.
 */
import { join } from 'node:path';
import type { BuildConfig, ReproducibleMode } from '../config.js';
import type { CacheHit } from '../types.js';

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
 * root: its repositories are in the very state the stored lock was made from, and its switch has
 * what that lock's install-switch installed. The Makefile and opam files must be the ones locked
 * (configure arguments are not in the key). System packages are in no cache: the action checks
 * them on every run (system-packages.ts), and a Makefile configured with `--depext` still runs its
 * depext target.
 */
export function planDepend(
  rootHit: CacheHit,
  stored: StoredLock | undefined,
  inputs: string,
  makefile: string,
): DependPlan {
  if (rootHit !== 'exact') return { reuse: false, reason: `the opam root was a ${rootHit}` };
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
}

export interface StepDecision {
  readonly run: boolean;
  /** Why it runs or is skipped, for the log. */
  readonly why: string;
}

function dependDecision(step: 'lock' | 'install-switch' | 'depext', s: BuildSnapshot): StepDecision {
  const plan = s.lockedThisRun
    ? ({ reuse: false, reason: '`make lock` ran in this build' } as const)
    : planDepend(s.rootHit, s.storedLock, s.lockInputs.digest, s.lockInputs.makefile);
  if (!plan.reuse) {
    return step === 'depext'
      ? { run: false, why: '`make install-switch` installs the system packages' }
      : { run: true, why: plan.reason };
  }
  if (step === 'lock') {
    return { run: false, why: 'the lock files come with the opam root (exact hit, the same Makefile and opam file)' };
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
    case 'reproducibility':
      return s.reproducible === 'off'
        ? { run: false, why: 'input `reproducible` is off' }
        : { run: true, why: `input \`reproducible: ${s.reproducible}\`` };
  }
}
