/**
 * Deployed means running, end to end: the bundle deploys over the loopback sshd with
 * `github-token` against the loopback stand-in of the deployments API, creating the record before
 * the commit and naming it in `<directory>/latest.deployment`; the host updater, run again and
 * again as its timer would, reports to that record; with `wait-for-host: 240` the job waits for the
 * report and ends green when the host's health check passed, red when it rolled back.
 * One build job leaves dist/ (the two-job pattern); each deploy job deploys it with its own
 * boot arguments, which the host's health check accepts or refuses.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo } from '../support/bare-repo.js';
import { showFile, sshDeployInputs } from '../support/deploy-scenario.js';
import { useFixtureScope } from '../support/fixture-action.js';
import { startGithubApi, type GithubApi } from '../support/github-api.js';
import { FIXTURES, type CustomEvent, type RunResult } from '../support/harness.js';
import { current, recordingRestart, restarts, runPull, type PullRun } from '../support/host-pull.js';
import { startSshd, writeKeyFile, type SshdServer } from '../support/sshd.js';

const GOOD = 'a00d000000000000000000000000000000000001';
const BAD = 'bad0000000000000000000000000000000000002';
const ACTION_TOKEN = 'ghs_actionDeploymentsToken0123456789abcdef';
const HOST_TOKEN = 'github_pat_hostDeploymentsToken0123456789';

const fixture = useFixtureScope('host-report-bundle-');
let repo: string;
let sshd: SshdServer;
let api: GithubApi;
let artifact: string;
let host: { home: string; key: string; knownHosts: string; state: string; token: string; log: string };

function pushOf(sha: string, timestamp: string): CustomEvent {
  const payload = JSON.parse(readFileSync(join(FIXTURES, 'events', 'push-default-branch.json'), 'utf8'));
  return {
    name: 'push',
    payload: { ...payload, after: sha, head_commit: { ...payload.head_commit, id: sha, timestamp } },
    ref: payload.ref,
    sha,
  };
}

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'mirage-www-deployment.git'));
  sshd = await startSshd({ repoPath: repo });
  api = await startGithubApi();
  const dir = join(fixture.base, 'host');
  mkdirSync(join(dir, 'home'), { recursive: true });
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${sshd.knownHosts}\n`);
  const token = join(dir, 'github-token');
  writeFileSync(token, `${HOST_TOKEN}\n`, { mode: 0o600 });
  host = {
    home: join(dir, 'home'),
    key: await writeKeyFile(join(dir, 'read-only-key'), sshd.readOnlyKey),
    knownHosts,
    state: join(dir, 'state'),
    token,
    log: join(dir, 'restarts.log'),
  };
}, 120_000);

afterAll(async () => {
  await Promise.all([sshd?.stop(), api?.stop()]);
});

/** One run of the host's updater: the health check refuses an image whose boot arguments say `bad`. */
const pull = (): Promise<PullRun> =>
  runPull(
    [
      ...['--repository', sshd.url, '--directory', 'xen', '--state', host.state],
      ...['--ssh-key', host.key, '--known-hosts', host.knownHosts, '--xl-set', 'NAME=www'],
      ...['--restart', recordingRestart(host.log), '--health', 'case "$MIRAGE_ARGS" in *bad*) exit 1 ;; esac'],
      ...['--health-timeout', '2', '--health-try-timeout', '1'],
      ...['--github-token-file', host.token, '--github-repository', 'mirage/mirage-www'],
      ...['--github-api-url', api.url, '--log-url', 'https://logs.example.invalid/www'],
    ],
    { home: host.home },
  );

