/**
 * The deploy phase: compress the image under its deployed name, then write it with its side files
 * and `.args` into `<directory>/<sha>/` and move `<directory>/latest` in the deployment repository
 * (src/deploy/repository/), or move `latest` back for `rollback-to`, or copy a deployed folder for
 * `promote-from`.
 *
 * Outputs: `deployed` is true when the image is in the repository after this run — pushed now, or
 * already there from an earlier run of the same build. A dry run pushes nothing, so it reports
 * `deployed=false` (unless the image was already there) and no commit, but still the path.
 */
import * as core from '@actions/core';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Config } from '../config.js';
import { runUrl, type RunContext } from '../context.js';
import { formatSize, timedGroup } from '../log.js';
import { appendJsonState, STATE } from '../state.js';
import { summaryRow, summarySection } from '../summary.js';
import { removeTempFolders, type TempFolderKind } from '../temp-folders.js';
import type { BuildVersions } from '../mirage/prebuilt.js';
import type { BuiltImage, DeployOutcome } from '../types.js';
import { openGitAccess } from './credentials/access.js';
import { compressImage } from './compress.js';
import { DeploymentRecord } from './deployments.js';
import { waitForHost } from './host-wait.js';
import { fileDigest } from '../hash.js';
import { imageFileName, isTarget } from '../mirage/targets.js';
import { argsFileContent, argsFileName, deployFolder, recordContent, sizeVerdict, storedSideName } from './plan.js';
import { folderFiles, folderFilesProblem } from './plan.js';
import type { ImageEntry } from './manifest.js';
import type { SourceFacts } from './source.js';
import type { Cleared, GitAccess } from './credentials/plan.js';
import {
  writeDeploy,
  writePromote,
  writeRollback,
  type DeployFiles,
  type WriteResult,
  type WriteSettings,
} from './repository/index.js';
import { diffLines, diffMarkdown } from '../sbom/diff.js';
import { sbomFileNames } from '../sbom/files.js';
import { recordFiles } from '../buildinfo/files.js';
import { defined } from '../defined.js';

function settings(
  config: Config,
  ctx: RunContext,
  sha: string,
  workDir: string,
  record?: DeploymentRecord,
): WriteSettings {
  const { deploy } = config;
  const environment = deploy.environment;
  return {
    ...(record ? { record: recordContent({ repository: ctx.repository, id: record.id, environment, sha }) } : {}),
    directory: deploy.directory,
    sha,
    ...defined({ branch: deploy.repositoryBranch, subject: deploy.commitMessage, keepHistory: deploy.keepHistory }),
    dryRun: deploy.dryRun,
    author: { name: deploy.commitUserName, email: deploy.commitUserEmail },
    sourceRepository: ctx.repository,
    runUrl: runUrl(ctx),
    workDir,
  };
}

function outcome(result: WriteResult, access: GitAccess, path: string, what: string): DeployOutcome {
  const where = `${path} in ${access.display}`;
  const commit = result.commit;
  const url = access.webUrl && commit ? `${access.webUrl}/tree/${commit}/${path}` : undefined;
  const extra = result.notes.length && result.status !== 'dry-run' ? `; ${result.notes.join('; ')}` : '';
  switch (result.status) {
    case 'pushed':
      return {
        deployed: true,
        commit,
        path,
        ...(url ? { url } : {}),
        message: `${what} ${where} (${commit?.slice(0, 12)})${extra}`,
      };
    case 'unchanged':
      return {
        deployed: true,
        ...(commit ? { commit } : {}),
        path,
        ...(url ? { url } : {}),
        message: `${where} is already up to date (${commit?.slice(0, 12)}); nothing pushed`,
      };
    case 'dry-run':
      summarySection(
        `**Dry run**: would push to \`${result.branch}\` of ${access.display}:\n\n${result.notes.map((n) => `- ${n}`).join('\n')}`,
      );
      return { deployed: false, path, message: `dry run: ${what} ${where} would be pushed; nothing was pushed` };
  }
}

