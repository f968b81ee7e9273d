/**
 * A cancelled job, through the bundle: the runner sends main SIGINT, then SIGTERM, then SIGKILL.
 * Whichever of the three arrives while a push stalls (the server took the pack and never answers),
 * no git, ssh or remote helper of the run is left 2 s later, and nothing more is pushed. A push that
 * had completed before the signal (the job is reporting its deployment to the API) is reported as
 * landed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createBareRepo } from '../support/bare-repo.js';
import { bareGit, sshDeployInputs } from '../support/deploy-scenario.js';
import { useFixtureScope } from '../support/fixture-action.js';
import { startGitHttp, type GitHttpServer } from '../support/git-http.js';
import { startGithubApi, type GithubApi } from '../support/github-api.js';
import type { RunOptions, RunResult } from '../support/harness.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const TOKEN = `github_pat_${randomBytes(24).toString('hex')}`;
const API_TOKEN = `ghs_${randomBytes(18).toString('hex')}`;

/** The programs a deploy's network step runs, and what ties them to main. */
const NETWORK_PROGRAMS = new Set(['git', 'ssh', 'git-remote-http', 'git-remote-https', 'bwrap', 'setpriv']);

/** Processes of those programs that name the run's folders (git's HOME and GIT_DIR are in RUNNER_TEMP). */
function networkProcessesOf(root: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!NETWORK_PROGRAMS.has(comm) || stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (cmdline.includes(root) || environ.includes(root)) found.push(`${entry} ${cmdline}`);
    } catch {
      // gone
    }
  }
  return found;
}

interface Cancelled {
  readonly result: RunResult;
  /** The run's network processes when the signal was sent. */
  readonly before: string[];
  /** Those left 2 s after it. */
  readonly after: string[];
}

const fixture = useFixtureScope('cancel-');
let repo: string;
let sshd: SshdServer;
let http: GitHttpServer;
let api: GithubApi;
let landingRepo: string;
let landingHttp: GitHttpServer;

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'srv', 'stalled.git'));
  landingRepo = await createBareRepo(join(fixture.base, 'srv', 'landing.git'));
  [sshd, http, landingHttp, api] = await Promise.all([
    startSshd({ repoPath: repo, stallReceivePack: true }),
    startGitHttp({ repoPath: repo, token: TOKEN, stallReceivePack: true }),
    startGitHttp({ repoPath: landingRepo, token: TOKEN }),
    startGithubApi({ stallState: 'success' }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([sshd?.stop(), http?.stop(), landingHttp?.stop(), api?.stop()]);
});

/**
 * A job that builds example/hello and deploys; `signal` goes to main once `ready()` says so, and
 * the run's network processes are then polled for up to 2 s.
 */
async function cancelledRun(
  name: string,
  inputs: Record<string, string>,
  signal: NodeJS.Signals,
  ready: () => boolean,
  options: Partial<RunOptions> = {},
): Promise<Cancelled> {
  let main: { pid: number; root: string } | undefined;
  let done = false;
  const running = fixture
    .runExample({
      workspace: name,
      inputs: { target: 'unix', cache: 'false', deploy: 'true', ...inputs },
      event: 'push-default-branch',
      timeoutMs: 120_000,
      onStart: (step, pid, dirs) => {
        if (step === 'main') main = { pid, root: dirs.root };
      },
      ...options,
    })
    .finally(() => (done = true));
  while (!done && !(main && ready())) await sleep(50);
  if (main === undefined || done) throw new Error(`${name}: main ended before the moment to signal it`);
  const before = networkProcessesOf(main.root);
  process.kill(main.pid, signal);
  let after = networkProcessesOf(main.root);
  for (
    const until = Date.now() + 2_000;
    after.length > 0 && Date.now() < until;
    after = networkProcessesOf(main.root)
  ) {
    await sleep(50);
  }
  return { result: await running, before, after };
}

const pushStalledOverHttp = () =>
  http.requests().some((r) => r.method === 'POST' && r.path.endsWith('/git-receive-pack'));
const sshPushes = () => sshd.commands().filter((c) => c.startsWith('git-receive-pack')).length;

async function branchTip(bare: string): Promise<string> {
  return (await bareGit(bare, ['for-each-ref', '--format=%(objectname)', 'refs/heads/main'])).trim();
}

function expectCancelledAndClean(run: Cancelled, signal: NodeJS.Signals): void {
  expect(run.before.length, 'no network process of the run to stop: the test saw nothing').toBeGreaterThan(0);
  expect(run.after, `left 2 s after ${signal}`).toEqual([]);
  expect(run.result.outputs.deployed).not.toBe('true');
  if (signal === 'SIGKILL') {
    expect(run.result.main.signal).toBe('SIGKILL');
  } else {
    expect(run.result.main.exitCode, run.result.log).not.toBe(0);
    expect(run.result.log).toContain(`${signal}: the job was cancelled`);
  }
}

describe('main cancelled while its push stalls', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
    it(`${signal}, over HTTPS: no git process of the run is left, nothing more is pushed`, async () => {
      http.resetCounters();
      const run = await cancelledRun(
        `https-${signal}`,
        { 'deploy-repository': http.url, 'deploy-token': TOKEN },
        signal,
        pushStalledOverHttp,
      );
      expectCancelledAndClean(run, signal);
      const pushes = http.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/git-receive-pack'));
      expect(pushes, run.result.log).toHaveLength(1);
      expect(await branchTip(repo)).toBe('');
    }, 180_000);

    it(`${signal}, over SSH: no git or ssh process of the run is left`, async () => {
      const earlier = sshPushes();
      const run = await cancelledRun(`ssh-${signal}`, sshDeployInputs(sshd), signal, () => sshPushes() > earlier);
      expectCancelledAndClean(run, signal);
      expect(await branchTip(repo)).toBe('');
    }, 180_000);
  }
});

describe('main cancelled after its push landed', () => {
  it('SIGINT while the deployment record is being written: reported as deployed, with the pushed commit', async () => {
    const run = await cancelledRun(
      'landed',
      { 'deploy-repository': landingHttp.url, 'deploy-token': TOKEN, 'github-token': API_TOKEN },
      'SIGINT',
      () => api.requests.some((r) => r.body.state === 'success'),
      { env: { GITHUB_API_URL: api.url } },
    );
    expect(run.result.main.exitCode, run.result.log).toBe(0);
    expect(run.result.outputs.deployed).toBe('true');
    expect(run.result.outputs['deploy-commit']).toBe(await branchTip(landingRepo));
    expect(run.result.log).toContain('SIGINT: the job was cancelled');
  }, 180_000);
});
