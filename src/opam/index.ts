/**
 * The setup phase: a verified opam, an opam root restored from the cache, converged to the inputs
 * (repositories, compiler switch, pins, mirage + opam-monorepo), and the environment exported for
 * every later step. An exact cache hit runs no `opam init`, `opam update` or `opam install`.
 */
import * as core from '@actions/core';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { registerCacheSave, restoreCacheEntry, type CacheSpec } from '../cache/index.js';
import type { Config, SetupConfig } from '../config.js';
import { defined } from '../defined.js';
import type { RunContext } from '../context.js';
import { deadline, LOW_SPEED_SECONDS, seconds as wholeSeconds } from '../deadlines.js';
import { findProgram, runCommand } from '../exec.js';
import type { BuildRunner } from '../sandbox/index.js';
import { switchVariables } from '../sandbox/plan.js';
import { addPathForLaterSteps, exportForLaterSteps, jobPath } from '../sandbox/tools.js';
import { timedGroup } from '../log.js';
import { summaryRow } from '../summary.js';
import type { OpamSetup } from '../types.js';
import { installOpam } from './binary.js';
import { COMPILER_VERSIONS_QUERY, compilerPackage, parseVersionList } from './compiler.js';
import {
  compilerKeyPart,
  dependencyHash,
  isDependencyInput,
  linuxRelease,
  opamCacheKeys,
  refreshPeriod,
  otherPeriodOnly,
  stalePeriod,
  type DependencyFile,
} from '../cache/keys.js';
import {
  SWITCH_NAME,
  fetchVariables,
  installedVersions,
  keepsRestoredRoot,
  lockedStateQueries,
  opamVariables,
  parseEnvSexp,
  parsePinList,
  parseRepositoryList,
  planRepositories,
  planSetup,
  relockAfterUpdate,
  repositoriesUnchanged,
  relockMessage,
  requirementsOpamFile,
  type CacheOutcome,
  type KnownRepository,
  type LockBeforeUpdate,
  type LockedState,
  type LockedVersion,
  type OpamSandbox,
  type OpamState,
  type RelockPlan,
  type RelockStep,
  type SetupPlan,
  type SetupSnapshot,
} from './plan.js';
import { prepareSandbox } from './sandbox.js';
import { readStoredLock } from '../mirage/caches.js';
import { parseLockFile } from '../sbom/lock.js';

/**
 * Runs opam with the action's variables, through the build runner: opam's root is written by
 * what the build installs, and its configuration can hold commands, so opam never runs outside it.
 * Queries are quiet but still named in the log.
 */
class Opam {
  constructor(
    readonly path: string,
    readonly env: Record<string, string>,
    private readonly runner: BuildRunner,
    private readonly cwd: string,
  ) {}

  /** Resolves with what opam printed (coloured, as the log shows it). */
  async run(args: readonly string[]): Promise<string> {
    return (await this.runner.mustRun({ program: this.path, args }, { cwd: this.cwd, env: this.env })).stdout;
  }

  /** Output to parse: without the colours that OPAMCOLOR=always puts in for the log. */
  async query(args: readonly string[]): Promise<string> {
    core.info(`(query) opam ${args.join(' ')}`);
    const env = { ...this.env, OPAMCOLOR: 'never' };
    return (await this.runner.mustRun({ program: this.path, args }, { cwd: this.cwd, env, silent: true })).stdout;
  }
}

export function opamRoot(): string {
  return process.env.OPAMROOT || join(homedir(), '.opam');
}

async function osRelease(ctx: RunContext): Promise<string> {
  if (ctx.runnerOs === 'macOS') {
    const result = await runCommand('sw_vers', ['-productVersion'], { silent: true });
    return `macos-${result.stdout.trim() || 'unknown'}`;
  }
  try {
    return linuxRelease(readFileSync('/etc/os-release', 'utf8'));
  } catch {
    return 'linux-unknown';
  }
}

