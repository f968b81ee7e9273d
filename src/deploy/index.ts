/**
 * The deploy phase: compress the image under its deployed name, then write it with its side files
 * and `.args` into `<directory>/<sha>/` and move `<directory>/latest` in the deployment repository
 * (src/deploy/repository/), or move `latest` back for `rollback-to`.
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
import { fileDigest } from '../hash.js';
import { imageFileName, isTarget } from '../mirage/targets.js';
import { argsFileContent, argsFileName, deployFolder, isSourceSha, sizeVerdict, storedSideName } from './plan.js';
import { folderFiles, folderFilesProblem } from './plan.js';
import type { ImageEntry } from './manifest.js';
import { sourceCommitTime } from './source.js';
import type { Cleared, GitAccess } from './credentials/plan.js';
import { writeDeploy, writeRollback, type WriteResult, type WriteSettings } from './repository/index.js';
import { diffLines, diffMarkdown } from '../sbom/diff.js';
import { sbomFileNames } from '../sbom/files.js';
import { recordFiles } from '../buildinfo/files.js';
import { defined } from '../defined.js';

function sourceSha(ctx: RunContext): string {
  const sha = ctx.sha.toLowerCase();
  if (!isSourceSha(sha)) {
    throw new Error(
      `GITHUB_SHA is \`${ctx.sha}\`, not a full commit sha, so there is no \`<directory>/<sha>\` folder to deploy to; ` +
        'run the action from a workflow triggered by a commit',
    );
  }
  return sha;
}

function settings(config: Config, ctx: RunContext, sha: string, workDir: string): WriteSettings {
  const { deploy } = config;
  return {
    directory: deploy.directory,
    sha,
    ...defined({ branch: deploy.repositoryBranch, subject: deploy.commitMessage }),
    dryRun: deploy.dryRun,
    author: { name: deploy.commitUserName, email: deploy.commitUserEmail },
    sourceRepository: ctx.repository,
    runUrl: runUrl(ctx),
    sourceDir: config.build.workingDirectory,
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
async function withWorkDir<T>(ctx: RunContext, body: (dir: string) => Promise<T>): Promise<T> {
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

export async function deployImage(
  config: Config,
  ctx: RunContext,
  image: BuiltImage,
  setup: BuildVersions,
  cleared: Cleared,
): Promise<DeployOutcome> {
  const { deploy } = config;
  const target = config.build.target;
  const sha = sourceSha(ctx);
  const path = deployFolder(deploy.directory, sha);
  const name = deploy.imageName ?? image.name;
  // Before the work folder, the compression and the clone: a clash would push a folder whose image is another file.
  const clash = folderFilesProblem(folderFiles({ image, deploy, fromArtifact: config.build.prebuilt !== undefined }));
  if (clash !== undefined) throw new Error(clash);
  return withWorkDir(ctx, async (workDir) => {
    const prepared = await timedGroup(`Deploy: prepare ${path}`, async () => {
      const stage = join(workDir, 'stage');
      const unpackedName = isTarget(image.target) ? imageFileName(image.target, name) : basename(image.path);
      const stored = await compressImage(image.path, deploy.compression, stage, unpackedName);
      core.info(`${stored.name}: ${image.size} bytes, ${stored.size} compressed (${deploy.compression})`);
      summaryRow('compressed', formatSize(stored.size), ' as ', { code: stored.name });
      const verdict = sizeVerdict(stored.size, deploy.compression);
      if (verdict.level === 'fail') throw new Error(`input \`compression\`: ${verdict.message}`);
      if (verdict.level === 'warn') core.warning(verdict.message);
      const argsPath = join(stage, argsFileName(name));
      await mkdir(stage, { recursive: true });
      await writeFile(argsPath, argsFileContent(deploy.bootArgs));
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
      const extras = [configFile, ...others];
      const commitTime = await sourceCommitTime(ctx, sha, config.build.workingDirectory);
      if (commitTime === undefined) {
        core.info(
          `the commit time of ${sha} is unknown (no push event, and no git repository holding ` +
            `${config.build.workingDirectory} has it): \`latest\` moves to this build only if it names none with a commit time`,
        );
      }
      const entry: ImageEntry = {
        name,
        builtName: image.name,
        target,
        sha256: image.sha256,
        size: image.size,
        compression: deploy.compression,
        compressedSha256: stored.sha256,
        compressedSize: stored.size,
        bootArgs: deploy.bootArgs,
        configFile: configFile.name,
        files: Object.fromEntries(extras.map((f) => [f.name, f.sha256])),
        ...(sbom === undefined ? {} : { sbom: { ...sbomNames, packages: sbom.packages.length } }),
        run: { url: runUrl(ctx) },
        versions: { ocaml: setup.ocamlVersion, opam: setup.opamVersion, mirage: setup.mirageVersion },
        builtAt: new Date().toISOString(),
      };
      const files: LocalFile[] = [stored, ...extras].map((f) => ({ name: f.name, path: f.path, size: f.size }));
      return {
        files,
        imageFile: stored.name,
        entry,
        source: { repository: ctx.repository, sha, ref: ctx.ref, ...(commitTime ? { commitTime } : {}) },
      };
    });
    return timedGroup(`Deploy: write ${path}`, async () => {
      const access = await openGitAccess(cleared, ctx);
      const record =
        deploy.githubToken === undefined || deploy.dryRun
          ? undefined
          : await DeploymentRecord.start(
              deploy.githubToken,
              ctx,
              sha,
              deploy.environment,
              `${prepared.imageFile} into ${path}`,
              runUrl(ctx),
            );
      let result: WriteResult;
      try {
        result = await writeDeploy(access, ctx, settings(config, ctx, sha, workDir), {
          ...prepared,
          keep: deploy.keep,
          ...(image.sbom === undefined ? {} : { packages: image.sbom.packages }),
        });
      } catch (error) {
        await record?.status('failure');
        throw error;
      }
      if (result.diff !== undefined) {
        core.info(diffLines(result.diff).join('\n'));
        core.setOutput('diff', JSON.stringify(result.diff));
        summarySection(diffMarkdown(result.diff, name));
      }
      const done = outcome(result, access, path, 'deployed');
      await record?.status('success', done.url);
      return done;
    });
  });
}

export async function rollback(config: Config, ctx: RunContext, sha: string, cleared: Cleared): Promise<DeployOutcome> {
  const directory = config.deploy.directory;
  const path = deployFolder(directory, sha);
  return withWorkDir(ctx, (workDir) =>
    timedGroup(`Deploy: roll \`${directory}/latest\` back to ${sha}`, async () => {
      const access = await openGitAccess(cleared, ctx);
      const result = await writeRollback(access, settings(config, ctx, sha, workDir));
      return outcome(result, access, path, 'rolled latest back to');
    }),
  );
}

export const removeWorkDirs = removeTempFolders(WORK_FOLDERS, 'remove deploy work folders');
