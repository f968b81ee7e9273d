/**
 * The build phase: `mirage configure`, the generated Makefile's depend steps and build, then the
 * image in dist/. Each step runs in the unikernel's folder with the switch's environment, in its
 * own log group, timed for the summary.
 */
import * as core from '@actions/core';
import { fileDigest } from '../hash.js';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { lockFilesDigest } from '../cache/keys.js';
import type { BuildConfig, Config, ReproducibleMode } from '../config.js';
import type { RunContext } from '../context.js';
import { CommandError, findProgram, runCommand } from '../exec.js';
import { formatSeconds, formatSize, timedGroup } from '../log.js';
import { summaryRow } from '../summary.js';
import type { BuiltImage, OpamSetup } from '../types.js';
import { chooseImage, generatedNames, imageNames, publishedFileProblem, type DistEntry } from './image.js';
import { rootLocation, withProblemMatcher } from './matcher.js';
import { writeHandover } from './prebuilt.js';
import { firstDifference, judge } from './reproducible.js';
import { writeSbom } from '../sbom/index.js';
import { opamRunner, writeBuildInfo } from '../buildinfo/index.js';
import {
  buildCommand,
  buildEnvironment,
  commandLine,
  configureCommand,
  duneCacheRoot,
  makeCommand,
  planDepend,
  type Command,
  type NamedFile,
} from './plan.js';
import { ensureSystemPackages } from './system-packages.js';
import { TARGETS, sideFilePaths } from './targets.js';
import { readStoredLock, restoreBuildCaches, saveBuildCachesLater, storeLock } from './caches.js';
import { defined } from '../defined.js';

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