function dependencyFiles(config: Config): DependencyFile[] {
  const dir = config.build.workingDirectory;
  const files: DependencyFile[] = [];
  const add = (path: string): void => {
    const full = join(dir, path);
    if (existsSync(full)) files.push({ path, content: readFileSync(full) });
  };
  add(config.build.configFile);
  const list = (sub: string): string[] =>
    existsSync(join(dir, sub)) ? readdirSync(join(dir, sub)).map((f) => (sub ? `${sub}/${f}` : f)) : [];
  for (const path of [...list(''), ...list('mirage')]) if (isDependencyInput(path)) add(path);
  return files;
}

/**
 * The runner's OCaml, which `ocaml-system` is: its version goes into the cache key. Found on the
 * job's PATH, as the build will find it, and run in the sandbox like the build.
 */
async function systemCompilerVersion(runner: BuildRunner, cwd: string): Promise<string> {
  const env = { PATH: jobPath() };
  const ocamlc = findProgram('ocamlc', env);
  const result =
    ocamlc === undefined
      ? undefined
      : await runner.run({ program: ocamlc, args: ['-vnum'] }, { cwd, env, silent: true });
  const version = result?.exitCode === 0 ? result.stdout.trim() : '';
  if (!/^\d+\.\d+\S*$/.test(version)) {
    throw new Error(
      'input `ocaml-compiler`: `ocaml-system` uses the OCaml on PATH, but `ocamlc -vnum` ' +
        (ocamlc === undefined ? 'found no ocamlc' : `printed \`${version}\``) +
        '; install OCaml on the runner (e.g. `apt-get install ocaml-nox`) or give a version such as `5.4.1`',
    );
  }
  return version;
}

/** The packages of the lock the restored root holds; none when it holds none or one not readable. */
function storedLockVersions(root: string): LockedVersion[] {
  try {
    const files = readStoredLock(root)?.files ?? [];
    return files.flatMap((f) => parseLockFile(f.content).packages.map(({ name, version }) => ({ name, version })));
  } catch {
    return [];
  }
}

/** What the repositories say about the locked packages; undefined when opam cannot show one. */
async function lockedState(opam: Opam, locked: readonly LockedVersion[]): Promise<LockedState | undefined> {
  if (locked.length === 0) return undefined;
  const queries = lockedStateQueries(locked);
  try {
    return { versions: await opam.query(queries.versions), files: await opam.query(queries.files) };
  } catch {
    return undefined;
  }
}

interface RootRestore {
  readonly cache: CacheOutcome;
  readonly spec?: CacheSpec;
}

/** The opam root from the cache, and whether it is of an earlier refresh period. */
async function restoreRoot(
  config: Config,
  ctx: RunContext,
  root: string,
  opamVersion: string,
  runner: BuildRunner,
): Promise<RootRestore> {
  const { setup } = config;
  if (!setup.cache) return { cache: { hit: 'miss', sameRoot: false } };
  const systemVersion =
    setup.ocamlCompiler.kind === 'system'
      ? await systemCompilerVersion(runner, config.build.workingDirectory)
      : undefined;
  const period = refreshPeriod(setup.cacheRefresh, new Date());
  const keys = opamCacheKeys({
    prefix: setup.cachePrefix,
    os: ctx.runnerOs,
    osRelease: await osRelease(ctx),
    arch: ctx.runnerArch,
    opamVersion,
    compiler: compilerKeyPart(setup.ocamlCompilerInput, systemVersion),
    repositories: setup.opamRepositories,
    pins: setup.opamPins,
    mirageVersion: setup.mirageVersion,
    target: config.build.target,
    dependencies: dependencyHash(dependencyFiles(config)),
    period,
  });
  const spec: CacheSpec = { name: 'opam', paths: [root], key: keys.key, restoreKeys: keys.restoreKeys };
  const restored = await timedGroup('Restore the opam root', () => restoreCacheEntry(spec));
  const stale = stalePeriod(restored.hit, restored.matchedKey, period);
  const sameRoot = otherPeriodOnly(keys.key, restored.matchedKey);
  return { cache: { hit: restored.hit, period, ...defined({ stalePeriod: stale }), sameRoot }, spec };
}

async function repositoryList(opam: Opam): Promise<KnownRepository[]> {
  return parseRepositoryList(await opam.query(['repository', 'list', '--all']));
}

