/**
 * Submits the deployed image's locked packages to GitHub's dependency submission API
 * (`dependency-graph: true`), after the deploy. A report like the deployment records: a refusal
 * (a token without `contents: write`, GHES without the API, a timeout) warns, never fails the deploy.
 */
import * as core from '@actions/core';
import { getOctokit } from '@actions/github';
import { lstat, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import packageJson from '../../package.json' with { type: 'json' };
import type { Config } from '../config.js';
import { runUrl, type RunContext } from '../context.js';
import { deadlineSignal } from '../cancel.js';
import { deadline, GITHUB_API_DEADLINE_MS } from '../deadlines.js';
import { parseLockFile, type LockFile } from '../sbom/lock.js';
import { summaryRow } from '../summary.js';
import type { BuiltImage } from '../types.js';
import { dependencySnapshot, dependsNames, submissionWarning } from './plan.js';

/** The `depends` of the lock's roots, from `<root>.opam` beside the lock file; undefined when one is not there. */
async function directNames(lock: LockFile, lockPath: string): Promise<Set<string> | undefined> {
  const names = new Set<string>();
  for (const root of lock.rootPackages) {
    const path = join(dirname(lockPath), `${root}.opam`);
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined || !info.isFile()) return undefined;
    for (const name of dependsNames(await readFile(path, 'utf8'))) names.add(name);
  }
  return lock.rootPackages.length > 0 ? names : undefined;
}

function failure(error: unknown): { status: number | undefined; message: string } {
  const status =
    typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : undefined;
  const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
  return { status, message };
}

/** Submits one snapshot for the image deployed as `<directory>/<name>`; only warns on failure. */
export async function submitDependencies(
  config: Config,
  ctx: RunContext,
  image: BuiltImage,
  sha: string,
): Promise<void> {
  const token = config.deploy.githubToken;
  if (!config.deploy.dependencyGraph || token === undefined) return;
  const name = config.deploy.imageName ?? image.name;
  const lockPath = image.sbom?.lockFile;
  if (lockPath === undefined) {
    core.warning('input `dependency-graph`: the build left no lock file, so there is no package to submit');
    return;
  }
  const lock = parseLockFile(await readFile(lockPath, 'utf8'));
  const direct = await directNames(lock, lockPath);
  const workingDirectory = relative(ctx.workspace, config.build.workingDirectory) || '.';
  const snapshot = dependencySnapshot({
    lock,
    ...(direct === undefined ? {} : { direct }),
    image: `${config.deploy.directory}/${name}`,
    sourceLocation: join(workingDirectory, 'mirage', basename(lockPath)),
    sha,
    ref: ctx.ref,
    runId: ctx.runId,
    runUrl: runUrl(ctx),
    detector: { name: 'mirage-deploy', version: packageJson.version, url: `${ctx.serverUrl}/${ctx.repository}` },
    scanned: new Date().toISOString(),
  });
  const [owner = '', repo = ''] = ctx.repository.split('/');
  try {
    const answer = await getOctokit(token, { baseUrl: ctx.apiUrl }).request(
      'POST /repos/{owner}/{repo}/dependency-graph/snapshots',
      { owner, repo, ...snapshot, request: { signal: deadlineSignal(deadline(GITHUB_API_DEADLINE_MS)) } },
    );
    summaryRow('dependency graph', `${lock.packages.length} packages submitted`);
    core.info(
      `dependency graph: ${lock.packages.length} packages of ${snapshot.job.correlator} submitted ` +
        `(snapshot ${String((answer.data as { id?: unknown }).id ?? '?')})`,
    );
  } catch (error) {
    const { status, message } = failure(error);
    core.warning(submissionWarning(status, message));
    summaryRow('dependency graph', `not submitted (${status ?? 'no answer'})`);
  }
}
