// The deployment-repository writer against a real OpenSSH sshd (deploy key, pinned host key) and a
// real git http-backend (token), through deployImage/rollback with the credentials of issue 5.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/deploy/manifest.js';
import { createBareRepo, runProcess, serverGitEnv, snapshotRepo } from '../support/bare-repo.js';
import {
  bareGit,
  deployConfig,
  filesAt,
  history,
  makeImage,
  SETUP,
  shaOf,
  showFile,
  sshDeployInputs,
  checkedDeploy,
  checkedRollback,
} from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import { startGitHttp, type GitHttpServer } from '../support/git-http.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const scratch = useDeployScratch('deploy-repo-');

/** Blob bytes at `rev:file`, as a Buffer (images are binary). */
function blob(repo: string, rev: string, file: string): Buffer {
  return execFileSync('git', ['--git-dir', repo, 'cat-file', 'blob', `${rev}:${file}`], {
    env: serverGitEnv(),
    maxBuffer: 64 * 1024 * 1024,
  });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('over SSH with a deploy key', () => {
  let repo: string;
  let sshd: SshdServer;
  const T0 = Date.parse('2026-03-01T10:00:00Z');
  const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
  const shas = { a: shaOf('a'), b: shaOf('b'), c: shaOf('c'), old: shaOf('old'), d: shaOf('d') };

  beforeAll(async () => {
    repo = await createBareRepo(path.join(scratch.base, 'ssh', 'deployment.git'));
    sshd = await startSshd({ repoPath: repo });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  const inputs = (extra: Record<string, string> = {}) => ({
    target: 'xen',
    ...sshDeployInputs(sshd),
    ...extra,
  });

  async function deploy(sha: string, minutes: number, extra: Record<string, string> = {}, seed = sha) {
    const ctx = scratch.context({ sha, commitTime: at(minutes) });
    const image = await makeImage(path.join(scratch.base, 'build', `${sha}-${seed}`), {
      target: 'xen',
      seed,
      sideFiles: ['hello.xl', 'hello.xl.in'],
    });
    const outcome = await checkedDeploy(deployConfig(ctx, inputs(extra)), ctx, image, SETUP);
    return { outcome, image };
  }

  it('makes the first commit of an empty repository: image, config, side files, .args, manifest, SHA256SUMS, latest', async () => {
    const { outcome, image } = await deploy(shas.a, 0);
    const tip = (await bareGit(repo, ['rev-parse', 'main'])).trim();
    expect(outcome).toMatchObject({ deployed: true, commit: tip, path: `xen/${shas.a}` });
    expect(outcome.url).toBeUndefined(); // a loopback host has no web pages
    expect(await filesAt(repo, 'main', 'xen')).toEqual(
      [
        `xen/${shas.a}/SHA256SUMS`,
        `xen/${shas.a}/config.ml`,
        `xen/${shas.a}/hello.args`,
        `xen/${shas.a}/hello.xen.bz2`,
        `xen/${shas.a}/hello.xl`,
        `xen/${shas.a}/hello.xl.in`,
        `xen/${shas.a}/manifest.json`,
        'xen/latest',
      ].sort(),
    );
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shas.a}\n`);
    expect(await showFile(repo, 'main', `xen/${shas.a}/hello.args`)).toBe('');

    const stored = blob(repo, 'main', `xen/${shas.a}/hello.xen.bz2`);
    const unpacked = execFileSync('bzip2', ['-dc'], { input: stored, maxBuffer: 64 * 1024 * 1024 });
    expect(sha256(unpacked)).toBe(image.sha256);

    const manifestText = await showFile(repo, 'main', `xen/${shas.a}/manifest.json`);
    const hashOf = (file: string) => sha256(blob(repo, 'main', `xen/${shas.a}/${file}`));
    expect(parseManifest(manifestText)).toEqual({
      schema: 2,
      source: { repository: 'mirage/mirage-www', sha: shas.a, ref: 'refs/heads/main', commitTime: at(0) },
      images: {
        'hello.xen.bz2': {
          name: 'hello',
          builtName: 'hello',
          target: 'xen',
          sha256: image.sha256,
          size: image.size,
          compression: 'bzip2',
          compressedSha256: sha256(stored),
          compressedSize: stored.length,
          bootArgs: [],
          configFile: 'config.ml',
          files: Object.fromEntries(['config.ml', 'hello.xl', 'hello.xl.in', 'hello.args'].map((f) => [f, hashOf(f)])),
          run: { url: 'https://github.com/mirage/mirage-www/actions/runs/4242' },
          versions: { ocaml: '4.13.1', opam: '2.4.1', mirage: '4.11.1' },
          builtAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        },
      },
    });
    expect(await showFile(repo, 'main', `xen/${shas.a}/SHA256SUMS`)).toBe(
      ['config.ml', 'hello.args', 'hello.xen.bz2', 'hello.xl', 'hello.xl.in', 'manifest.json']
        .map((f) => `${hashOf(f)}  ${f}\n`)
        .join('') + `# unpacked: ${image.sha256}  hello.xen\n`,
    );

    const message = await bareGit(repo, ['log', '-1', '--format=%an <%ae>%n%cn <%ce>%n%B', 'main']);
    expect(message).toBe(
      [
        'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>',
        'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>',
        `adding ${shas.a} for xen`,
        '',
        `mirage/mirage-www@${shas.a}`,
        'https://github.com/mirage/mirage-www/actions/runs/4242',
        'image: hello.xen.bz2',
        '',
        'first deploy',
        '',
        '',
      ].join('\n'),
    );
    // the work folder under RUNNER_TEMP is gone (the credentials folder is the post step's)
    expect((await readdir(scratch.runnerTemp)).filter((d) => d.startsWith('mirage-deploy-work-'))).toEqual([]);
  });

  it('a second sha keeps the first and moves latest; commit author and message from the inputs', async () => {
    const { outcome } = await deploy(shas.b, 10, {
      'commit-message': 'ship it',
      'commit-user-name': 'Deploy Bot',
      'commit-user-email': 'bot@example.invalid',
    });
    expect(outcome.deployed).toBe(true);
    const files = await filesAt(repo, 'main', 'xen');
    expect(files).toContain(`xen/${shas.a}/hello.xen.bz2`);
    expect(files).toContain(`xen/${shas.b}/hello.xen.bz2`);
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shas.b}\n`);
    const log = await bareGit(repo, ['log', '-1', '--format=%an <%ae>|%s', 'main']);
    expect(log.trim()).toBe('Deploy Bot <bot@example.invalid>|ship it');
    expect((await history(repo)).map((c) => c.length)).toEqual([2, 1]);
  });

  it('re-deploying the same sha with the same image commits nothing and reports the existing commit', async () => {
    const before = (await bareGit(repo, ['rev-parse', 'main'])).trim();
    const { outcome } = await deploy(shas.b, 10);
    expect(outcome).toMatchObject({ deployed: true, commit: before, path: `xen/${shas.b}` });
    expect(outcome.message).toMatch(/already up to date/);
    expect((await bareGit(repo, ['rev-parse', 'main'])).trim()).toBe(before);
  });

  it('the same sha with another image replaces that folder', async () => {
    const { outcome, image } = await deploy(shas.b, 10, {}, 'rebuilt');
    expect(outcome.deployed).toBe(true);
    const manifest = parseManifest(await showFile(repo, 'main', `xen/${shas.b}/manifest.json`));
    expect(manifest?.images['hello.xen.bz2']?.sha256).toBe(image.sha256);
    expect((await history(repo)).length).toBe(3);
  });

  it('dry-run lists the commit and leaves the bare repository unchanged byte for byte', async () => {
    const before = await snapshotRepo(repo);
    const { outcome } = await deploy(shas.c, 20, { 'dry-run': 'true' });
    expect(outcome).toMatchObject({ deployed: false, path: `xen/${shas.c}` });
    expect(outcome.commit).toBeUndefined();
    expect(outcome.message).toMatch(/dry run/);
    expect(await snapshotRepo(repo)).toBe(before);
  });

  it('a late run of an older commit stores its image but does not move latest', async () => {
    const { outcome } = await deploy(shas.old, -60);
    expect(outcome.deployed).toBe(true);
    expect(outcome.message).toMatch(/newer build/);
    expect(await filesAt(repo, 'main', `xen/${shas.old}`)).toContain(`xen/${shas.old}/manifest.json`);
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shas.b}\n`);
  });

  it('keep: 2 prunes the oldest folders in the same commit, never the one latest names', async () => {
    const commits = (await history(repo)).length;
    const { outcome } = await deploy(shas.d, 30, { keep: '2' });
    expect(outcome.deployed).toBe(true);
    expect((await history(repo)).length).toBe(commits + 1);
    const folders = new Set((await filesAt(repo, 'main', 'xen')).map((f) => f.split('/')[1]));
    expect([...folders].sort()).toEqual([shas.b, shas.d, 'latest'].sort());
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shas.d}\n`);
  });

  it("refuses an image over GitHub's 100 MiB limit before contacting the server, suggesting xz", async () => {
    const sha = shaOf('huge');
    const ctx = scratch.context({ sha, commitTime: at(40) });
    const image = await makeImage(path.join(scratch.base, 'build', 'huge'), { target: 'xen', seed: 'huge' });
    await truncate(image.path, 100 * 1024 * 1024 + 1);
    const sessions = sshd.commands().length;
    await expect(checkedDeploy(deployConfig(ctx, inputs({ compression: 'none' })), ctx, image, SETUP)).rejects.toThrow(
      /input `compression`: the compressed image is 100\.0 MiB, over GitHub's hard limit of 100 MiB .*compression: xz/,
    );
    expect(sshd.commands().length).toBe(sessions);
  });

  it('rollback-to an existing sha verifies the image and moves latest back', async () => {
    const ctx = scratch.context({ sha: shaOf('dispatch'), eventName: 'workflow_dispatch' });
    const outcome = await checkedRollback(deployConfig(ctx, inputs({ 'rollback-to': shas.b })), ctx, shas.b);
    expect(outcome).toMatchObject({ deployed: true, path: `xen/${shas.b}` });
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shas.b}\n`);
    expect((await bareGit(repo, ['log', '-1', '--format=%s', 'main'])).trim()).toBe(`rolling back xen to ${shas.b}`);
  });

  it('rollback-to a sha that is not deployed fails and names the input and what is deployed', async () => {
    const ctx = scratch.context({ sha: shaOf('dispatch'), eventName: 'workflow_dispatch' });
    const missing = shaOf('never');
    const before = await snapshotRepo(repo);
    await expect(checkedRollback(deployConfig(ctx, inputs({ 'rollback-to': missing })), ctx, missing)).rejects.toThrow(
      new RegExp(`input \`rollback-to\`: ${missing} is not deployed for target xen.*deployed there: .*${shas.d}`),
    );
    expect(await snapshotRepo(repo)).toBe(before);
  });

  it('rollback-to an image that no longer matches its manifest fails and moves nothing', async () => {
    // Someone replaced the image of shas.d by hand: its bytes no longer match the manifest.
    const work = path.join(scratch.base, 'tamper');
    const env = serverGitEnv({
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.invalid',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.invalid',
    });
    const git = async (args: string[]) => {
      const r = await runProcess('git', args, { cwd: work, env });
      if (r.code !== 0) throw new Error(r.stderr);
    };
    await runProcess('git', ['clone', '--quiet', repo, work], { env });
    await writeFile(
      path.join(work, 'xen', shas.d, 'hello.xen.bz2'),
      execFileSync('bzip2', ['-9'], { input: Buffer.from('not the image') }),
    );
    await git(['commit', '--quiet', '-am', 'tamper']);
    await git(['push', '--quiet', 'origin', 'main']);
    const before = await snapshotRepo(repo);
    const ctx = scratch.context({ sha: shaOf('dispatch'), eventName: 'workflow_dispatch' });
    await expect(checkedRollback(deployConfig(ctx, inputs({ 'rollback-to': shas.d })), ctx, shas.d)).rejects.toThrow(
      /input `rollback-to`: .*hello\.xen\.bz2 has sha256 [0-9a-f]{64}, but its manifest says/,
    );
    expect(await snapshotRepo(repo)).toBe(before);
    expect((await readdir(scratch.runnerTemp)).filter((d) => d.startsWith('mirage-deploy-work-'))).toEqual([]);
  });
});