/** mkdtemp's six characters follow the prefix. */
const WORK_FOLDERS: TempFolderKind = {
  prefix: 'mirage-deploy-work-',
  suffix: /^[A-Za-z0-9]{6}$/,
  state: STATE.workDirs,
  what: 'work folder',
};

/**
 * Runs `body` with a private work folder under RUNNER_TEMP, removed however it ends; registered for
 * the post step too, for when main is killed (a cancelled job, the runner's timeout).
 */
export async function withWorkDir<T>(ctx: RunContext, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(resolve(ctx.runnerTemp), WORK_FOLDERS.prefix));
  appendJsonState(WORK_FOLDERS.state, dir);
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface LocalFile {
  readonly name: string;
  readonly path: string;
  readonly size: number;
}

/** A local file to store under `name`, with its size and sha256. */
async function local(name: string, path: string): Promise<LocalFile & { readonly sha256: string }> {
  const [info, sha256] = await Promise.all([stat(path), fileDigest(path)]);
  return { name, path, size: info.size, sha256 };
}

/** The image compressed under its deployed name into `stage`, refused when too large. */
async function storedImage(config: Config, image: BuiltImage, name: string, stage: string) {
  const { compression } = config.deploy;
  const unpackedName = isTarget(image.target) ? imageFileName(image.target, name) : basename(image.path);
  const stored = await compressImage(image.path, compression, stage, unpackedName);
  core.info(`${stored.name}: ${image.size} bytes, ${stored.size} compressed (${compression})`);
  summaryRow('compressed', formatSize(stored.size), ' as ', { code: stored.name });
  const verdict = sizeVerdict(stored.size, compression);
  if (verdict.level === 'fail') throw new Error(`input \`compression\`: ${verdict.message}`);
  if (verdict.level === 'warn') core.warning(verdict.message);
  return stored;
}

/** The image's other files in the folder: config file, side files, `.args`, SBOM files. */
async function otherFiles(config: Config, image: BuiltImage, name: string, stage: string) {
  const argsPath = join(stage, argsFileName(name));
  await mkdir(stage, { recursive: true });
  await writeFile(argsPath, argsFileContent(config.deploy.bootArgs));
  const configFile = await local(basename(image.configFile), image.configFile);
  // the SBOM's files under the deployed name, one set per image of the folder
  const sbomNames = sbomFileNames(name);
  const sbom = image.sbom;
  const others = await Promise.all([
    ...image.sideFiles.map((p) => local(storedSideName(basename(p), image.name, name), p)),
    local(argsFileName(name), argsPath),
    ...(sbom === undefined
      ? []
      : [
          local(sbomNames.lockFile, sbom.lockFile),
          local(sbomNames.switchExport, sbom.switchExport),
          local(sbomNames.cyclonedx, sbom.cyclonedx),
        ]),
    ...recordFiles(image, name).map((f) => local(f.name, f.path)),
  ]);
  return { configFile, extras: [configFile, ...others] };
}

interface Prepared {
  readonly files: readonly LocalFile[];
  readonly imageFile: string;
  readonly entry: ImageEntry;
}

/** Everything the deploy stores, made locally: the files and this image's manifest entry. */
async function prepare(
  config: Config,
  ctx: RunContext,
  image: BuiltImage,
  setup: BuildVersions,
  stage: string,
): Promise<Prepared> {
  const { deploy } = config;
  const name = deploy.imageName ?? image.name;
  const stored = await storedImage(config, image, name, stage);
  const { configFile, extras } = await otherFiles(config, image, name, stage);
  const entry: ImageEntry = {
    name,
    builtName: image.name,
    target: config.build.target,
    sha256: image.sha256,
    size: image.size,
    compression: deploy.compression,
    compressedSha256: stored.sha256,
    compressedSize: stored.size,
    bootArgs: deploy.bootArgs,
    configFile: configFile.name,
    files: Object.fromEntries(extras.map((f) => [f.name, f.sha256])),
    ...(image.sbom === undefined ? {} : { sbom: { ...sbomFileNames(name), packages: image.sbom.packages.length } }),
    run: { url: runUrl(ctx) },
    versions: { ocaml: setup.ocamlVersion, opam: setup.opamVersion, mirage: setup.mirageVersion },
    builtAt: new Date().toISOString(),
  };
  const files = [stored, ...extras].map((f) => ({ name: f.name, path: f.path, size: f.size }));
  return { files, imageFile: stored.name, entry };
}

