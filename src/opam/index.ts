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
import type { Config } from '../config.js';
import type { RunContext } from '../context.js';
import { deadline, LOW_SPEED_SECONDS, seconds as wholeSeconds } from '../deadlines.js';
import { findProgram, runCommand } from '../exec.js';
import type { BuildRunner } from '../sandbox/index.js';
import { switchVariables } from '../sandbox/plan.js';
import { addPathForLaterSteps, exportForLaterSteps, jobPath } from '../sandbox/tools.js';
import { timedGroup } from '../log.js';
import { summaryRow } from '../summary.js';
import type { CacheHit, OpamSetup } from '../types.js';
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
  lockedStateQueries,
  planRelock,
  type LockedState,
  type RelockPlan,
  type LockedVersion,
  opamVariables,
  parseEnvSexp,
  parsePinList,
  parseRepositoryList,
  planPins,
  planRepositories,
  requirementsOpamFile,
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

  run(args: readonly string[]): Promise<unknown> {
    return this.runner.mustRun({ program: this.path, args }, { cwd: this.cwd, env: this.env });
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

/**
 * Converges a refreshed root between two reads of what its repositories say about the stored
 * lock's packages, and says whether the unikernel must be locked again.
 */
async function convergeCheckingLock(
  opam: Opam,
  root: string,
  sameRoot: boolean,
  convergeRoot: () => Promise<void>,
): Promise<RelockPlan> {
  const locked = storedLockVersions(root);
  const before = await lockedState(opam, locked);
  await convergeRoot();
  const relock = planRelock(sameRoot, locked.length, before, await lockedState(opam, locked));
  core.info(
    relock.relock
      ? `cache-refresh: the unikernel is locked again: ${relock.reason}`
      : `cache-refresh: no locked package (of ${locked.length}) changed in the repositories: the lock, switch and duniverse stay`,
  );
  return relock;
}

function rootIsUsable(root: string): boolean {
  return existsSync(join(root, 'config')) && existsSync(join(root, SWITCH_NAME, '.opam-switch', 'switch-state'));
}

async function converge(
  opam: Opam,
  config: Config,
  scratch: string,
  root: string,
  hit: CacheHit,
  refresh: boolean,
): Promise<void> {
  const { setup } = config;
  const [first] = setup.opamRepositories;
  const fresh = !existsSync(join(root, 'config'));
  if (fresh) {
    if (first === undefined) throw new Error('input `opam-repositories`: give at least one repository');
    await opam.run([
      'init',
      '--bare',
      '--no-setup',
      ...(setup.opamDisableSandboxing ? ['--disable-sandboxing'] : []),
      first.name,
      first.url,
    ]);
  } else {
    core.info(`opam root ${root}: ${hit === 'miss' ? 'already there (not from the cache)' : `restored (${hit} hit)`}`);
  }
  const current = parseRepositoryList(await opam.query(['repository', 'list', '--all']));
  for (const args of planRepositories(current, setup.opamRepositories)) await opam.run(args);
  if (!fresh) await opam.run(['update', '--repositories']);

  const switches = (await opam.query(['switch', 'list', '--short'])).split('\n').map((s) => s.trim());
  if (!switches.includes(SWITCH_NAME)) {
    const spec = setup.ocamlCompiler;
    const available = spec.kind === 'version' ? parseVersionList(await opam.query(COMPILER_VERSIONS_QUERY)) : [];
    const compiler = compilerPackage(spec, available);
    core.info(`compiler: ${compiler} (input \`ocaml-compiler\`: ${setup.ocamlCompilerInput})`);
    await opam.run(['switch', 'create', SWITCH_NAME, compiler, '--no-switch']);
  }

  for (const args of planPins(parsePinList(await opam.query(['pin', 'list', '--short'])), setup.opamPins)) {
    await opam.run(args);
  }

  // The root is the last period's: what the new repository state changes is upgraded, nothing else.
  if (refresh) await opam.run(['upgrade']);

  const requirements = join(scratch, 'mirage-deploy-opam');
  mkdirSync(requirements, { recursive: true });
  writeFileSync(join(requirements, 'mirage-deploy-setup.opam'), requirementsOpamFile(setup.mirageVersion));
  core.info(`installing what is missing of: mirage {${setup.mirageVersion}}, opam-monorepo`);
  await opam.run(['install', requirements, '--deps-only']);
}

interface RootRestore {
  readonly hit: CacheHit;
  readonly refresh: boolean;
  /** The root restored is this very root of an earlier period (only the period in its key differs). */
  readonly sameRoot: boolean;
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
  if (!setup.cache) return { hit: 'miss', refresh: false, sameRoot: false };
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
  const restoredPeriod = stalePeriod(restored.hit, restored.matchedKey, period);
  if (restoredPeriod !== undefined) {
    core.info(
      `cache-refresh: the restored root is of period ${restoredPeriod}, this run's is ${period}: ` +
        'updating the repositories, upgrading what changed and locking the unikernel again',
    );
  }
  const sameRoot = otherPeriodOnly(keys.key, restored.matchedKey);
  return { hit: restored.hit, refresh: restoredPeriod !== undefined, sameRoot, spec };
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

export async function setupOpam(config: Config, ctx: RunContext, runner: BuildRunner): Promise<OpamSetup> {
  const started = Date.now();
  const { setup } = config;
  const binary = await timedGroup('Install opam', () => installOpam(setup, ctx));
  runner.bindReadOnly(dirname(binary.path));
  await timedGroup('opam sandbox', () => prepareSandbox(setup, ctx));

  const root = opamRoot();
  const curl = findProgram('curl', process.env) !== undefined;
  const lowSpeed = wholeSeconds(deadline(LOW_SPEED_SECONDS * 1000));
  const variables = { ...opamVariables(root, ctx.cores), ...fetchVariables(process.env, curl, lowSpeed) };
  for (const [name, value] of Object.entries(variables)) exportForLaterSteps(name, value);
  const path = [dirname(binary.path), jobPath()].join(delimiter);
  const opam = new Opam(binary.path, { ...variables, PATH: path }, runner, config.build.workingDirectory);

  const { hit, refresh, sameRoot, spec } = await restoreRoot(config, ctx, root, binary.version, runner);
  const convergeRoot = () =>
    timedGroup('opam switch', async () => {
      if (hit === 'exact' && rootIsUsable(root)) {
        core.info(`opam root ${root}: exact cache hit, nothing to install`);
      } else {
        await converge(opam, config, runner.scratch, root, hit, refresh);
      }
    });
  const relock = refresh ? await convergeCheckingLock(opam, root, sameRoot, convergeRoot) : await convergeRoot();

  const env = await exportSwitch(opam, root);
  const installed = installedVersions(readFileSync(join(root, SWITCH_NAME, '.opam-switch', 'switch-state'), 'utf8'));
  const ocamlVersion = installed.get('ocaml') ?? '';
  const mirageVersion = installed.get('mirage') ?? '';
  // What `opam clean --download-cache --logs` removes; the repository cache stays: rebuilding it
  // is the first opam command of a warm run otherwise, for a few MB in the entry.
  if (spec !== undefined) {
    registerCacheSave(spec, hit, { cleanup: { remove: [join(root, 'download-cache'), join(root, 'log')] } });
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  summaryRow(
    'setup',
    `OCaml ${ocamlVersion}, opam ${binary.version}, mirage ${mirageVersion}; cache: ${hit}; ${seconds} s`,
  );
  return {
    opamVersion: binary.version,
    ocamlVersion,
    mirageVersion,
    cacheHit: hit,
    ...(relock !== undefined && !relock.relock ? { lockKept: true as const } : {}),
    root,
    env,
    seconds,
    opamPath: binary.path,
  };
}
