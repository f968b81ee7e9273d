/**
 * The writer against real servers when the evidence is thin or hostile: a checkout in a subfolder
 * (latest ordering), a deployment repository edited by someone else (blobs, manifests, symlinks),
 * a job environment carrying git configuration, and transports that fail once.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { preflight } from '../../src/deploy/credentials/preflight.js';
import { deployImage } from '../../src/deploy/index.js';
import { parseManifest } from '../../src/deploy/manifest.js';
import { readSourceFacts } from '../../src/deploy/source.js';
import { createBareRepo, runProcess, serverGitEnv } from '../support/bare-repo.js';
import {
  bareGit,
  deployConfig,
  makeImage,
  SETUP,
  shaOf,
  showFile,
  sshDeployInputs,
  checkedDeploy,
  checkedRollback,
  checkFolderLikeAHost,
} from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import { startGitHttp, type GitHttpServer } from '../support/git-http.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const scratch = useDeployScratch('deploy-untrusted-');

const AUTHOR = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.invalid',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.invalid',
};

async function mustGit(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await runProcess('git', args, { cwd, env: serverGitEnv({ ...AUTHOR, ...env }) });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Someone else's commit on the deployment repository: `edit` changes a clone of it. */
async function tamper(repo: string, name: string, edit: (work: string) => Promise<void>): Promise<void> {
  const work = path.join(scratch.base, `tamper-${name}`);
  await mustGit(scratch.base, ['clone', '--quiet', repo, work]);
  await edit(work);
  await mustGit(work, ['add', '-A']);
  await mustGit(work, ['commit', '--quiet', '-m', name]);
  await mustGit(work, ['push', '--quiet', 'origin', 'main']);
}

let built = 0;
async function image(seed: string) {
  return makeImage(path.join(scratch.base, 'build', `${++built}`), { target: 'xen', seed });
}

