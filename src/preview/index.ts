/**
 * The pull-request preview's effects. Before the build, `<directory>/latest` of the deployment
 * repository is read without the write secret (anonymous HTTPS, or the read-only `preview-key`,
 * whose file is gone before any build code runs); after it, the diff goes into the job summary, a
 * preview file in `dist/mirage-deploy/`, and one comment per `<directory>/<image>` on the pull
 * request (src/preview/github.ts). A fork's run cannot comment: its preview file goes, as an
 * artifact, to a `workflow_run` job that runs this action with `pr-comment-from` (commentFromFile).
 */
import * as core from '@actions/core';
import { mkdir, writeFile } from 'node:fs/promises';
import { readCapped } from '../capped-read.js';
import { dirname, join } from 'node:path';
import type { Config } from '../config.js';
import type { RunContext } from '../context.js';
import { anonymousAccess } from '../albatross/previous.js';
import { preflight } from '../deploy/credentials/preflight.js';
import { NO_PROMPTS, sshCommand, type GitAccess } from '../deploy/credentials/plan.js';
import { keyProblem } from '../deploy/credentials/secret-shape.js';
import { withWorkDir } from '../deploy/index.js';
import { parseManifest } from '../deploy/manifest.js';
import { MANIFEST_FILE, parseLatest } from '../deploy/plan.js';
import { readLatestImage } from '../deploy/repository/changes.js';
import { DeploymentRepository } from '../deploy/repository/git.js';
import { diffWithLatest, identifyLatest, listTarget, type LatestImage } from '../deploy/repository/plan.js';
import { HANDOVER_DIR, type BuildVersions } from '../mirage/prebuilt.js';
import { summarySection } from '../summary.js';
import type { BuiltImage } from '../types.js';
import {
  PREVIEW_FILE,
  PREVIEW_SCHEMA,
  parsePreview,
  previewMarkdown,
  pullRequestNumber,
  type Preview,
} from './plan.js';
import { checkPullRequestHead, upsertComment } from './github.js';

/** What `<directory>/latest` held before the build: each of its images by deployed name. */
export interface PreviewBase {
  readonly latestSha?: string;
  readonly images: ReadonlyMap<string, LatestImage>;
}

/** Whether this run previews: `pr-comment` on a `pull_request` run that builds. */
export function previewWanted(config: Config, ctx: RunContext): boolean {
  return config.preview.comment && ctx.eventName === 'pull_request' && config.deploy.rollbackTo === undefined;
}

/** Read access with `preview-key`, its key file in `dir`; or anonymous HTTPS. Undefined after a warning. */
async function readAccess(config: Config, dir: string): Promise<GitAccess | undefined> {
  const key = config.preview.key;
  if (key === undefined) {
    const access = anonymousAccess(config);
    if (access === undefined) {
      core.warning(
        'input `pr-comment`: `deploy-repository` is an SSH URL, which cannot be read anonymously; give a read-only ' +
          '`preview-key` (a deploy key without write access). No preview.',
      );
    }
    return access;
  }
  const problem = keyProblem(key);
  if (problem !== undefined) throw new Error(`input \`preview-key\`: ${problem}`);
  const cleared = await preflight({ ...config.deploy, key, token: undefined });
  if (cleared.secret.kind !== 'deploy-key') return undefined;
  const keyPath = join(dir, 'preview-key');
  const knownHostsPath = join(dir, 'known_hosts');
  await writeFile(keyPath, cleared.secret.key, { mode: 0o600, flag: 'wx' });
  await writeFile(knownHostsPath, cleared.secret.hosts.text, { mode: 0o600, flag: 'wx' });
  return {
    url: cleared.endpoint.url,
    display: cleared.endpoint.display,
    env: { ...NO_PROMPTS, GIT_SSH_COMMAND: sshCommand(keyPath, knownHostsPath), GIT_SSH_VARIANT: 'ssh' },
  };
}

async function readImages(access: GitAccess, config: Config, dir: string): Promise<PreviewBase> {
  const { deploy } = config;
  const author = { name: deploy.commitUserName, email: deploy.commitUserEmail };
  const { repo, tip } = await DeploymentRepository.open(access, join(dir, 'read'), author, deploy.repositoryBranch);
  if (tip === undefined) return { images: new Map() };
  const entries = await repo.listDirectory(tip, deploy.directory);
  const top = listTarget(entries, deploy.directory);
  let latestSha = identifyLatest(top);
  if (latestSha === undefined && top.latestOid !== undefined) {
    await repo.fetchBlobs([top.latestOid]);
    latestSha = parseLatest(await repo.readText(top.latestOid));
  }
  const tree = latestSha === undefined ? undefined : top.trees?.get(latestSha);
  if (latestSha === undefined || tree === undefined) return { images: new Map() };
  const listed = await repo.listFolders(deploy.directory, new Map([[latestSha, tree]]));
  const files = listTarget(listed, deploy.directory).folders.get(latestSha);
  const manifestOid = files?.get(MANIFEST_FILE);
  if (manifestOid !== undefined) await repo.fetchBlobs([manifestOid]);
  const manifest = manifestOid === undefined ? undefined : parseManifest(await repo.readText(manifestOid));
  const images = new Map<string, LatestImage>();
  for (const entry of Object.values(manifest?.images ?? {})) {
    images.set(entry.name, await readLatestImage(repo, latestSha, files, manifest, entry.name));
  }
  // A folder without a readable manifest: compared, but without sizes or packages.
  return { latestSha, images: manifest === undefined ? new Map([['', { against: latestSha }]]) : images };
}

