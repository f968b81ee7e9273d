/**
 * The build phase: `mirage configure`, the generated Makefile's depend steps and build, then the
 * image in dist/. Each step runs in the unikernel's folder with the switch's environment, in its
 * own log group, timed for the summary.
 */
import * as core from '@actions/core';
import { fileDigest } from '../hash.js';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { lockFilesDigest } from '../cache/keys.js';
import type { BuildConfig, Config, ReproducibleMode } from '../config.js';
import type { RunContext } from '../context.js';
import { CommandError, findProgram } from '../exec.js';
import { formatSeconds, formatSize, timedGroup } from '../log.js';
import type { BuildRunner } from '../sandbox/index.js';
import { summaryRow } from '../summary.js';
import type { BuiltImage, OpamSetup } from '../types.js';
import { chooseImage, generatedNames, imageNames, publishedFileProblem, type DistEntry } from './image.js';
import { rootLocation, withProblemMatcher } from './matcher.js';
import { writeHandover } from './prebuilt.js';
import { firstDifference, judge, leftOutOfCopy } from './reproducible.js';
import { writeSbom } from '../sbom/index.js';
import { writeBuildInfo, type OpamAccess } from '../buildinfo/index.js';
import {
  BUILD_STEPS,
  DEPEXT_TARGET,
  buildCommand,
  buildEnvironment,
  commandLine,
  configureCommand,
  curlConfig,
  decideStep,
  duneCacheRoot,
  inFolder,
  wantsCurlConfig,
  withCFolderMap,
  makeCommand,
  type BuildSnapshot,
  type BuildStepName,
  type Command,
  type NamedFile,
} from './plan.js';
import { ensureSystemPackages } from './system-packages.js';
import { bootTest } from './boot-test-run.js';
import { TARGETS, sideFilePaths } from './targets.js';
import {
  DUNE_CACHE_LIMIT,
  readStoredLock,
  restoreBuildCaches,
  saveBuildCachesLater,
  storeLock,
  type BuildCaches,
} from './caches.js';
import { defined } from '../defined.js';
import { deadline, LOW_SPEED_SECONDS, seconds } from '../deadlines.js';

function locate(program: string, env: Record<string, string>): string {
  const found = findProgram(program, env);
  if (found !== undefined) return found;
  throw new Error(
    `\`${program}\` is not on the switch's PATH (${env.PATH ?? ''}); ` +
      (program === 'mirage'
        ? 'check input `mirage-version` and the setup step above'
        : 'install it, or fix input `build-command`'),
  );
}

function listDir(dir: string): DistEntry[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).map((e) => ({
    name: e.name,
    isFile: e.isFile(),
    ...(e.isSymbolicLink() ? { isSymlink: true } : {}),
  }));
}

function mirageFiles(dir: string, suffix: string): Array<NamedFile & { path: string }> {
  const mirageDir = join(dir, 'mirage');
  return listDir(mirageDir)
    .filter((e) => e.isFile && e.name.endsWith(suffix))
    .map((e) => ({
      name: e.name,
      path: join(mirageDir, e.name),
      content: readFileSync(join(mirageDir, e.name), 'utf8'),
    }));
}

const lockFiles = (dir: string) => mirageFiles(dir, '.opam.locked');

/** What `make lock` locks from: the generated Makefile and opam files. */
function lockInputs(dir: string): { digest: string; makefile: string } {
  const path = join(dir, 'Makefile');
  const makefile = existsSync(path) ? readFileSync(path, 'utf8') : '';
  return { digest: lockFilesDigest([{ name: 'Makefile', content: makefile }, ...mirageFiles(dir, '.opam')]), makefile };
}

/** The image `make build` left in dist/, its digest, and the target's side files that exist. */
async function findImage(build: BuildConfig, dir: string) {
  const mirageFiles = listDir(join(dir, 'mirage'))
    .filter((e) => e.isFile)
    .map((e) => e.name);
  const source = imageNames(build.imageName, build.configureArgs, mirageFiles, build.target);
  const file = chooseImage(listDir(join(dir, 'dist')), build.target, source);
  const path = join(dir, 'dist', file);
  const name = file.slice(0, file.length - TARGETS[build.target].extension.length);
  // `-o` renames only the image: xl and libvirt files keep the name config.ml registers.
  const registered = generatedNames(mirageFiles, build.target);
  const unikernel = registered.length === 1 ? (registered[0] ?? name) : name;
  const sideFiles = sideFilePaths(build.target, unikernel)
    .map((f) => join(dir, f))
    .filter((f) => existsSync(f) || lstatSync(f, { throwIfNoEntry: false }) !== undefined);
  // where mirage's opam file points `x-mirage-opam-lock-location`
  const lockFile = join(dir, 'mirage', `${unikernel}-${build.target}.opam.locked`);
  const lockFound = lstatSync(lockFile, { throwIfNoEntry: false }) !== undefined;
  refuseOutsideFiles(dir, [path, ...sideFiles, join(dir, build.configFile), ...(lockFound ? [lockFile] : [])]);
  return {
    name,
    path,
    size: statSync(path).size,
    sha256: await fileDigest(path),
    sideFiles,
    lockFile,
  };
}