function sayUnknownTime(config: Config, source: SourceFacts): void {
  if (source.commitTime !== undefined) return;
  core.info(
    `the commit time of ${source.sha} is unknown (no push event, and no git repository holding ` +
      `${config.build.workingDirectory} has it): \`latest\` moves to this build only if it names none with a commit time`,
  );
}

/** Writes the prepared files, with a GitHub deployment record around it when `github-token` is set. */
async function write(
  config: Config,
  ctx: RunContext,
  cleared: Cleared,
  job: DeployFiles,
  workDir: string,
): Promise<{ result: WriteResult; access: GitAccess; record?: DeploymentRecord }> {
  const { deploy } = config;
  const path = deployFolder(deploy.directory, job.source.sha);
  const access = await openGitAccess(cleared, ctx);
  const record = await startRecord(config, ctx, job.source.sha, `${job.imageFile} into ${path}`);
  try {
    const result = await writeDeploy(access, settings(config, ctx, job.source.sha, workDir, record), job);
    return { result, access, ...defined({ record }) };
  } catch (error) {
    await record?.status('failure');
    throw error;
  }
}

/**
 * The deploy: the image and its files prepared locally, then written by the writer. `source` holds
 * the facts main read before the build: nothing here runs git in the checkout.
 */
export async function deployImage(
  config: Config,
  ctx: RunContext,
  image: BuiltImage,
  setup: BuildVersions,
  cleared: Cleared,
  source: SourceFacts,
): Promise<DeployOutcome> {
  const { deploy } = config;
  const sha = source.sha;
  const path = deployFolder(deploy.directory, sha);
  // Before the work folder, the compression and the clone: a clash would push a folder whose image is another file.
  const clash = folderFilesProblem(folderFiles({ image, deploy, fromArtifact: config.build.prebuilt !== undefined }));
  if (clash !== undefined) throw new Error(clash);
  return withWorkDir(ctx, async (workDir) => {
    const prepared = await timedGroup(`Deploy: prepare ${path}`, async () => {
      sayUnknownTime(config, source);
      return prepare(config, ctx, image, setup, join(workDir, 'stage'));
    });
    return timedGroup(`Deploy: write ${path}`, async () => {
      const job: DeployFiles = {
        ...prepared,
        source: { repository: ctx.repository, sha, ref: ctx.ref, ...defined({ commitTime: source.commitTime }) },
        facts: source,
        keep: deploy.keep,
        ...(image.sbom === undefined ? {} : { packages: image.sbom.packages }),
      };
      const { result, access, record } = await write(config, ctx, cleared, job, workDir);
      if (result.diff !== undefined) {
        core.info(diffLines(result.diff).join('\n'));
        core.setOutput('diff', JSON.stringify(result.diff));
        summarySection(diffMarkdown(result.diff, prepared.entry.name));
      }
      return finishRecord(config, record, result, outcome(result, access, path, 'deployed'), path);
    });
  });
}

export async function rollback(config: Config, ctx: RunContext, sha: string, cleared: Cleared): Promise<DeployOutcome> {
  const directory = config.deploy.directory;
  const path = deployFolder(directory, sha);
  return withWorkDir(ctx, (workDir) =>
    timedGroup(`Deploy: roll \`${directory}/latest\` back to ${sha}`, async () => {
      const access = await openGitAccess(cleared, ctx);
      const record = await startRecord(config, ctx, sha, `rolling ${directory}/latest back to ${sha}`);
      let result: WriteResult;
      try {
        result = await writeRollback(access, settings(config, ctx, sha, workDir, record));
      } catch (error) {
        await record?.status('failure');
        throw error;
      }
      return finishRecord(config, record, result, outcome(result, access, path, 'rolled latest back to'), path);
    }),
  );
}