/**
 * `<directory>/latest` of the deployment repository, read before any build code runs; undefined,
 * after a warning, when it cannot be read (the build goes on: a preview is a report).
 */
export async function readPreviewBase(config: Config, ctx: RunContext): Promise<PreviewBase | undefined> {
  core.startGroup(`Preview: reading ${config.deploy.directory}/latest of ${config.deploy.repository}`);
  try {
    return await withWorkDir(ctx, async (dir) => {
      const access = await readAccess(config, dir);
      if (access === undefined) return undefined;
      const base = await readImages(access, config, dir);
      core.info(
        base.latestSha === undefined
          ? `${config.deploy.directory}/latest names no deploy: the preview says "first deploy"`
          : `${config.deploy.directory}/latest names ${base.latestSha}: images ${[...base.images.keys()].join(', ')}`,
      );
      return base;
    });
  } catch (error) {
    core.warning(
      `input \`pr-comment\`: the deployment repository could not be read for the preview: ${(error as Error).message}`,
    );
    return undefined;
  } finally {
    core.endGroup();
  }
}

/** The preview of the built image against what `latest` held. */
export function makePreview(
  config: Config,
  ctx: RunContext,
  image: BuiltImage,
  versions: BuildVersions,
  base: PreviewBase,
): Preview {
  const name = config.deploy.imageName ?? image.name;
  // No image of that name in `latest`'s folder: its first deploy under that name.
  const latest = base.images.get(name) ?? base.images.get('') ?? {};
  const current = {
    size: image.size,
    versions: { ocaml: versions.ocamlVersion, opam: versions.opamVersion, mirage: versions.mirageVersion },
  };
  return {
    schema: PREVIEW_SCHEMA,
    pullRequest: pullRequestNumber(ctx.payload) ?? 0,
    headSha: ctx.payload.pull_request?.head?.sha ?? ctx.sha,
    directory: config.deploy.directory,
    image: name,
    size: image.size,
    sha256: image.sha256,
    diff: diffWithLatest(latest, current, image.sbom?.packages),
  };
}

/** Whose code a pull request run holds: a fork's run has a read-only token and cannot comment. */
function isFork(ctx: RunContext): boolean {
  const pr = ctx.payload.pull_request;
  const head = pr?.head?.repo;
  return head === undefined || head === null || head.full_name !== pr?.base?.repo?.full_name;
}

/** After the build: the summary section, the preview file, and the comment (not from a fork). */
export async function reportPreview(
  config: Config,
  ctx: RunContext,
  image: BuiltImage,
  versions: BuildVersions,
  base: PreviewBase,
): Promise<void> {
  const preview = makePreview(config, ctx, image, versions, base);
  summarySection(previewMarkdown(preview));
  const file = join(dirname(image.path), HANDOVER_DIR, PREVIEW_FILE);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(preview, null, 2)}\n`);
  core.setOutput('preview', file);
  core.info(`preview of ${preview.directory}/${preview.image} written to ${file}`);
  const token = config.deploy.githubToken;
  if (token === undefined) return;
  if (preview.pullRequest === 0) {
    core.warning('input `pr-comment`: the event names no pull request number; no comment');
    return;
  }
  if (isFork(ctx)) {
    core.notice(
      'pr-comment: a pull request from a fork gets a read-only token, so this job does not comment; upload ' +
        `${file} as an artifact and comment from a \`workflow_run\` job with \`pr-comment-from\``,
    );
    return;
  }
  const url = await upsertComment(token, ctx, preview);
  if (url !== undefined) core.setOutput('preview-comment', url);
}

/** The largest preview file read: a few thousand package rows. */
const MAX_PREVIEW_BYTES = 4 * 1024 * 1024;

/**
 * Comment-only mode (`pr-comment-from`): the preview file a build job left, checked (a fork's code
 * ran in that job), posted on the pull request it names once the API confirms that pull request's
 * head is the commit this `workflow_run` built. Builds and deploys nothing.
 */
export async function commentFromFile(config: Config, ctx: RunContext): Promise<void> {
  const file = config.preview.from ?? '';
  const read = await readCapped(file, MAX_PREVIEW_BYTES);
  if (read.kind === 'too-large') {
    throw new Error(`input \`pr-comment-from\`: ${file} is ${read.size} bytes, more than a preview file holds`);
  }
  if (read.kind !== 'read') {
    throw new Error(
      `input \`pr-comment-from\`: ${file} is not a file; give the ${PREVIEW_FILE} the build job uploaded`,
    );
  }
  const parsed = parsePreview(read.text);
  if ('problem' in parsed)
    throw new Error(`input \`pr-comment-from\`: ${file} is not a preview file: ${parsed.problem}`);
  const { preview } = parsed;
  const built = ctx.payload.workflow_run?.head_sha;
  if (ctx.eventName === 'workflow_run' && built !== preview.headSha) {
    throw new Error(
      `input \`pr-comment-from\`: ${file} says it was built from ${preview.headSha}, but the workflow run built ` +
        `${built ?? '(no sha)'}; give the preview file of this run's artifact`,
    );
  }
  summarySection(previewMarkdown(preview));
  const token = config.deploy.githubToken ?? '';
  if (!(await checkPullRequestHead(token, ctx, preview))) return;
  const url = await upsertComment(token, ctx, preview);
  if (url !== undefined) core.setOutput('preview-comment', url);
}
