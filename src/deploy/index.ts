/**
 * The deploy phase: compress the image, then write `<target>/<sha>/` and `<target>/latest` into
 * the deployment repository (src/deploy/writer.ts), or move `latest` back for `rollback-to`.
 *
 * Outputs: `deployed` is true when the image is in the repository after this run — pushed now, or
 * already there from an earlier run of the same build. A dry run pushes nothing, so it reports
 * `deployed=false` (unless the image was already there) and no commit, but still the path.
 */
import * as core from '@actions/core';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Config } from '../config.js';
import { runUrl, type RunContext } from '../context.js';
import { formatSize } from '../mirage/plan.js';
import type { PostTask } from '../post-step.js';
import { appendJsonState, readJsonState, STATE } from '../state.js';
import { summaryRow, summarySection } from '../summary.js';
import type { BuildVersions } from '../mirage/prebuilt.js';
import type { BuiltImage, DeployOutcome } from '../types.js';
import { openGitAccess } from './access.js';
import { compressImage } from './compress.js';
import { deployFolder, isSourceSha, sizeVerdict } from './layout.js';
import { MANIFEST_SCHEMA, type Manifest } from './manifest.js';
import { sourceCommitTime } from './source.js';
import type { GitAccess } from './types.js';
import { writeDeploy, writeRollback, type WriteResult, type WriteSettings } from './writer.js';

function sourceSha(ctx: RunContext): string {
  const sha = ctx.sha.toLowerCase();
  if (!isSourceSha(sha)) {
    throw new Error(
      `GITHUB_SHA is \`${ctx.sha}\`, not a full commit sha, so there is no \`<target>/<sha>\` folder to deploy to; ` +
        'run the action from a workflow triggered by a commit',
    );
  }
  return sha;
}

function settings(config: Config, ctx: RunContext, sha: string, workDir: string): WriteSettings {
  const { deploy } = config;
  return {
    target: config.build.target,
    sha,
    ...(deploy.repositoryBranch === undefined ? {} : { branch: deploy.repositoryBranch }),
    dryRun: deploy.dryRun,
    author: { name: deploy.commitUserName, email: deploy.commitUserEmail },
    ...(deploy.commitMessage === undefined ? {} : { subject: deploy.commitMessage }),
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

const WORK_DIR_PREFIX = 'mirage-deploy-work-';

/**
 * Runs `body` with a private work folder under RUNNER_TEMP, removed however it ends; registered for
 * the post step too, for when main is killed (a cancelled job, the runner's timeout).
 */
async function withWorkDir<T>(ctx: RunContext, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(resolve(ctx.runnerTemp), WORK_DIR_PREFIX));
  appendJsonState(STATE.workDirs, dir);
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function inGroup<T>(name: string, body: () => Promise<T>): Promise<T> {
  core.startGroup(name);
  try {
    return await body();
  } finally {
    core.endGroup();
  }
}

export async function deployImage(
  config: Config,
  ctx: RunContext,
  image: BuiltImage,
  setup: BuildVersions,
): Promise<DeployOutcome> {
  const { deploy } = config;
  const target = config.build.target;
  const sha = sourceSha(ctx);
  const path = deployFolder(target, sha);
  return withWorkDir(ctx, async (workDir) => {
    const prepared = await inGroup(`Deploy: prepare ${path}`, async () => {
      const stored = await compressImage(image.path, deploy.compression, join(workDir, 'stage'));
      core.info(`${stored.name}: ${image.size} bytes, ${stored.size} compressed (${deploy.compression})`);
      summaryRow('compressed', formatSize(stored.size), ' as ', { code: stored.name });
      const verdict = sizeVerdict(stored.size, deploy.compression);
      if (verdict.level === 'fail') throw new Error(`input \`compression\`: ${verdict.message}`);
      if (verdict.level === 'warn') core.warning(verdict.message);
      const extras = [image.configFile, ...image.sideFiles];
      const files = [
        { name: stored.name, path: stored.path, size: stored.size },
        ...(await Promise.all(extras.map(async (p) => ({ name: basename(p), path: p, size: (await stat(p)).size })))),
      ];
      const commitTime = await sourceCommitTime(ctx, sha, config.build.workingDirectory);
      const builtAt = new Date().toISOString();
      if (commitTime === undefined) {
        core.info(
          `the commit time of ${sha} is unknown (no push event, and no git repository holding ` +
            `${config.build.workingDirectory} has it): \`latest\` moves to this build only if it names none with a commit time`,
        );
      }
      const manifest: Manifest = {
        schema: MANIFEST_SCHEMA,
        source: { repository: ctx.repository, sha, ref: ctx.ref, ...(commitTime ? { commitTime } : {}) },
        run: { url: runUrl(ctx) },
        target,
        image: {
          name: image.name,
          file: stored.name,
          sha256: image.sha256,
          size: image.size,
          compression: deploy.compression,
          compressedSha256: stored.sha256,
          compressedSize: stored.size,
        },
        files: extras.map((p) => basename(p)),
        versions: { ocaml: setup.ocamlVersion, opam: setup.opamVersion, mirage: setup.mirageVersion },
        builtAt,
      };
      return { files, manifest };
    });
    return inGroup(`Deploy: write ${path}`, async () => {
      const access = await openGitAccess(deploy, ctx);
      const result = await writeDeploy(access, ctx, settings(config, ctx, sha, workDir), {
        ...prepared,
        keep: deploy.keep,
      });
      return outcome(result, access, path, 'deployed');
    });
  });
}

export async function rollback(config: Config, ctx: RunContext, sha: string): Promise<DeployOutcome> {
  const target = config.build.target;
  const path = deployFolder(target, sha);
  return withWorkDir(ctx, (workDir) =>
    inGroup(`Deploy: roll \`${target}/latest\` back to ${sha}`, async () => {
      const access = await openGitAccess(config.deploy, ctx);
      const result = await writeRollback(access, settings(config, ctx, sha, workDir));
      return outcome(result, access, path, 'rolled latest back to');
    }),
  );
}

/** Only folders withWorkDir makes: directly in RUNNER_TEMP, with its prefix and mkdtemp's suffix. */
export function isWorkDir(dir: string, runnerTemp: string): boolean {
  const name = basename(dir);
  return (
    isAbsolute(dir) &&
    dirname(dir) === resolve(runnerTemp) &&
    name.startsWith(WORK_DIR_PREFIX) &&
    /^[A-Za-z0-9]{6}$/.test(name.slice(WORK_DIR_PREFIX.length))
  );
}

export const removeWorkDirs: PostTask = {
  name: 'remove deploy work folders',
  async run() {
    const runnerTemp = process.env.RUNNER_TEMP ?? tmpdir();
    const dirs = readJsonState<unknown>(STATE.workDirs, []);
    for (const dir of Array.isArray(dirs) ? dirs : []) {
      if (typeof dir !== 'string' || !isWorkDir(dir, runnerTemp)) {
        core.warning(`post step: not removing ${String(dir)}: it is not a work folder of this action in RUNNER_TEMP`);
        continue;
      }
      await rm(dir, { recursive: true, force: true });
    }
  },
};