/** What opam says of an initialised root: its repositories, whether the switch is there, its pins. */
async function readOpamState(opam: Opam): Promise<OpamState> {
  const repositories = await repositoryList(opam);
  const switches = (await opam.query(['switch', 'list', '--short'])).split('\n').map((s) => s.trim());
  const switchExists = switches.includes(SWITCH_NAME);
  const pins = switchExists ? parsePinList(await opam.query(['pin', 'list', '--short'])) : [];
  return { repositories, switchExists, pins };
}

/** The stored lock, and what the repositories say of it before the update where that can decide anything. */
async function readLockBeforeUpdate(opam: Opam, root: string, sameRoot: boolean): Promise<LockBeforeUpdate> {
  const locked = storedLockVersions(root);
  if (!sameRoot || locked.length === 0) return { locked };
  return { locked, ...defined({ before: await lockedState(opam, locked) }) };
}

/** Everything `planSetup` decides from, read once after the restore and before any command changes the root. */
async function readSetupSnapshot(
  opam: Opam,
  root: string,
  cache: CacheOutcome,
  sandbox: OpamSandbox,
): Promise<SetupSnapshot> {
  const switchStatePath = join(root, SWITCH_NAME, '.opam-switch', 'switch-state');
  const files = {
    root,
    cache,
    sandbox,
    initialised: existsSync(join(root, 'config')),
    switchState: existsSync(switchStatePath),
  };
  const installed = files.switchState ? installedVersions(readFileSync(switchStatePath, 'utf8')) : new Map();
  const lock = cache.stalePeriod === undefined ? undefined : await readLockBeforeUpdate(opam, root, cache.sameRoot);
  const state = files.initialised && !keepsRestoredRoot(files) ? await readOpamState(opam) : undefined;
  return { ...files, installed, ...defined({ lock, opam: state }) };
}

/** The switch, with the compiler the input names (a version prefix resolved against the repositories). */
async function createSwitch(opam: Opam, setup: SetupConfig, askVersions: boolean): Promise<void> {
  const available = askVersions ? parseVersionList(await opam.query(COMPILER_VERSIONS_QUERY)) : [];
  const compiler = compilerPackage(setup.ocamlCompiler, available);
  core.info(`compiler: ${compiler} (input \`ocaml-compiler\`: ${setup.ocamlCompilerInput})`);
  await opam.run(['switch', 'create', SWITCH_NAME, compiler, '--no-switch']);
}

async function installRequirements(opam: Opam, setup: SetupConfig, scratch: string): Promise<void> {
  const requirements = join(scratch, 'mirage-deploy-opam');
  mkdirSync(requirements, { recursive: true });
  writeFileSync(join(requirements, 'mirage-deploy-setup.opam'), requirementsOpamFile(setup.mirageVersion));
  await opam.run(['install', requirements, '--deps-only']);
}

/**
 * Runs what the plan decided, in order; the decisions that wait for an effect are taken on the
 * way. Resolves with whether `opam update` found the repositories unchanged (a new period whose
 * repositories did not move upgrades nothing).
 */
async function converge(opam: Opam, setup: SetupConfig, scratch: string, plan: SetupPlan): Promise<boolean> {
  if (plan.init !== undefined) await opam.run(plan.init);
  const repositories =
    plan.repositories === 'after-init'
      ? planRepositories(await repositoryList(opam), setup.opamRepositories)
      : plan.repositories;
  for (const args of repositories) await opam.run(args);
  const unchanged = plan.updateRepositories && repositoriesUnchanged(await opam.run(['update', '--repositories']));
  if (plan.createSwitch !== undefined) await createSwitch(opam, setup, plan.createSwitch.askVersions);
  for (const args of plan.pins) await opam.run(args);
  if (plan.upgrade && unchanged) core.info('cache-refresh: no repository changed since the restored root: no upgrade');
  else if (plan.upgrade) await opam.run(['upgrade']);
  if (plan.install && unchanged && plan.requirementsInstalled) {
    core.info(
      `mirage {${setup.mirageVersion}} and opam-monorepo: in the switch, and no repository changed: no install`,
    );
  } else if (plan.install) await installRequirements(opam, setup, scratch);
  return unchanged;
}