async function run(
  command: Command,
  cwd: string,
  env: Record<string, string>,
  hint: string,
  mapLogLine?: (line: string) => string,
): Promise<void> {
  const result = await runCommand(locate(command.program, env), command.args, {
    cwd,
    env,
    ...(mapLogLine ? { mapLogLine } : {}),
  });
  if (result.exitCode !== 0) throw new CommandError(commandLine(command), result, hint);
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
 * Builds again in the same folder from a clean state (the first build's image moved aside, a fresh
 * `_build`, dune's cache off) and compares the images; the first build's image is put back.
 */
async function checkReproducible(
  mode: Exclude<ReproducibleMode, 'off'>,
  build: BuildConfig,
  ctx: RunContext,
  first: { readonly path: string; readonly sha256: string; readonly size: number },
  rebuild: () => Promise<void>,
): Promise<boolean> {
  const dir = build.workingDirectory;
  const aside = await mkdtemp(join(ctx.runnerTemp, 'mirage-deploy-first-build-'));
  const kept = join(aside, basename(first.path));
  try {
    // a copy, not a rename: RUNNER_TEMP may be on another file system than the workspace
    await copyFile(first.path, kept);
    await rm(first.path);
    await rm(join(dir, '_build'), { recursive: true, force: true });
    await rebuild();
    const second = await findImage(build, dir);
    const [a, b] = await Promise.all([readFile(kept), readFile(second.path)]);
    const offset = firstDifference(a, b);
    const verdict = judge(mode, relative(ctx.workspace, first.path), {
      first,
      second,
      ...defined({ offset }),
    });
    await copyFile(kept, first.path);
    summaryRow('reproducible', verdict.row);
    if (verdict.problem === undefined) {
      core.info(`reproducible: the second build's image has the same sha256 ${first.sha256}`);
    } else if (mode === 'strict') {
      throw new Error(verdict.problem);
    } else {
      core.notice(verdict.problem, { title: 'Image not reproducible' });
    }
    return verdict.reproducible;
  } finally {
    await rm(aside, { recursive: true, force: true });
  }
}

/** `opam switch export` of the build switch, into `dest`. */
async function exportSwitch(env: Record<string, string>, dest: string): Promise<void> {
  const result = await runCommand(locate('opam', env), ['switch', 'export', dest], { env, silent: true });
  if (result.exitCode !== 0)
    throw new CommandError(`opam switch export ${dest}`, result, 'opam could not export the build switch');
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

export async function buildUnikernel(config: Config, ctx: RunContext, setup: OpamSetup): Promise<BuiltImage> {
  const { build } = config;
  const dir = build.workingDirectory;
  const timings: Record<string, number> = {};
  summaryRow('target', build.target);
  try {
    const cacheRoot = duneCacheRoot(process.env, homedir());
    const env = buildEnvironment(setup.env, ctx.cores, cacheRoot);

    const configure = configureCommand(build);
    await timedGroup(
      commandLine(configure),
      () => run(configure, dir, env, `fix ${build.configFile} or input \`configure-args\` (mirage's output is above)`),
      { timings, phase: 'configure' },
    );

    const inputs = lockInputs(dir);
    const plan = planDepend(
      setup.cacheHit,
      config.setup.cache ? readStoredLock(setup.root) : undefined,
      inputs.digest,
      inputs.makefile,
    );
    if (plan.reuse) {
      // Written after configure, so make sees them newer than the opam file they are locked from.
      for (const file of plan.files) writeFileSync(join(dir, 'mirage', file.name), file.content);
      core.info(
        `${plan.files.map((f) => `mirage/${f.name}`).join(', ')} restored with the opam root ` +
          '(exact hit, the same Makefile and opam file): `make lock` skipped',
      );
    } else {
      core.info(`\`make lock\` and \`make install-switch\` run: ${plan.reason}`);
      const lock = makeCommand('lock', ctx.cores);
      await timedGroup(
        `depend: ${commandLine(lock)}`,
        () => run(lock, dir, env, 'opam-monorepo could not lock the dependencies (its output is above)'),
        { timings, phase: 'depend' },
      );
      if (config.setup.cache) {
        const files = lockFiles(dir).map(({ name, content }) => ({ name, content }));
        storeLock(setup.root, { inputs: inputs.digest, files });
      }
    }
    const locks = lockFiles(dir);
    await ensureSystemPackages(build.target, locks, ctx, process.env);
    const caches = await restoreBuildCaches(
      config,
      ctx,
      dir,
      cacheRoot,
      locks.length ? lockFilesDigest(locks) : undefined,
    );
    if (!plan.reuse) {
      const install = makeCommand('install-switch', ctx.cores);
      await timedGroup(
        `depend: ${commandLine(install)}`,
        async () => {
          await run(install, dir, env, 'opam could not install the switch dependencies (its output is above)');
        },
        { timings, phase: 'depend' },
      );
    } else if (plan.depextTarget !== undefined) {
      core.info(
        "`make install-switch` skipped: the switch is exactly the cached one; the lock's system packages install on their own",
      );
      const depext = makeCommand(plan.depextTarget, ctx.cores);
      await timedGroup(
        `depend: ${commandLine(depext)}`,
        async () => {
          await run(depext, dir, env, "the lock file's system packages could not be installed (the output is above)");
        },
        { timings, phase: 'depend' },
      );
    } else {
      core.info(
        '`make install-switch` skipped: the switch is exactly the cached one ' +
          '(the Makefile has no depext target: configured with --no-depext)',
      );
    }
    if (caches.duniverseRestored) {
      core.info('duniverse/ restored from the cache for this lock file: `make pull` skipped');
    } else {
      const pull = makeCommand('pull', ctx.cores);
      await timedGroup(
        `depend: ${commandLine(pull)}`,
        () => run(pull, dir, env, 'opam-monorepo could not fetch the sources into duniverse/ (its output is above)'),
        { timings, phase: 'depend' },
      );
    }

    const compile = buildCommand(build, ctx.cores);
    await timedGroup(
      commandLine(compile),
      () =>
        withProblemMatcher(ctx.runnerTemp, () =>
          run(
            compile,
            dir,
            env,
            'the build failed; the compiler messages are above and annotated on the commit',
            (line) => rootLocation(line, relative(ctx.workspace, dir)),
          ),
        ),
      { timings, phase: 'build' },
    );

    const { lockFile, ...found } = await findImage(build, dir);
    const mode = build.reproducible;
    const reproducible =
      mode === 'off'
        ? undefined
        : await timedGroup(
            `reproducible: ${commandLine(compile)} again from a clean state`,
            () =>
              checkReproducible(mode, build, ctx, found, () =>
                run(
                  compile,
                  dir,
                  { ...env, DUNE_CACHE: 'disabled' },
                  'the second build, from a clean state for the reproducibility check, failed (its output is above)',
                ),
              ),
            { timings, phase: 'reproducibility' },
          );
    const built: BuiltImage = {
      target: build.target,
      ...found,
      configFile: join(dir, build.configFile),
      timings,
      ...defined({ reproducible }),
    };
    saveBuildCachesLater(caches, env);
    let sbomSources: { lockFile: string; switchExport: string } | undefined;
    if (existsSync(lockFile)) {
      const exported = join(ctx.runnerTemp, `mirage-deploy-switch-${process.pid}.export`);
      await exportSwitch(env, exported);
      sbomSources = { lockFile, switchExport: exported };
    } else {
      core.warning(`no SBOM: the build left no lock file ${relative(dir, lockFile)}`);
    }
    const handover = await writeHandover(
      built,
      setup,
      lockFiles(dir).map((l) => l.path),
      sbomSources,
    );
    if (sbomSources !== undefined) await rm(sbomSources.switchExport, { force: true });
    const sbom =
      handover.sbomSources && (await writeSbom(built, setup.opamVersion, handover.sbomSources, handover.dir));
    const buildInfo = await writeBuildInfo(
      { image: built, config, ctx, versions: setup, env, locks: lockFiles(dir) },
      handover.dir,
      opamRunner(env, setup.root),
    );
    const image: BuiltImage = { ...built, ...defined({ sbom, buildInfo }) };
    core.info(`for a later deploy job (\`image-path\`): ${relative(dir, handover.dir)}/`);

    core.info(`image: ${image.path} (${image.size} bytes, sha256 ${image.sha256})`);
    for (const side of image.sideFiles) core.info(`side file: ${relative(dir, side)}`);
    summaryRow('image', { code: relative(ctx.workspace, image.path) });
    summaryRow('size', formatSize(image.size));
    summaryRow('sha256', { code: image.sha256 });
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
