/**
 * A SHA-256 deployment repository (as Gitea, Forgejo and GitLab can host; GitHub cannot), over SSH
 * and over smart HTTP: the first deploy into it while it is empty, a new branch, `latest` known
 * from its 64-digit blob id without downloading it, and a `keep` removal in a SHA-256 tree. The
 * blob-less mirror is made in the remote's object format, which git 2.39's clone of an empty
 * repository gets wrong.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo } from '../support/bare-repo.js';
import {
  bareGit,
  checkedDeploy,
  deployConfig,
  filesAt,
  makeImage,
  SETUP,
  shaOf,
  showFile,
  sshDeployInputs,
} from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import { startGitHttp, type GitHttpServer } from '../support/git-http.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const scratch = useDeployScratch('deploy-sha256-');
const T0 = Date.parse('2026-06-01T10:00:00Z');
const TOKEN = 'github_pat_11AAAAAAA0sha256testtoken';

interface Remote {
  readonly repo: string;
  readonly inputs: Record<string, string>;
  /** The server's sessions so far, in order: `upload` (clone, fetch, ls-remote) or `receive` (push). */
  readonly sessions: () => Array<'upload' | 'receive'>;
  readonly stop: () => Promise<void>;
}

async function sshRemote(repo: string): Promise<Remote> {
  const sshd: SshdServer = await startSshd({ repoPath: repo });
  return {
    repo,
    inputs: sshDeployInputs(sshd),
    sessions: () =>
      sshd
        .commands()
        .filter((c) => /git-(upload|receive)-pack/.test(c))
        .map((c) => (c.includes('upload-pack') ? 'upload' : 'receive')),
    stop: () => sshd.stop(),
  };
}

async function httpRemote(repo: string): Promise<Remote> {
  const server: GitHttpServer = await startGitHttp({ repoPath: repo, token: TOKEN });
  return {
    repo,
    inputs: { 'deploy-repository': server.url, 'deploy-token': TOKEN },
    // every git process that talks to the server starts with the ref advertisement
    sessions: () =>
      server
        .requests()
        .filter((r) => r.method === 'GET' && r.path.includes('/info/refs?service='))
        .map((r) => (r.path.endsWith('git-upload-pack') ? 'upload' : 'receive')),
    stop: () => server.stop(),
  };
}

describe.each([
  ['SSH', sshRemote],
  ['smart HTTP with a token', httpRemote],
] as const)('a SHA-256 deployment repository over %s', (label, start) => {
  let remote: Remote;
  beforeAll(async () => {
    const dir = path.join(scratch.base, label.split(' ')[0] ?? label, 'deployment.git');
    remote = await start(await createBareRepo(dir, { objectFormat: 'sha256' }));
  });
  afterAll(async () => {
    await remote?.stop();
  });

  async function deploy(label: string, minutes: number, extra: Record<string, string> = {}) {
    const sha = shaOf(`${label} ${remote.repo}`);
    const ctx = scratch.context({ sha, commitTime: new Date(T0 + minutes * 60_000).toISOString() });
    const config = deployConfig(ctx, { target: 'xen', ...remote.inputs, ...extra });
    const image = await makeImage(path.join(scratch.base, 'build', `${label}-${minutes}`), {
      target: 'xen',
      seed: sha,
    });
    const before = remote.sessions().length;
    const outcome = await checkedDeploy(config, ctx, image, SETUP);
    expect(outcome.deployed, outcome.message).toBe(true);
    // What the deploy read before it pushed (smart HTTP may fetch again while pushing, SHA-1 or not).
    const sessions = remote.sessions().slice(before);
    const pushed = sessions.indexOf('receive');
    return { sha, outcome, reads: sessions.slice(0, pushed < 0 ? undefined : pushed).length };
  }

  it('deploys into it empty, knows latest by its SHA-256 blob id, removes with keep, and starts a new branch', async () => {
    const first = await deploy('first', 10);
    expect(first.outcome.commit).toMatch(/^[0-9a-f]{64}$/);
    expect(await showFile(remote.repo, 'main', 'xen/latest')).toBe(`${first.sha}\n`);

    // The tip's commit, the root tree, `xen/`, the folder `latest` names and its manifest:
    // `latest` itself is not downloaded, since its SHA-256 blob id names the folder.
    const second = await deploy('second', 20);
    expect(second.reads).toBe(5);
    expect(await showFile(remote.repo, 'main', 'xen/latest')).toBe(`${second.sha}\n`);

    const third = await deploy('third', 30, { keep: '2' });
    expect(third.outcome.message).toMatch(new RegExp(`; keep 2: removed xen/${first.sha}$`));
    const folders = new Set((await filesAt(remote.repo, 'main', 'xen')).map((f) => f.split('/')[1]));
    expect(folders).toEqual(new Set([second.sha, third.sha, 'latest']));

    const branch = await deploy('branch', 40, { 'deploy-repository-branch': 'images' });
    expect(branch.outcome.commit).toMatch(/^[0-9a-f]{64}$/);
    expect(await showFile(remote.repo, 'images', 'xen/latest')).toBe(`${branch.sha}\n`);
    expect(await bareGit(remote.repo, ['fsck', '--no-progress'])).toBe('');
  }, 180_000);
});