/** The updater every second, as a timer would, until `done` resolves; the runs' results. */
async function updaterLoop(done: Promise<unknown>): Promise<PullRun[]> {
  let over = false;
  void done.finally(() => (over = true));
  const runs: PullRun[] = [];
  while (!over) {
    runs.push(await pull());
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return runs;
}

/** A deploy job of the build job's dist/ as commit `sha`, with the action's reporting inputs. */
function deployJob(
  sha: string,
  time: string,
  inputs: Record<string, string>,
  event: CustomEvent | 'workflow_dispatch' = pushOf(sha, time),
): Promise<RunResult> {
  const workspace = join(fixture.base, `deploy-${sha.slice(0, 4)}`);
  rmSync(workspace, { recursive: true, force: true });
  mkdirSync(workspace, { recursive: true });
  cpSync(artifact, join(workspace, 'dist'), { recursive: true });
  return fixture.run({
    workspace,
    event,
    ...(event === 'workflow_dispatch' ? { sha } : {}),
    env: { GITHUB_API_URL: api.url },
    inputs: {
      target: 'xen',
      'image-path': 'dist',
      deploy: 'true',
      ...sshDeployInputs(sshd),
      'github-token': ACTION_TOKEN,
      ...inputs,
    },
    timeoutMs: 300_000,
  });
}

const deploymentOf = (sha: string) => [...api.deployments.values()].find((d) => d.sha === sha);

describe('wait-for-host: the job waits for the host to report', () => {
  it('the build job leaves dist/', async () => {
    const built = await fixture.runExample({ workspace: 'build', inputs: { target: 'xen', cache: 'false' } });
    expect(built.main.exitCode, built.log).toBe(0);
    artifact = join(built.dirs.workspace, 'hello', 'dist');
  }, 300_000);

  it('a good image: the record is named in latest.deployment, the host reports success, the job ends green', async () => {
    const job = deployJob(GOOD, '2026-12-07T10:00:00Z', { 'boot-args': '--mode=good', 'wait-for-host': '240' });
    const runs = await updaterLoop(job);
    const result = await job;
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs).toMatchObject({ deployed: 'true', 'host-status': 'success', 'host-running': 'true' });
    const deployment = deploymentOf(GOOD);
    expect(deployment, JSON.stringify([...api.deployments.values()])).toBeDefined();
    expect(await showFile(repo, 'main', 'xen/latest.deployment')).toBe(
      `repository=mirage/mirage-www\nid=${deployment?.id}\nenvironment=xen\nsha=${GOOD}\n`,
    );
    expect(deployment?.statuses.map((s) => [s.state, s.description])).toEqual([
      ['in_progress', 'pushing the image'],
      ['in_progress', 'pushed; waiting for the host'],
      ['in_progress', expect.stringMatching(/^swapped in on /)],
      ['success', expect.stringMatching(/^runs on .+: the health check passed$/)],
    ]);
    expect(runs.some((r) => r.stdout.includes(`reported success to deployment ${deployment?.id}`))).toBe(true);
    expect(restarts(host.log).map((r) => r.args)).toEqual(['--mode=good']);
    expect(result.log).toMatch(/the host runs xen\/a00d0+1: runs on .+: the health check passed/);
  }, 300_000);

  it('a bad image: the host rolls it back and reports failure, the job ends red with its reason', async () => {
    const job = deployJob(BAD, '2026-12-07T11:00:00Z', { 'boot-args': '--mode=bad', 'wait-for-host': '240' });
    const runs = await updaterLoop(job);
    const result = await job;
    expect(result.main.exitCode, result.log).not.toBe(0);
    expect(result.outputs).toMatchObject({ deployed: 'true', 'host-status': 'failure', 'host-running': 'false' });
    const deployment = deploymentOf(BAD);
    expect(await showFile(repo, 'main', 'xen/latest.deployment')).toBe(
      `repository=mirage/mirage-www\nid=${deployment?.id}\nenvironment=xen\nsha=${BAD}\n`,
    );
    expect(deployment?.statuses.map((s) => s.state)).toEqual(['in_progress', 'in_progress', 'in_progress', 'failure']);
    expect(result.errors.join('\n')).toMatch(
      /the host did not keep xen\/bad0+2 and rolled back: the health check did not pass within 2s on .+; rolled back to a00d00000000/,
    );
    expect(runs.some((r) => r.code === 1)).toBe(true);
    expect(current(host.state)).toBe(`images/${GOOD}`);
    // the good record keeps its success: a host never reports to an old or copied record
    expect(deploymentOf(GOOD)?.statuses.at(-1)?.state).toBe('success');
    const hostPosts = api.requests.filter((r) => r.method === 'POST' && r.authorization === `Bearer ${HOST_TOKEN}`);
    expect(hostPosts.map((r) => r.path)).toEqual([
      ...Array(2).fill(`/repos/mirage/mirage-www/deployments/${deploymentOf(GOOD)?.id}/statuses`),
      ...Array(2).fill(`/repos/mirage/mirage-www/deployments/${deployment?.id}/statuses`),
    ]);
  }, 300_000);

  it('without wait-for-host, host-reports leaves the record in_progress for the host; without either, success as before', async () => {
    const later = 'c0de000000000000000000000000000000000003';
    const reported = await deployJob(later, '2026-12-07T12:00:00Z', {
      'boot-args': '--mode=later',
      'host-reports': 'true',
    });
    expect(reported.main.exitCode, reported.log).toBe(0);
    expect(reported.outputs['host-status'] ?? '').toBe('');
    expect(deploymentOf(later)?.statuses.map((s) => s.state)).toEqual(['in_progress', 'in_progress']);
    const plain = 'd0d0000000000000000000000000000000000004';
    const before = await deployJob(plain, '2026-12-07T13:00:00Z', { 'boot-args': '--mode=plain' });
    expect(before.main.exitCode, before.log).toBe(0);
    expect(deploymentOf(plain)?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(await showFile(repo, 'main', 'xen/latest.deployment')).toContain(`id=${deploymentOf(plain)?.id}\n`);
  }, 300_000);

  it('rollback-to makes its own record, named in latest.deployment; the host swaps back and reports to it', async () => {
    const plain = 'd0d0000000000000000000000000000000000004';
    const first = await pull();
    expect(first.code, first.output).toBe(0);
    expect(current(host.state)).toBe(`images/${plain}`);
    const job = deployJob(GOOD, '', { 'rollback-to': GOOD, 'wait-for-host': '240' }, 'workflow_dispatch');
    await updaterLoop(job);
    const result = await job;
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs).toMatchObject({ 'host-status': 'success', 'host-running': 'true' });
    const named = /^id=(\d+)$/m.exec(await showFile(repo, 'main', 'xen/latest.deployment'))?.[1];
    const record = api.deployments.get(Number(named));
    expect(record?.id).not.toBe(deploymentOf(GOOD)?.id);
    expect(record?.sha).toBe(GOOD);
    expect(record?.statuses.map((s) => s.state)).toEqual(['in_progress', 'in_progress', 'in_progress', 'success']);
    expect(current(host.state)).toBe(`images/${GOOD}`);
  }, 300_000);
});
