// GitHub deployment records (`github-token`): the bundled deploy phase in its own process against
// the real sshd and a loopback stand-in of the deployments REST API that records every request.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPreReceiveHook, snapshotRepo } from '../support/bare-repo.js';
import { runWorker, useDeployServer, type WorkerJob } from '../support/deploy-bundle.js';
import { deployConfig, makeImage, SETUP, shaOf, showFile, sshDeployInputs } from '../support/deploy-scenario.js';
import { startGithubApi, type GithubApi } from '../support/github-api.js';

const TOKEN = 'ghs_deploymentsWriteToken0123456789abcdef';
const READ_ONLY = 'ghs_readOnlyToken0123456789abcdefghijklmn';
const server = useDeployServer('deploy-records-');
const { scratch } = server;
let api: GithubApi;

beforeAll(async () => {
  api = await startGithubApi({ readOnlyTokens: [READ_ONLY] });
});

afterAll(async () => {
  await api?.stop();
});

let builds = 0;
async function job(sha: string, inputs: Record<string, string>): Promise<WorkerJob> {
  const ctx = { ...scratch.context({ sha, commitTime: new Date().toISOString() }), apiUrl: api.url };
  const config = deployConfig(ctx, { target: 'xen', ...sshDeployInputs(server.sshd), ...inputs });
  const image = await makeImage(path.join(scratch.base, 'build', String(++builds)), { target: 'xen', seed: sha });
  return { config, ctx, image, setup: SETUP };
}

/** The log as the runner shows it: it consumes `::add-mask::` commands and masks their values. */
function expectMasked(log: string, token: string): void {
  expect(log).toContain(`::add-mask::${token}\n`);
  expect(log.replace(/^::add-mask::.*$/gm, '')).not.toContain(token);
}

const RUN_URL = 'https://github.com/mirage/mirage-www/actions/runs/4242';

describe('the loopback deployments API', () => {
  it('answers 409 to a deployment without auto_merge: false and required_contexts: [] (as the REST API does)', async () => {
    const res = await fetch(`${api.url}/repos/mirage/mirage-www/deployments`, {
      method: 'POST',
      headers: { authorization: `token ${TOKEN}` },
      body: JSON.stringify({ ref: 'main', environment: 'xen' }),
    });
    expect(res.status).toBe(409);
    api.requests.length = 0;
  });
});

describe('github-token', () => {
  it('creates a deployment of the source sha before the push, in_progress, then success with the run', async () => {
    const sha = shaOf('records ok');
    const run = await runWorker(server.bundle, await job(sha, { 'github-token': TOKEN }), scratch.base);
    expect(run.result, run.log).toMatchObject({ ok: true, outcome: { deployed: true } });
    expect(api.requests.map((r) => [r.method, r.path.replace(/\d+/, 'ID')])).toEqual([
      ['POST', '/repos/mirage/mirage-www/deployments'],
      ['POST', '/repos/mirage/mirage-www/deployments/ID/statuses'],
      ['POST', '/repos/mirage/mirage-www/deployments/ID/statuses'],
    ]);
    const [created, progress, success] = api.requests;
    expect(created?.body).toMatchObject({
      ref: sha,
      environment: 'xen',
      auto_merge: false,
      required_contexts: [],
    });
    expect(created?.authorization).toBe(`token ${TOKEN}`);
    expect(progress?.body).toMatchObject({ state: 'in_progress', log_url: RUN_URL });
    expect(success?.body).toMatchObject({ state: 'success', log_url: RUN_URL });
    expect(run.log).toMatch(/GitHub deployment 1\d{3} of [0-9a-f]{12} in environment `xen`/);
    expectMasked(run.log, TOKEN);
    expect(await showFile(server.repo, 'main', 'xen/latest')).toBe(`${sha}\n`);
  }, 120_000);

  it('`environment` names the environment; a refused push sets the record to failure', async () => {
    api.requests.length = 0;
    await setPreReceiveHook(server.repo, 'reject-always');
    try {
      const run = await runWorker(
        server.bundle,
        await job(shaOf('records refused'), { 'github-token': TOKEN, environment: 'production' }),
        scratch.base,
      );
      expect(run.code).toBe(1);
      expect(api.requests.map((r) => r.body.state ?? r.body.environment)).toEqual([
        'production',
        'in_progress',
        'failure',
      ]);
      expectMasked(run.log, TOKEN);
    } finally {
      await setPreReceiveHook(server.repo, 'none');
    }
  }, 120_000);

  it('a token without deployments: write gives a warning naming the input, and the deploy still lands', async () => {
    api.requests.length = 0;
    const sha = shaOf('records read-only');
    const run = await runWorker(server.bundle, await job(sha, { 'github-token': READ_ONLY }), scratch.base);
    expect(run.result, run.log).toMatchObject({ ok: true, outcome: { deployed: true } });
    expect(run.log).toMatch(
      /::warning::input `github-token`: creating the GitHub deployment failed \(403: Resource not accessible by integration.*\); give the token `deployments: write`/,
    );
    expect(api.requests).toHaveLength(1);
    expect(await showFile(server.repo, 'main', 'xen/latest')).toBe(`${sha}\n`);
    expectMasked(run.log, READ_ONLY);
  }, 120_000);

  it('a dry run creates no record', async () => {
    api.requests.length = 0;
    const before = await snapshotRepo(server.repo);
    const run = await runWorker(
      server.bundle,
      await job(shaOf('records dry'), { 'github-token': TOKEN, 'dry-run': 'true' }),
      scratch.base,
    );
    expect(run.result, run.log).toMatchObject({ ok: true, outcome: { deployed: false } });
    expect(api.requests).toEqual([]);
    expect(await snapshotRepo(server.repo)).toBe(before);
  }, 120_000);

  it('an unreachable API warns and the deploy lands', async () => {
    const sha = shaOf('records unreachable');
    const j = await job(sha, { 'github-token': TOKEN });
    const ctx = { ...(j.ctx as object), apiUrl: 'http://127.0.0.1:9' };
    const run = await runWorker(server.bundle, { ...j, ctx }, scratch.base);
    expect(run.result, run.log).toMatchObject({ ok: true, outcome: { deployed: true } });
    expect(run.log).toMatch(/::warning::input `github-token`: creating the GitHub deployment failed/);
  }, 120_000);
});
