/**
 * Servers that accept a connection and never answer, through the bundle: the git deadline ends the
 * job with a message saying so, kills what git started, and the post step removes what main left —
 * even when main itself was killed, which git and its helpers do not outlive. An SSH server that
 * stalls mid-push ends at the push's progress deadline instead, read again and pushed once more.
 * The deadlines are shortened with the test-only variable of src/deadlines.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DEADLINE_ENV } from '../../src/deadlines.js';
import { createBareRepo } from '../support/bare-repo.js';
import {
  bareGit,
  checkedDeploy,
  deployConfig,
  deployContext,
  makeImage,
  SETUP,
  shaOf,
  showFile,
  sshDeployInputs,
} from '../support/deploy-scenario.js';
import { removeRun, runAction, type RunOptions, type RunResult } from '../support/harness.js';
import { startSshd, type PushStall, type SshdServer } from '../support/sshd.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const TOKEN = `github_pat_${'7'.repeat(48)}`;

/** A TCP server that accepts every connection, reads what comes, and never writes a byte. */
async function startSilentServer(): Promise<{ port: number; connections: () => number; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    connections: () => count,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Processes whose command line names this port on loopback (git-remote-http, ssh). */
function processesFor(port: number): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (cmdline.includes('127.0.0.1') && new RegExp(`(:|-p )${port}\\b`).test(cmdline) && !cmdline.includes('vitest')) {
      found.push(`${entry}: ${cmdline}`);
    }
  }
  return found;
}

async function noProcessesFor(port: number, withinMs: number): Promise<string[]> {
  const until = Date.now() + withinMs;
  let left = processesFor(port);
  while (left.length > 0 && Date.now() < until) {
    await sleep(250);
    left = processesFor(port);
  }
  return left;
}

/** What the action left in RUNNER_TEMP. */
const leftovers = (run: RunResult) => readdirSync(run.dirs.runnerTemp).filter((n) => n.startsWith('mirage-deploy-'));

