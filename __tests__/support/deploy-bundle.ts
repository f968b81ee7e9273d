// Bundles the deploy phase (src/deploy/index.ts and the credentials preflight main runs before it)
// with the options scripts/bundle.mjs uses (scripts/esbuild-node.mjs), so that tests can run it in
// separate processes, as matrix jobs would.
import { build } from 'esbuild';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NODE_ESM_BUNDLE } from '../../scripts/esbuild-node.mjs';
import type { DeployOutcome } from '../../src/types.js';
import { afterAll, beforeAll } from 'vitest';
import { createBareRepo, runProcess } from './bare-repo.js';
import { useDeployScratch, type DeployScratchScope } from './deploy-scratch.js';
import { startSshd, type SshdServer } from './sshd.js';
import { PROJECT_ROOT } from './harness.js';

export const DEPLOY_WORKER = path.join(PROJECT_ROOT, '__tests__/support/deploy-worker.mjs');

/** Writes `<outdir>/deploy.js` and returns its path. */
export async function bundleDeploy(outdir: string): Promise<string> {
  const outfile = path.join(outdir, 'deploy.js');
  await build({
    ...NODE_ESM_BUNDLE,
    stdin: {
      contents: [
        "export { deployImage, promote, rollback } from './src/deploy/index.ts';",
        "export { preflight } from './src/deploy/credentials/preflight.ts';",
        "export { readSourceFacts } from './src/deploy/source.ts';",
      ].join('\n'),
      resolveDir: PROJECT_ROOT,
      loader: 'ts',
    },
    outfile,
  });
  return outfile;
}

export interface WorkerJob {
  readonly config: unknown;
  readonly ctx: unknown;
  readonly image?: unknown;
  readonly setup?: unknown;
  readonly rollbackTo?: string;
}

export interface WorkerRun {
  readonly code: number | null;
  /** Everything the process printed (the action's log). */
  readonly log: string;
  readonly result: { ok: true; outcome: DeployOutcome } | { ok: false; error: string };
}

let jobs = 0;

/** Runs one job in a fresh `node` process on the bundle; resolves when it exits. */
export async function runWorker(bundle: string, job: WorkerJob, dir: string): Promise<WorkerRun> {
  const id = ++jobs;
  const jobFile = path.join(dir, `job-${id}.json`);
  const resultFile = path.join(dir, `result-${id}.json`);
  await writeFile(jobFile, JSON.stringify(job));
  const run = await runProcess(process.execPath, [DEPLOY_WORKER, bundle, jobFile, resultFile], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    timeoutMs: 240_000,
  });
  const text = await readFile(resultFile, 'utf8').catch(() => '');
  return {
    code: run.code,
    log: `${run.stdout}${run.stderr}`,
    result: text ? JSON.parse(text) : { ok: false, error: `no result; the process said:\n${run.stderr}` },
  };
}

export interface DeployServer {
  readonly scratch: DeployScratchScope;
  /** The bundled deploy phase (`bundleDeploy`), a fresh bare deployment repository and the test sshd serving it. */
  bundle: string;
  repo: string;
  sshd: SshdServer;
  /** `minutes` after the file's start time, as a commit time. */
  readonly at: (minutes: number) => string;
}

/** One test file's deploy server, made before its tests and stopped after them. */
export function useDeployServer(prefix: string, start = '2026-01-01T08:00:00Z'): DeployServer {
  const scratch = useDeployScratch(prefix);
  const t0 = Date.parse(start);
  const server: DeployServer = {
    scratch,
    bundle: '',
    repo: '',
    sshd: undefined as unknown as SshdServer,
    at: (minutes) => new Date(t0 + minutes * 60_000).toISOString(),
  };
  beforeAll(async () => {
    server.bundle = await bundleDeploy(path.join(scratch.base, 'bundle'));
    server.repo = await createBareRepo(path.join(scratch.base, 'deployment.git'));
    server.sshd = await startSshd({ repoPath: server.repo });
  });
  afterAll(async () => {
    await server.sshd?.stop();
  });
  return server;
}