/**
 * A new period's relock decision, its second half read after the update where it needs one
 * (the state before it, when no repository changed).
 */
async function settleRelock(opam: Opam, step: RelockStep, unchanged: boolean): Promise<RelockPlan | undefined> {
  if (step.when === 'no-refresh') return undefined;
  const relock =
    step.when === 'known'
      ? step.plan
      : relockAfterUpdate(step, unchanged ? step.before : await lockedState(opam, step.locked));
  core.info(relockMessage(relock, step.locked.length));
  return relock;
}

/**
 * The switch's environment for every later build command, and for the job's later steps: only
 * the variables `opam env` is known to set (its output comes from a root the build writes).
 */
async function exportSwitch(opam: Opam, root: string): Promise<Record<string, string>> {
  const switchEnv = parseEnvSexp(await opam.query(['env', '--sexp']));
  const trusted = switchVariables(switchEnv);
  for (const [name, value] of Object.entries(trusted)) exportForLaterSteps(name, value);
  addPathForLaterSteps(join(root, SWITCH_NAME, 'bin'));
  return { ...opam.env, ...trusted, PATH: switchEnv.PATH ?? opam.env.PATH ?? '' };
}

/** opam with the action's variables (exported for later steps too), run through the build runner. */
function opamFor(path: string, root: string, ctx: RunContext, runner: BuildRunner, cwd: string): Opam {
  const curl = findProgram('curl', process.env) !== undefined;
  const lowSpeed = wholeSeconds(deadline(LOW_SPEED_SECONDS * 1000));
  const variables = { ...opamVariables(root, ctx.cores), ...fetchVariables(process.env, curl, lowSpeed) };
  for (const [name, value] of Object.entries(variables)) exportForLaterSteps(name, value);
  return new Opam(path, { ...variables, PATH: [dirname(path), jobPath()].join(delimiter) }, runner, cwd);
}

export async function setupOpam(config: Config, ctx: RunContext, runner: BuildRunner): Promise<OpamSetup> {
  const started = Date.now();
  const { setup } = config;
  const binary = await timedGroup('Install opam', () => installOpam(setup, ctx));
  runner.bindReadOnly(dirname(binary.path));
  const sandbox = await timedGroup('opam sandbox', () => prepareSandbox(setup, ctx));

  const root = opamRoot();
  const opam = opamFor(binary.path, root, ctx, runner, config.build.workingDirectory);
  const { cache, spec } = await restoreRoot(config, ctx, root, binary.version, runner);
  const relock = await timedGroup('opam switch', async () => {
    const plan = planSetup(setup, await readSetupSnapshot(opam, root, cache, sandbox));
    for (const reason of plan.reasons) core.info(reason);
    const unchanged = await converge(opam, setup, runner.scratch, plan);
    return settleRelock(opam, plan.relock, unchanged);
  });

  const env = await exportSwitch(opam, root);
  const installed = installedVersions(readFileSync(join(root, SWITCH_NAME, '.opam-switch', 'switch-state'), 'utf8'));
  const ocamlVersion = installed.get('ocaml') ?? '';
  const mirageVersion = installed.get('mirage') ?? '';
  // What `opam clean --download-cache --logs` removes; the repository cache stays: rebuilding it
  // is the first opam command of a warm run otherwise, for a few MB in the entry.
  if (spec !== undefined) {
    registerCacheSave(spec, cache.hit, { cleanup: { remove: [join(root, 'download-cache'), join(root, 'log')] } });
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  summaryRow(
    'setup',
    `OCaml ${ocamlVersion}, opam ${binary.version}, mirage ${mirageVersion}; cache: ${cache.hit}; ${seconds} s`,
  );
  return {
    opamVersion: binary.version,
    ocamlVersion,
    mirageVersion,
    cacheHit: cache.hit,
    ...(relock !== undefined && !relock.relock ? { lockKept: true as const } : {}),
    root,
    env,
    seconds,
    opamPath: binary.path,
  };
}