describe('over HTTPS with a token', () => {
  let repo: string;
  let server: GitHttpServer;
  const token = 'github_pat_11AAAAAAA0deploytesttoken';

  beforeAll(async () => {
    repo = await createBareRepo(path.join(scratch.base, 'http', 'deployment.git'));
    server = await startGitHttp({ repoPath: repo, token });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('deploys with xz into an empty repository and rolls back', async () => {
    const inputs = (sha: string, extra: Record<string, string> = {}) => {
      const ctx = scratch.context({ sha, commitTime: '2026-03-02T10:00:00Z' });
      return {
        ctx,
        config: deployConfig(ctx, {
          target: 'hvt',
          compression: 'xz',
          'deploy-repository': server.url,
          'deploy-token': token,
          ...extra,
        }),
      };
    };
    const first = shaOf('http-1');
    const second = shaOf('http-2');
    for (const sha of [first, second]) {
      const { ctx, config } = inputs(sha);
      const image = await makeImage(path.join(scratch.base, 'http-build', sha), { target: 'hvt', seed: sha });
      const outcome = await checkedDeploy(config, ctx, image, SETUP);
      expect(outcome.deployed).toBe(true);
      const stored = blob(repo, 'main', `hvt/${sha}/hello.hvt.xz`);
      expect(sha256(execFileSync('xz', ['-dc'], { input: stored }))).toBe(image.sha256);
    }
    expect(await showFile(repo, 'main', 'hvt/latest')).toBe(`${second}\n`);
    const { ctx, config } = inputs(second, { 'rollback-to': first });
    expect((await checkedRollback(config, ctx, first)).deployed).toBe(true);
    expect(await showFile(repo, 'main', 'hvt/latest')).toBe(`${first}\n`);
    expect((await history(repo)).map((c) => c.length)).toEqual([2, 2, 1]);
    // the token went in a header only: never in the server's view of a URL or the repository
    expect(server.requests().every((r) => !r.path.includes(token))).toBe(true);
  });
});

describe('an owner/name deployment repository on server-url', () => {
  let repo: string;
  let server: GitHttpServer;
  const token = 'github_pat_11AAAAAAA0ownernametoken';

  beforeAll(async () => {
    const root = path.join(scratch.base, 'server');
    repo = await createBareRepo(path.join(root, 'mirage', 'mirage-www-deployment.git'));
    server = await startGitHttp({ repoPath: repo, token, projectRoot: root });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('links the deploy folder at its commit, and writes to deploy-repository-branch, new or not', async () => {
    const serverUrl = `http://127.0.0.1:${server.port}`;
    const deploy = async (sha: string, extra: Record<string, string>) => {
      const ctx = scratch.context({ sha, commitTime: '2026-03-03T10:00:00Z' });
      const config = deployConfig(ctx, { target: 'spt', 'server-url': serverUrl, 'deploy-token': token, ...extra });
      const image = await makeImage(path.join(scratch.base, 'owner-build', sha), { target: 'spt', seed: sha });
      return checkedDeploy(config, ctx, image, SETUP);
    };
    const onMain = await deploy(shaOf('owner 1'), {});
    expect(onMain.url).toBe(`${serverUrl}/mirage/mirage-www-deployment/tree/${onMain.commit}/spt/${shaOf('owner 1')}`);
    const onBranch = await deploy(shaOf('owner 2'), { 'deploy-repository-branch': 'deployments' });
    expect(onBranch.deployed).toBe(true);
    expect((await bareGit(repo, ['rev-parse', 'deployments'])).trim()).toBe(onBranch.commit);
    expect(await history(repo, 'deployments')).toHaveLength(1); // a new branch starts with its own first commit
    expect((await bareGit(repo, ['rev-parse', 'main'])).trim()).toBe(onMain.commit);
    const again = await deploy(shaOf('owner 3'), { 'deploy-repository-branch': 'deployments' });
    expect(await history(repo, 'deployments')).toHaveLength(2);
    expect(await showFile(repo, 'deployments', 'spt/latest')).toBe(`${shaOf('owner 3')}\n`);
    expect(again.commit).toBe((await bareGit(repo, ['rev-parse', 'deployments'])).trim());
  });
});