describe('over SSH', () => {
  let repo: string;
  let sshd: SshdServer;
  beforeAll(async () => {
    repo = await createBareRepo(path.join(scratch.base, 'ssh', 'deployment.git'));
    sshd = await startSshd({ repoPath: repo });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  describe('latest when the checkout is a subfolder of the workspace (actions/checkout with `path:`)', () => {
    const commits: Record<string, string> = {};
    beforeAll(async () => {
      const src = path.join(scratch.workspace, 'src');
      await mkdir(path.join(src, 'unikernel'), { recursive: true });
      await mustGit(src, ['init', '--quiet', '--initial-branch=main']);
      for (const [label, day] of [
        ['c1', '01'],
        ['c2', '02'],
      ] as const) {
        await writeFile(path.join(src, 'unikernel', 'config.ml'), `(* ${label} *)\n`);
        await mustGit(src, ['add', '-A']);
        const date = `2026-01-${day}T00:00:00Z`;
        await mustGit(src, ['commit', '--quiet', '-m', label], { GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date });
        commits[label] = (await mustGit(src, ['rev-parse', 'HEAD'])).trim();
      }
    });

    async function dispatch(sha: string, workingDirectory: string) {
      const ctx = scratch.context({ sha, eventName: 'workflow_dispatch' });
      const config = deployConfig(ctx, {
        target: 'xen',
        'working-directory': workingDirectory,
        ...sshDeployInputs(sshd),
      });
      return checkedDeploy(config, ctx, await image(sha), SETUP);
    }

    it('a dispatch of an older commit finds the repository holding working-directory and leaves latest', async () => {
      const c1 = commits.c1 ?? '';
      const c2 = commits.c2 ?? '';
      await dispatch(c2, 'src/unikernel');
      expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${c2}\n`);
      const manifest = parseManifest(await showFile(repo, 'main', `xen/${c2}/manifest.json`));
      expect(manifest?.source.commitTime).toBe('2026-01-02T00:00:00.000Z');

      const older = await dispatch(c1, 'src/unikernel');
      expect(older.deployed).toBe(true);
      expect(older.message).toMatch(/newer build/);
      expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${c2}\n`);
    });

    it('a build whose commit time is unknown (no repository holds it) stores its image and keeps latest, saying why', async () => {
      const unknown = shaOf('nowhere');
      const outcome = await dispatch(unknown, '.');
      expect(outcome.deployed).toBe(true);
      expect(outcome.message).toMatch(new RegExp(`the commit time of ${unknown} is unknown`));
      expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${commits.c2}\n`);
    });

    it('the history read before the build orders it, although the build then took the checkout away', async () => {
      const src = path.join(scratch.workspace, 'src');
      // c3 follows c2 but was committed a day before it (a rebase keeps the older date).
      await writeFile(path.join(src, 'unikernel', 'config.ml'), '(* c3 *)\n');
      await mustGit(src, ['add', '-A']);
      const date = '2026-01-01T12:00:00Z';
      await mustGit(src, ['commit', '--quiet', '-m', 'c3'], { GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date });
      const c3 = (await mustGit(src, ['rev-parse', 'HEAD'])).trim();
      const ctx = scratch.context({ sha: c3, eventName: 'workflow_dispatch' });
      const config = deployConfig(ctx, {
        target: 'xen',
        'working-directory': 'src/unikernel',
        ...sshDeployInputs(sshd),
      });
      const cleared = await preflight(config.deploy);
      const facts = await readSourceFacts(ctx, config.build.workingDirectory);
      // What a build may do to the checkout: git in it afterwards would find no history at all.
      await rename(path.join(src, '.git'), path.join(scratch.base, 'hidden.git'));
      try {
        const outcome = await deployImage(config, ctx, await image(c3), SETUP, cleared, facts);
        expect(outcome.deployed).toBe(true);
      } finally {
        await rename(path.join(scratch.base, 'hidden.git'), path.join(src, '.git'));
      }
      expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${c3}\n`);
      const manifest = parseManifest(await showFile(repo, 'main', `xen/${c3}/manifest.json`));
      expect(manifest?.source.commitTime).toBe('2026-01-01T12:00:00.000Z');
    });
  });

  describe('a deployment repository edited by someone else', () => {
    const T0 = Date.parse('2026-03-01T10:00:00Z');
    const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
    async function push(sha: string, minutes: number, seed = sha) {
      const ctx = scratch.context({ sha, commitTime: at(minutes) });
      return checkedDeploy(
        deployConfig(ctx, { target: 'xen', ...sshDeployInputs(sshd) }),
        ctx,
        await image(seed),
        SETUP,
      );
    }

    it('an image replaced under an unchanged manifest is not "this image": a re-deploy puts it back', async () => {
      const sha = shaOf('replaced');
      await push(sha, 100);
      const stored = await bareGit(repo, ['rev-parse', `main:xen/${sha}/hello.xen.bz2`]);
      await tamper(repo, 'replace-image', (work) => writeFile(path.join(work, 'xen', sha, 'hello.xen.bz2'), 'evil'));
      const again = await push(sha, 100);
      expect(again.message).not.toMatch(/already up to date/);
      expect(await bareGit(repo, ['rev-parse', `main:xen/${sha}/hello.xen.bz2`])).toBe(stored);
    });

    it('a manifest claiming a commit time in 2099 does not pin latest', async () => {
      const pinned = shaOf('pinned');
      await push(pinned, 200);
      await tamper(repo, 'future', async (work) => {
        const file = path.join(work, 'xen', pinned, 'manifest.json');
        const manifest = JSON.parse(readFileSync(file, 'utf8'));
        manifest.source.commitTime = '2099-01-01T00:00:00.000Z';
        await writeFile(file, JSON.stringify(manifest));
      });
      const next = shaOf('after-pinned');
      await push(next, 210);
      expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${next}\n`);
    });

    it('a rollback refuses an image whose stored file, manifest and SHA256SUMS agree but which unpacks to other bytes than the manifest says', async () => {
      const sha = shaOf('repacked');
      await push(sha, 250);
      await push(shaOf('after-repacked'), 260);
      const original = parseManifest(await showFile(repo, 'main', `xen/${sha}/manifest.json`))?.images['hello.xen.bz2'];
      const evil = Buffer.from('not the image that was built');
      const digest = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
      await tamper(repo, 'repacked', async (work) => {
        // Another valid bzip2 file, its compressed sha256 and size in the manifest, and a SHA256SUMS
        // remade for the folder as it now is: only the manifest's unpacked sha256 still tells.
        const folder = path.join(work, 'xen', sha);
        const packed = execFileSync('bzip2', ['-9'], { input: evil });
        await writeFile(path.join(folder, 'hello.xen.bz2'), packed);
        const manifest = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8'));
        manifest.images['hello.xen.bz2'].compressedSha256 = digest(packed);
        manifest.images['hello.xen.bz2'].compressedSize = packed.length;
        await writeFile(path.join(folder, 'manifest.json'), JSON.stringify(manifest));
        const lines = readdirSync(folder)
          .filter((name) => name !== 'SHA256SUMS')
          .sort()
          .map((name) => `${digest(readFileSync(path.join(folder, name)))}  ${name}`);
        await writeFile(
          path.join(folder, 'SHA256SUMS'),
          `${lines.join('\n')}\n# unpacked: ${digest(evil)}  hello.xen\n`,
        );
      });
      const host = await checkFolderLikeAHost(repo, 'main', `xen/${sha}`, path.join(scratch.base, 'host-repacked'));
      expect([host.stored.code, host.unpacked.code]).toEqual([0, 0]);
      const ctx = scratch.context({ sha: shaOf('dispatch'), eventName: 'workflow_dispatch' });
      const error = await checkedRollback(
        deployConfig(ctx, { target: 'xen', 'rollback-to': sha, ...sshDeployInputs(sshd) }),
        ctx,
        sha,
      ).then(
        () => 'rolled back',
        (e: unknown) => (e as Error).message,
      );
      expect(error).toBe(
        `input \`rollback-to\`: xen/${sha}/hello.xen.bz2 unpacks to sha256 ${digest(evil)}, but its manifest says ` +
          `${original?.sha256}; not moving \`latest\` to it`,
      );
      expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shaOf('after-repacked')}\n`);
    });

    it('a rollback to a folder whose image is a symlink is refused; the linked file is never read', async () => {
      const sha = shaOf('linked');
      await push(sha, 300);
      await push(shaOf('after-linked'), 310);
      await tamper(repo, 'symlink', async (work) => {
        const file = path.join(work, 'xen', sha, 'hello.xen.bz2');
        await unlink(file);
        await symlink('/etc/hostname', file);
      });
      const ctx = scratch.context({ sha: shaOf('dispatch'), eventName: 'workflow_dispatch' });
      const error = await checkedRollback(
        deployConfig(ctx, { target: 'xen', 'rollback-to': sha, ...sshDeployInputs(sshd) }),
        ctx,
        sha,
      ).then(
        () => undefined,
        (e: unknown) => (e as Error).message,
      );
      expect(error).toMatch(new RegExp(`symbolic links at xen/${sha}/hello.xen.bz2`));
      const hostname = createHash('sha256').update(readFileSync('/etc/hostname')).digest('hex');
      expect(error).not.toContain(hostname);
      expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shaOf('after-linked')}\n`);
    });
  });

  it('retries a connection sshd drops before the key exchange (MaxStartups), once', async () => {
    let dropped = 0;
    const proxy = net.createServer((client) => {
      if (dropped === 0) {
        dropped++;
        client.destroy();
        return;
      }
      const upstream = net.connect(sshd.port, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as net.AddressInfo;
    try {
      const sha = shaOf('kex');
      const ctx = scratch.context({ sha, commitTime: new Date(Date.parse('2026-03-02T00:00:00Z')).toISOString() });
      const inputs = {
        target: 'xen',
        ...sshDeployInputs(sshd),
        'deploy-repository': sshd.url.replace(`:${sshd.port}/`, `:${port}/`),
        'known-hosts': sshd.knownHosts.replace(`]:${sshd.port} `, `]:${port} `),
      };
      const outcome = await checkedDeploy(deployConfig(ctx, inputs), ctx, await image(sha), SETUP);
      expect(dropped).toBe(1);
      expect(outcome.deployed).toBe(true);
      expect(await bareGit(repo, ['rev-parse', 'main'])).toBe(`${outcome.commit}\n`);
    } finally {
      proxy.close();
    }
  });
});

describe('over HTTPS with a token', () => {
  const token = 'github_pat_11AAAAAAA0untrustedtoken';
  let repo: string;
  let server: GitHttpServer;
  beforeAll(async () => {
    repo = await createBareRepo(path.join(scratch.base, 'http', 'deployment.git'));
    server = await startGitHttp({ repoPath: repo, token });
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A proxy in front of the git server; `intercept` may answer a request itself (or drop it). */
  async function withProxy<T>(
    intercept: (req: http.IncomingMessage, res: http.ServerResponse, forward: () => void) => void,
    body: (url: string) => Promise<T>,
  ): Promise<T> {
    const upstream = new URL(server.url);
    const proxy = http.createServer((req, res) => {
      const forward = () => {
        const out = http.request(
          { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        out.on('error', () => res.destroy());
        req.pipe(out);
      };
      intercept(req, res, forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as net.AddressInfo;
    try {
      return await body(server.url.replace(`:${upstream.port}/`, `:${port}/`));
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  }

  const isReceivePack = (req: http.IncomingMessage) => req.method === 'POST' && /git-receive-pack$/.test(req.url ?? '');

  async function deployVia(url: string, label: string) {
    const sha = shaOf(label);
    const ctx = scratch.context({ sha, commitTime: '2026-04-01T00:00:00Z' });
    const config = deployConfig(ctx, { target: 'xen', 'deploy-repository': url, 'deploy-token': token });
    return checkedDeploy(config, ctx, await image(label), SETUP);
  }

  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  });

  it('a hooks path in the job environment (GIT_CONFIG_KEY_0) never runs a hook that could see the token', async () => {
    const hooks = path.join(scratch.base, 'hooks');
    const marker = path.join(scratch.base, 'hook-ran');
    await mkdir(hooks, { recursive: true });
    await writeFile(path.join(hooks, 'pre-push'), `#!/bin/sh\nenv > '${marker}'\n`, { mode: 0o755 });
    Object.assign(process.env, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'core.hooksPath',
      GIT_CONFIG_VALUE_0: hooks,
      GIT_CONFIG_PARAMETERS: `'core.hooksPath'='${hooks}'`,
    });
    const outcome = await deployVia(server.url, 'hooks');
    expect(outcome.deployed).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });

  it('retries a push the server answered with 502, once', async () => {
    let failed = 0;
    const outcome = await withProxy(
      (req, res, forward) => {
        if (isReceivePack(req) && failed === 0) {
          failed++;
          req.resume();
          res.writeHead(502, { 'Content-Type': 'text/plain' });
          res.end('Bad Gateway\n');
          return;
        }
        forward();
      },
      (url) => deployVia(url, '502'),
    );
    expect(failed).toBe(1);
    expect(outcome.deployed).toBe(true);
    expect(await bareGit(repo, ['rev-parse', 'main'])).toBe(`${outcome.commit}\n`);
  });

  it('a push that landed before the server stopped taking pushes is reported as pushed, not as a failure', async () => {
    let pushes = 0;
    const outcome = await withProxy(
      (req, res, forward) => {
        if (!isReceivePack(req)) return forward();
        pushes++;
        if (pushes > 1) {
          // From now on every push dies with the connection; fetches still work.
          req.socket.destroy();
          return;
        }
        // The server takes the whole push; its answer never reaches git.
        const upstream = new URL(server.url);
        const out = http.request(
          { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
          (answer) => {
            answer.resume();
            answer.on('end', () => res.socket?.destroy());
          },
        );
        req.pipe(out);
      },
      (url) => deployVia(url, 'landed'),
    );
    expect(pushes).toBeGreaterThan(1);
    expect(outcome.deployed).toBe(true);
    expect(outcome.message).toMatch(/^deployed /);
    expect(await bareGit(repo, ['rev-parse', 'main'])).toBe(`${outcome.commit}\n`);
  });
});