/** The GitHub deployment record of this move of `latest`, made before the commit that names it. */
async function startRecord(
  config: Config,
  ctx: RunContext,
  sha: string,
  what: string,
): Promise<DeploymentRecord | undefined> {
  const { deploy } = config;
  if (deploy.githubToken === undefined || !deploy.deploymentRecords || deploy.dryRun) return undefined;
  return DeploymentRecord.start(deploy.githubToken, ctx, sha, deploy.environment, what, runUrl(ctx));
}

/**
 * `success` once pushed; with `host-reports`, a push that moved `latest` is left `in_progress` for
 * the host, and with `wait-for-host` its report is waited for. Without a record (the API refused
 * it) there is nothing to wait on: `wait-for-host` fails then.
 */
async function finishRecord(
  config: Config,
  record: DeploymentRecord | undefined,
  result: WriteResult,
  done: DeployOutcome,
  path: string,
): Promise<DeployOutcome> {
  const { hostReports, waitForHost: seconds } = config.deploy;
  const moved = result.status === 'pushed' && result.latestMoved === true;
  if (record === undefined) {
    if (seconds === 0 || !moved) return done;
    const message = `input \`wait-for-host\`: no GitHub deployment record for the host to report to (see the warning above)`;
    return { ...done, host: { status: 'timeout', message } };
  }
  if (!hostReports || !moved) {
    await record.status('success', done.url);
    return done;
  }
  await record.status('in_progress', done.url, 'pushed; waiting for the host');
  if (seconds === 0) return done;
  return { ...done, host: await waitForHost(() => record.statuses(), seconds, path) };
}

export const removeWorkDirs = removeTempFolders(WORK_FOLDERS, 'remove deploy work folders');

/**
 * `promote-from`: `<from>/<sha>/` copied into `deploy-directory` by blob id once its images verify;
 * output `latest-moved` says whether the destination's `latest` names it now.
 */
export async function promote(config: Config, ctx: RunContext, cleared: Cleared): Promise<DeployOutcome> {
  const { deploy } = config;
  const asked = deploy.promote;
  if (asked === undefined) throw new Error('promote without `promote-from`');
  const promoteSha =
    asked.sha === 'latest' ? ({ kind: 'latest' } as const) : ({ kind: 'sha', sha: asked.sha } as const);
  const what = `${asked.from}/${asked.sha === 'latest' ? 'latest' : asked.sha}`;
  return withWorkDir(ctx, (workDir) =>
    timedGroup(`Deploy: promote ${what} to \`${deploy.directory}\``, async () => {
      const access = await openGitAccess(cleared, ctx);
      // The record names the sha: made up front when it is known, as for a deploy (not for `promote-sha: latest`).
      const record =
        promoteSha.kind === 'sha' ? await startRecord(config, ctx, promoteSha.sha, `promoting ${what}`) : undefined;
      let result: Awaited<ReturnType<typeof writePromote>>;
      try {
        result = await writePromote(access, settings(config, ctx, asked.sha, workDir, record), {
          from: asked.from,
          promoteSha,
          keep: deploy.keep,
          ...defined({ bootArgs: asked.newBootArgs ? deploy.bootArgs : undefined }),
        });
      } catch (error) {
        await record?.status('failure');
        throw error;
      }
      // A dry run moves nothing.
      core.setOutput('latest-moved', String(result.status === 'pushed' && result.latestMoved));
      const path = deployFolder(deploy.directory, result.sha);
      return finishRecord(
        config,
        record,
        result,
        outcome(result, access, path, `promoted ${asked.from}/${result.sha} to`),
        path,
      );
    }),
  );
}