/**
 * Builds again from a clean state in a copy of the unikernel's folder elsewhere (without `_build`
 * or the image, dune's cache off) and compares the images; the first build is left as it is.
 */
async function checkReproducible(
  mode: Exclude<ReproducibleMode, 'off'>,
  build: BuildConfig,
  ctx: RunContext,
  first: { readonly path: string; readonly sha256: string; readonly size: number },
  rebuild: (dir: string) => Promise<void>,
  scratchRoot: string,
): Promise<boolean> {
  const dir = build.workingDirectory;
  // In the sandbox's scratch folder: the only place outside the workspace the build may write.
  const scratch = await mkdtemp(join(scratchRoot, 'rebuild-'));
  const copy = join(scratch, basename(dir));
  const slashed = (path: string) => relative(dir, path).split(sep).join('/');
  try {
    const image = slashed(first.path);
    await cp(dir, copy, {
      recursive: true,
      preserveTimestamps: true,
      verbatimSymlinks: true,
      filter: (src) => !leftOutOfCopy(slashed(src), image),
    });
    await rebuild(copy);
    const second = await findImage(build, copy);
    const [a, b] = await Promise.all([readFile(first.path), readFile(second.path)]);
    const offset = firstDifference(a, b);
    const verdict = judge(mode, relative(ctx.workspace, first.path), {
      first,
      second,
      ...defined({ offset }),
    });
    summaryRow('reproducible', verdict.row);
    if (verdict.problem === undefined) {
      core.info(`reproducible: the second build's image, in ${copy}, has the same sha256 ${first.sha256}`);
    } else if (mode === 'strict') {
      throw new Error(verdict.problem);
    } else {
      core.notice(verdict.problem, { title: 'Image not reproducible' });
    }
    return verdict.reproducible;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The generated dune-workspace gains the C compiler's folder map (plan.ts withCFolderMap). */
function mapCFolder(dir: string): void {
  const path = join(dir, 'dune-workspace');
  if (!existsSync(path)) return;
  const mapped = withCFolderMap(readFileSync(path, 'utf8'));
  if (mapped === undefined) {
    core.info("dune-workspace has an env stanza of its own: C stubs are built with the folder's absolute path");
  } else {
    writeFileSync(path, mapped);
  }
}

/** CURL_HOME for the build steps, holding curlConfig (see there), unless the job configures curl itself. */
async function limitCurl(scratch: string, env: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  if (!wantsCurlConfig(env, existsSync(join(homedir(), '.curlrc')))) return {};
  const home = join(scratch, 'curl');
  await mkdir(home, { recursive: true });
  await writeFile(join(home, '.curlrc'), curlConfig(seconds(deadline(LOW_SPEED_SECONDS * 1000))));
  return { CURL_HOME: home };
}

/** Every file about to be published must be a plain file inside the unikernel's folder. */
function refuseOutsideFiles(dir: string, files: readonly string[]): void {
  const realDir = realpathSync(dir);
  for (const file of files) {
    // A dangling link has no real path; it is refused as a link.
    const isSymlink = lstatSync(file).isSymbolicLink();
    const problem = publishedFileProblem(
      relative(dir, file),
      { isSymlink, realPath: isSymlink ? file : realpathSync(file) },
      realDir,
    );
    if (problem !== undefined) throw new Error(`not publishing the build: ${problem}`);
  }
}

/** What the build's steps share: the inputs, where they run, and what earlier steps found. */
interface BuildRun {
  readonly config: Config;
  readonly ctx: RunContext;
  readonly setup: OpamSetup;
  readonly runner: BuildRunner;
  readonly dir: string;
  readonly env: Record<string, string>;
  /** The environment before the folder's path map: the reproducibility copy maps its own folder. */
  readonly shared: Record<string, string>;
  readonly cacheRoot: string;
  readonly timings: Record<string, number>;
  lockedThisRun: boolean;
  /** `rebuild`: the deployed folder's lock file, put where `make lock` would write it. */
  readonly recordedLock?: string;
  caches?: BuildCaches;
  found?: FoundImage;
  reproducible?: boolean;
}

type FoundImage = Awaited<ReturnType<typeof findImage>>;

/** Runs one build command in the unikernel's folder, through the runner; a failure throws with `hint`. */
async function runIn(b: BuildRun, command: Command, hint: string, options: BuildRunOptionsExtra = {}): Promise<void> {
  const env = { ...b.env, ...options.env };
  const result = await b.runner.run(
    { program: locate(command.program, env), args: command.args },
    { cwd: options.cwd ?? b.dir, env, ...(options.mapLogLine ? { mapLogLine: options.mapLogLine } : {}) },
  );
  if (result.exitCode !== 0) throw new CommandError(commandLine(command), result, hint);
}

interface BuildRunOptionsExtra {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  readonly mapLogLine?: (line: string) => string;
}

/** Read just before each step: what it decides on. */
function readSnapshot(b: BuildRun): BuildSnapshot {
  const stored = b.config.setup.cache ? readStoredLock(b.setup.root) : undefined;
  return {
    rootHit: b.setup.cacheHit,
    ...defined({ storedLock: stored }),
    lockInputs: lockInputs(b.dir),
    lockedThisRun: b.lockedThisRun,
    duniverseRestored: b.caches?.duniverseRestored ?? false,
    reproducible: b.config.build.reproducible,
    bootTest: b.config.bootTest.mode,
    ...(b.setup.lockKept ? { lockKept: true } : {}),
    ...(b.recordedLock === undefined ? {} : { recordedLock: true }),
  };
}

/** `rebuild`'s lock file named as `make lock` names it: after the opam file configure wrote for the target. */
function recordedLockFiles(b: BuildRun, content: string): NamedFile[] {
  const { target } = b.config.build;
  const opamFiles = listDir(join(b.dir, 'mirage'))
    .filter((e) => e.isFile)
    .map((e) => e.name);
  const [name, ...others] = generatedNames(opamFiles, target);
  if (name === undefined || others.length > 0) {
    throw new Error(
      `input \`rebuild\`: \`mirage configure\` wrote ${others.length + (name ? 1 : 0)} opam files for ${target} in mirage/; ` +
        'the recorded lock file belongs to one',
    );
  }
  return [{ name: `${name}-${target}.opam.locked`, content }];
}

async function restoreCaches(b: BuildRun): Promise<void> {
  const locks = lockFiles(b.dir);
  const digest = locks.length ? lockFilesDigest(locks) : undefined;
  b.caches = await restoreBuildCaches(b.config, b.ctx, b.dir, b.cacheRoot, digest);
}

interface BuildStep {
  /** How the log names it when it is skipped. */
  readonly label: string;
  readonly title: (b: BuildRun) => string;
  /** The summary's phase its time goes to. */
  readonly phase: string;
  readonly run: (b: BuildRun, why: string) => Promise<void>;
  /** What a skipped step still does (the lock files put back). */
  readonly skip?: (b: BuildRun) => Promise<void>;
  /** What follows it either way (the caches keyed by the lock). */
  readonly after?: (b: BuildRun) => Promise<void>;
}

const make = (target: string) => (b: BuildRun) => makeCommand(target, b.ctx.cores);

const STEPS: Record<BuildStepName, BuildStep> = {
  configure: {
    label: '`mirage configure`',
    title: (b) => commandLine(configureCommand(b.config.build)),
    phase: 'configure',
    run: async (b) => {
      await runIn(
        b,
        configureCommand(b.config.build),
        `fix ${b.config.build.configFile} or input \`configure-args\` (mirage's output is above)`,
      );
      mapCFolder(b.dir);
    },
  },
  lock: {
    label: '`make lock`',
    title: (b) => `depend: ${commandLine(make('lock')(b))}`,
    phase: 'depend',
    run: async (b, why) => {
      core.info(`\`make lock\` and \`make install-switch\` run: ${why}`);
      const inputs = lockInputs(b.dir);
      await runIn(b, make('lock')(b), 'opam-monorepo could not lock the dependencies (its output is above)');
      b.lockedThisRun = true;
      if (b.config.setup.cache) {
        const files = lockFiles(b.dir).map(({ name, content }) => ({ name, content }));
        storeLock(b.setup.root, { inputs: inputs.digest, files });
      }
    },
    skip: async (b) => {
      const files =
        b.recordedLock === undefined
          ? (readStoredLock(b.setup.root)?.files ?? [])
          : recordedLockFiles(b, b.recordedLock);
      // Written after configure, so make sees them newer than the opam file they are locked from.
      for (const file of files) writeFileSync(join(b.dir, 'mirage', file.name), file.content);
      const from = b.recordedLock === undefined ? 'restored with the opam root' : "from the rebuilt folder's record";
      core.info(`${files.map((f) => `mirage/${f.name}`).join(', ')} ${from}: \`make lock\` skipped`);
    },
    // Outside the sandbox, once the lock names its system packages: nothing inside installs any.
    after: async (b) => {
      await ensureSystemPackages(b.config.build.target, lockFiles(b.dir), b.ctx, process.env);
      await restoreCaches(b);
    },
  },
  'install-switch': {
    label: '`make install-switch`',
    title: (b) => `depend: ${commandLine(make('install-switch')(b))}`,
    phase: 'depend',
    run: async (b) => {
      await runIn(b, make('install-switch')(b), 'opam could not install the switch dependencies (its output is above)');
    },
  },
  depext: {
    label: `\`make ${DEPEXT_TARGET}\``,
    title: (b) => `depend: ${commandLine(make(DEPEXT_TARGET)(b))}`,
    phase: 'depend',
    run: async (b) => {
      await runIn(
        b,
        make(DEPEXT_TARGET)(b),
        "the lock file's system packages could not be installed (the output is above)",
      );
    },
  },
  pull: {
    label: '`make pull`',
    title: (b) => `depend: ${commandLine(make('pull')(b))}`,
    phase: 'depend',
    run: (b) =>
      runIn(b, make('pull')(b), 'opam-monorepo could not fetch the sources into duniverse/ (its output is above)'),
  },
  build: {
    label: 'the build',
    title: (b) => commandLine(buildCommand(b.config.build, b.ctx.cores)),
    phase: 'build',
    run: async (b) => {
      const compile = buildCommand(b.config.build, b.ctx.cores);
      const mapLogLine = (line: string) => rootLocation(line, relative(b.ctx.workspace, b.dir));
      const hint = 'the build failed; the compiler messages are above and annotated on the commit';
      await withProblemMatcher(b.ctx.runnerTemp, () => runIn(b, compile, hint, { mapLogLine }));
      b.found = await findImage(b.config.build, b.dir);
    },
  },
  // Before the reproducibility check: an image that does not boot needs no second build.
  'boot-test': {
    label: 'the boot test',
    title: (b) => `boot test: ${b.found ? relative(b.ctx.workspace, b.found.path) : 'the image'}`,
    phase: 'boot test',
    run: async (b) => {
      if (b.found !== undefined) await bootTest(b.config, b.runner, b.found, b.env.PATH ?? '');
    },
    skip: async () => {
      core.setOutput('boot-test', 'skipped');
    },
  },
  reproducibility: {
    label: 'the reproducibility check',
    title: (b) =>
      `reproducible: ${commandLine(buildCommand(b.config.build, b.ctx.cores))} again in a copy of the folder, from a clean state`,
    phase: 'reproducibility',
    run: async (b) => {
      const mode = b.config.build.reproducible;
      if (mode === 'off' || b.found === undefined) return;
      const hint = 'the second build, from a clean state for the reproducibility check, failed (its output is above)';
      const rebuild = (copy: string) =>
        runIn(b, buildCommand(b.config.build, b.ctx.cores), hint, {
          cwd: copy,
          env: { ...inFolder(b.shared, copy), DUNE_CACHE: 'disabled' },
        });
      b.reproducible = await checkReproducible(mode, b.config.build, b.ctx, b.found, rebuild, b.runner.scratch);
    },
  },
};

/** The executor: every step in order, its decision from a fresh snapshot, run in a timed log group. */
async function runSteps(b: BuildRun): Promise<void> {
  for (const name of BUILD_STEPS) {
    const step = STEPS[name];
    const decision = decideStep(name, readSnapshot(b));
    if (decision.run) {
      await timedGroup(step.title(b), () => step.run(b, decision.why), { timings: b.timings, phase: step.phase });
    } else {
      core.info(`${step.label} skipped: ${decision.why}`);
      await step.skip?.(b);
    }
    await step.after?.(b);
  }
}

/** `opam switch export` of the build switch, into the build's scratch folder (opam runs sandboxed). */
async function exportSwitch(b: BuildRun): Promise<string> {
  const dest = join(b.runner.scratch, `mirage-deploy-switch-${process.pid}.export`);
  await b.runner.mustRun(
    { program: b.setup.opamPath, args: ['switch', 'export', dest] },
    {
      cwd: b.dir,
      env: b.env,
      silent: true,
    },
    'opam could not export the build switch',
  );
  return dest;
}

/** dune's cache only grows: trimmed by dune in the sandbox, before the post step saves it. */
async function trimDuneCache(b: BuildRun): Promise<void> {
  const dune = b.caches?.dune;
  if (
    dune === undefined ||
    dune.hit === 'exact' ||
    !existsSync(b.cacheRoot) ||
    findProgram('dune', b.env) === undefined
  )
    return;
  const trim = { program: 'dune', args: ['cache', 'trim', `--size=${DUNE_CACHE_LIMIT}`] };
  const result = await b.runner.run(trim, { cwd: b.dir, env: b.env, silent: true });
  if (result.exitCode !== 0)
    core.info(`cache dune: \`dune cache trim\` failed (exit code ${result.exitCode}); saved as it is`);
}

/** The image as built, with its SBOM and the hand-over for a later deploy job. */
async function handOver(b: BuildRun, found: FoundImage): Promise<BuiltImage> {
  const { lockFile, ...image } = found;
  const built: BuiltImage = {
    target: b.config.build.target,
    ...image,
    configFile: join(b.dir, b.config.build.configFile),
    timings: b.timings,
    ...defined({ reproducible: b.reproducible }),
  };
  let sbomSources: { lockFile: string; switchExport: string } | undefined;
  if (existsSync(lockFile)) sbomSources = { lockFile, switchExport: await exportSwitch(b) };
  else core.warning(`no SBOM: the build left no lock file ${relative(b.dir, lockFile)}`);
  const locks = lockFiles(b.dir).map((l) => l.path);
  const handover = await writeHandover(built, b.setup, locks, sbomSources);
  if (sbomSources !== undefined) await rm(sbomSources.switchExport, { force: true });
  const sbom =
    handover.sbomSources && (await writeSbom(built, b.setup.opamVersion, handover.sbomSources, handover.dir));
  const req = { image: built, config: b.config, ctx: b.ctx, versions: b.setup, env: b.env, locks: lockFiles(b.dir) };
  const buildInfo = await writeBuildInfo(req, handover.dir, sandboxedOpam(b));
  core.info(`for a later deploy job (\`image-path\`): ${relative(b.dir, handover.dir)}/`);
  return { ...built, ...defined({ sbom, buildInfo }) };
}

/** opam for the build record, through the build runner like every other opam command of the build. */
function sandboxedOpam(b: BuildRun): OpamAccess {
  return {
    root: b.setup.root,
    async runOpam(args) {
      const command = { program: b.setup.opamPath, args };
      return (await b.runner.mustRun(command, { cwd: b.dir, env: b.env, silent: true })).stdout;
    },
  };
}

function reportImage(image: BuiltImage, b: BuildRun): void {
  core.info(`image: ${image.path} (${image.size} bytes, sha256 ${image.sha256})`);
  for (const side of image.sideFiles) core.info(`side file: ${relative(b.dir, side)}`);
  summaryRow('image', { code: relative(b.ctx.workspace, image.path) });
  summaryRow('size', formatSize(image.size));
  summaryRow('sha256', { code: image.sha256 });
}

/**
 * The build phase: the system packages outside the sandbox, then the named steps (src/mirage/plan.ts
 * BUILD_STEPS) through the build runner, then the image handed over.
 */
export async function buildUnikernel(
  config: Config,
  ctx: RunContext,
  setup: OpamSetup,
  runner: BuildRunner,
  recordedLock?: string,
): Promise<BuiltImage> {
  const timings: Record<string, number> = {};
  summaryRow('target', config.build.target);
  try {
    const cacheRoot = duneCacheRoot(process.env, homedir());
    const shared = buildEnvironment(setup.env, ctx.cores, cacheRoot);
    const dir = config.build.workingDirectory;
    const env = { ...inFolder(shared, dir), ...(await limitCurl(runner.scratch, shared)) };
    const b: BuildRun = {
      config,
      ctx,
      setup,
      runner,
      dir,
      env,
      shared,
      cacheRoot,
      timings,
      lockedThisRun: false,
      ...(recordedLock === undefined ? {} : { recordedLock }),
    };
    await runSteps(b);
    if (b.found === undefined) throw new Error('the build step found no image');
    await trimDuneCache(b);
    if (b.caches !== undefined) saveBuildCachesLater(b.caches);
    const image = await handOver(b, b.found);
    reportImage(image, b);
    return image;
  } finally {
    summaryRow(
      'time',
      [['setup', setup.seconds] as const, ...Object.entries(timings)]
        .map(([phase, seconds]) => `${phase} ${formatSeconds(seconds)}`)
        .join(', '),
    );
  }
}