let base: string;
let keyFile: string;
let hostKeyLine: string;
const runs: RunResult[] = [];

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'deploy-hang-'));
  keyFile = join(base, 'deploy_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(base, 'host_key')]);
  hostKeyLine = readFileSync(join(base, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
});

afterAll(() => {
  runs.forEach(removeRun);
  if (base) rmSync(base, { recursive: true, force: true });
});

/** A rollback: it builds nothing, so the first thing it does is reach the deployment repository. */
async function rollback(inputs: Record<string, string>, options: Partial<RunOptions> = {}): Promise<RunResult> {
  const run = await runAction({
    event: 'workflow_dispatch',
    inputs: { target: 'xen', deploy: 'true', 'rollback-to': SHA, ...inputs },
    timeoutMs: 120_000,
    ...options,
  });
  runs.push(run);
  return run;
}

/** The server was reached, post succeeded, no process talks to it any more, RUNNER_TEMP holds nothing of ours. */
async function expectCleanEnd(run: RunResult, server: { connections(): number; port: number }): Promise<void> {
  expect(server.connections()).toBeGreaterThan(0);
  expect(run.post?.exitCode).toBe(0);
  expect(await noProcessesFor(server.port, 2_000)).toEqual([]);
  expect(leftovers(run)).toEqual([]);
}

describe('a deployment repository that accepts and never answers', () => {
  it('over HTTPS: the job ends at the deadline naming the cause, no git process is left, nothing in RUNNER_TEMP', async () => {
    const server = await startSilentServer();
    try {
      const started = Date.now();
      const run = await rollback(
        { 'deploy-repository': `http://127.0.0.1:${server.port}/deploy.git`, 'deploy-token': TOKEN },
        { env: { [TEST_DEADLINE_ENV]: '3000' } },
      );
      const took = Date.now() - started;
      expect(run.main.exitCode, run.log).toBe(1);
      expect(run.main.signal).toBeNull();
      expect(run.errors.join('\n')).toMatch(
        /`git clone` on the deployment repository .* did not finish within 3 s: the server accepted the connection but stopped answering/,
      );
      expect(took).toBeLessThan(60_000);
      await expectCleanEnd(run, server);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('over SSH: the same, with ssh and git killed as a group', async () => {
    const server = await startSilentServer();
    try {
      const run = await rollback(
        {
          'deploy-repository': `ssh://git@127.0.0.1:${server.port}/deploy.git`,
          'deploy-key': readFileSync(keyFile, 'utf8'),
          'known-hosts': `[127.0.0.1]:${server.port} ${hostKeyLine}`,
        },
        { env: { [TEST_DEADLINE_ENV]: '3000' } },
      );
      expect(run.main.exitCode, run.log).toBe(1);
      expect(run.errors.join('\n')).toMatch(/`git clone` on the deployment repository .* did not finish within 3 s/);
      await expectCleanEnd(run, server);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('when main itself is killed mid-hang, the post step removes its work and key folders, and git dies with main', async () => {
    const server = await startSilentServer();
    try {
      const run = await rollback(
        {
          'deploy-repository': `http://127.0.0.1:${server.port}/deploy.git`,
          'deploy-token': TOKEN,
        },
        // The deadline is longer than main lives: the harness kills main as a runner's timeout would.
        { env: { [TEST_DEADLINE_ENV]: '8000' }, timeoutMs: 4_000 },
      );
      expect(run.main.signal).toBe('SIGKILL');
      expect(JSON.parse(run.state['work-dirs'] ?? '[]')).toHaveLength(1);
      expect(run.post?.exitCode).toBe(0);
      expect(leftovers(run)).toEqual([]);
      // Each git runs in a PID namespace that dies with main (src/exec.ts): nothing is orphaned.
      expect(await noProcessesFor(server.port, 2_000)).toEqual([]);
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe('an SSH server that stalls mid-push, its connection up', () => {
  const shas = { a: shaOf('stall-a'), b: shaOf('stall-b') };
  const servers: SshdServer[] = [];
  let repo: string;
  const savedState = process.env.GITHUB_STATE;

  beforeAll(async () => {
    // Two deploys made in process through a server that does not stall, for the bundle to roll between.
    repo = await createBareRepo(join(base, 'stall', 'deploy.git'));
    const workspace = join(base, 'stall', 'workspace');
    const runnerTemp = join(base, 'stall', 'runner-temp');
    await mkdir(runnerTemp, { recursive: true });
    await mkdir(workspace, { recursive: true });
    await writeFile(join(workspace, 'config.ml'), 'let () = ()\n');
    process.env.GITHUB_STATE = join(base, 'stall', 'state');
    writeFileSync(process.env.GITHUB_STATE, '');
    const seeder = await startSshd({ repoPath: repo });
    servers.push(seeder);
    for (const sha of [shas.a, shas.b]) {
      const ctx = deployContext({ sha, workspace, runnerTemp });
      const image = await makeImage(join(workspace, sha), { target: 'xen', seed: sha });
      const config = deployConfig(ctx, { target: 'xen', ...sshDeployInputs(seeder) });
      expect((await checkedDeploy(config, ctx, image, SETUP)).deployed).toBe(true);
    }
  }, 120_000);

  afterAll(async () => {
    if (savedState === undefined) delete process.env.GITHUB_STATE;
    else process.env.GITHUB_STATE = savedState;
    await Promise.all(servers.map((s) => s.stop()));
  });

  /** `rollback-to: sha` through a server whose first pushes stall as `stall` says. */
  async function rollbackThrough(stall: PushStall, sha: string): Promise<{ run: RunResult; sshd: SshdServer }> {
    const sshd = await startSshd({ repoPath: repo, stallPushes: stall });
    servers.push(sshd);
    const run = await rollback(
      { 'rollback-to': sha, ...sshDeployInputs(sshd) },
      { env: { [TEST_DEADLINE_ENV]: '5000' } },
    );
    return { run, sshd };
  }

  const pushes = (sshd: SshdServer) => sshd.commands().filter((c) => /receive-pack/.test(c)).length;
  const tip = async () => (await bareGit(repo, ['rev-parse', 'main'])).trim();

  it('stalling twice: stopped at the progress deadline each time, retried once, the branch left as it was', async () => {
    const before = await tip();
    const { run, sshd } = await rollbackThrough({ count: 2, when: 'mid-push' }, shas.a);
    expect(run.main.exitCode, run.log).toBe(1);
    expect(run.log).toMatch(
      /showed no progress for 5 s \(the push progress deadline\) and was stopped; `main` is not at [0-9a-f]{12}: pushing again, once/,
    );
    expect(run.errors.join('\n')).toMatch(
      /`git push` to ssh:.* showed no progress for 5 s \(the push progress deadline\) and was stopped, 2 times: .* nothing was pushed\. Check the host of `deploy-repository`/,
    );
    expect(pushes(sshd)).toBe(2);
    expect(await tip()).toBe(before);
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shas.b}\n`);
    expect(run.post?.exitCode).toBe(0);
    expect(await noProcessesFor(sshd.port, 2_000)).toEqual([]);
    expect(leftovers(run)).toEqual([]);
  }, 120_000);

  it('stalling once: the second push lands', async () => {
    const { run, sshd } = await rollbackThrough({ count: 1, when: 'mid-push' }, shas.a);
    expect(run.main.exitCode, run.log).toBe(0);
    expect(run.log).toMatch(
      /showed no progress for 5 s \(the push progress deadline\) and was stopped; `main` is not at [0-9a-f]{12}: pushing again, once/,
    );
    expect(pushes(sshd)).toBe(2);
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shas.a}\n`);
    expect(run.outputs['deploy-commit']).toBe(await tip());
  }, 120_000);

  it('stalling after the push landed: read again, it is taken as landed, with no second push', async () => {
    const { run, sshd } = await rollbackThrough({ count: 1, when: 'after-landing' }, shas.b);
    expect(run.main.exitCode, run.log).toBe(0);
    expect(run.log).toMatch(
      /showed no progress for 5 s \(the push progress deadline\) and was stopped, but `main` is at [0-9a-f]{12}: it landed/,
    );
    expect(pushes(sshd)).toBe(1);
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shas.b}\n`);
    expect(run.outputs['deploy-commit']).toBe(await tip());
    expect(await noProcessesFor(sshd.port, 2_000)).toEqual([]);
  }, 120_000);
});
