/**
 * The deploy secrets are out of reach of everything the build runs: the build (`build-command`,
 * __fixtures__/hostile/hostile-build.sh) plants its own git, ssh, tar… on every PATH folder it can
 * write, leaves env-cleared, double-forked readers polling every process's environ and cmdline and
 * RUNNER_TEMP, scans the memory of the node processes it sees and tries to dump the action's core,
 * tries sudo and a docker socket (a unix socket this test serves in /run), and prints workflow
 * commands and writes the runner's files. Through the bundle, for a push over SSH (with
 * `github-token` too, and the caches saved by the post step) and over HTTPS: no secret byte in anything the build wrote, none of its
 * commands obeyed, and the deploy lands with the real git.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicCredential } from '../../src/deploy/credentials/secret-shape.js';
import { createBareRepo } from '../support/bare-repo.js';
import { sshDeployInputs } from '../support/deploy-scenario.js';
import { useCacheService } from '../support/cache-scope.js';
import { useFixtureScope } from '../support/fixture-action.js';
import { startGitHttp, type GitHttpServer } from '../support/git-http.js';
import { startGithubApi, type GithubApi } from '../support/github-api.js';
import { FIXTURES, type RunOptions, type RunResult } from '../support/harness.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const TOKEN = `github_pat_${randomBytes(24).toString('hex')}`;
/** `github-token`, for the deployment records: a second secret input the build must not see either. */
const API_TOKEN = `ghs_${randomBytes(18).toString('hex')}`;
/** A stand-in for the docker socket a hosted runner's `docker` group opens to its user. */
const DOCKER_SOCKET = `/run/mirage-deploy-test-${randomBytes(4).toString('hex')}.sock`;

const fixture = useFixtureScope('secret-isolation-');
const cache = useCacheService();
let sshd: SshdServer;
let http: GitHttpServer;
let api: GithubApi;
let docker: Server;
let dockerConnections = 0;

beforeAll(async () => {
  const repo = await createBareRepo(join(fixture.base, 'srv', 'deployment.git'));
  [sshd, http, api] = await Promise.all([
    startSshd({ repoPath: repo }),
    startGitHttp({ repoPath: repo, token: TOKEN }),
    startGithubApi(),
  ]);
  docker = createServer((socket) => {
    dockerConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => docker.listen(DOCKER_SOCKET, resolve));
}, 120_000);

afterAll(async () => {
  await Promise.all([sshd?.stop(), http?.stop(), api?.stop()]);
  await new Promise<void>((resolve) => (docker ? docker.close(() => resolve()) : resolve()));
  rmSync(DOCKER_SOCKET, { force: true });
});

/** Every form of the secrets a reader could find: the key, each line of it, the token, its header form. */
function secrets(): string[] {
  const keyLines = [sshd.deployKey, ...sshd.deployKey.split('\n')]
    .map((line) => line.trim())
    .filter((line) => line.length >= 8 && !/^-----(BEGIN|END) /.test(line));
  return [...keyLines, TOKEN, basicCredential(TOKEN), Buffer.from(TOKEN).toString('base64'), API_TOKEN];
}

/** Every file below `dir`, read. */
function filesBelow(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  if (!existsSync(dir)) return files;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && statSync(path).size < 512 * 1024 * 1024) files.set(path, readFileSync(path));
  }
  return files;
}

/**
 * The workflow commands the runner would obey in a step's output: `::stop-commands::<token>`
 * turns them off until `::<token>::`, as the runner does.
 */
function obeyedCommands(stdout: string): string[] {
  const obeyed: string[] = [];
  let stopped: string | undefined;
  for (const line of stdout.split('\n')) {
    if (stopped !== undefined) {
      if (line === `::${stopped}::`) stopped = undefined;
      continue;
    }
    const stop = /^::stop-commands::(.+)$/.exec(line);
    if (stop) stopped = stop[1];
    else if (/^::[a-z-]+( [^:]*)?::/.test(line)) obeyed.push(line);
  }
  return obeyed;
}

interface Hostile {
  readonly result: RunResult;
  /** What the build recorded, by file name. */
  readonly dumps: Map<string, Buffer>;
  readonly workspace: string;
  readonly opamRoot: string;
}

async function hostileRun(
  name: string,
  inputs: Record<string, string>,
  options: Partial<RunOptions>,
): Promise<Hostile> {
  const out = join(fixture.base, name, 'hello', 'hostile-dumps');
  const opamRoot = join(fixture.base, `${name}-opam-root`);
  const result = await fixture.runExample({
    workspace: name,
    opamRoot: `${name}-opam-root`,
    prepare: (dir) => copyFileSync(join(FIXTURES, 'hostile/hostile-build.sh'), join(dir, 'hostile-build.sh')),
    inputs: {
      target: 'unix',
      cache: 'false',
      'build-command': `sh ./hostile-build.sh ${out} ${fixture.base}`,
      ...inputs,
    },
    ...options,
  });
  const dumps = new Map([...filesBelow(out)].map(([path, bytes]) => [path.slice(out.length + 1), bytes]));
  return { result, dumps, workspace: join(fixture.base, name), opamRoot };
}

function expectNoSecretIn(files: Map<string, Buffer>): void {
  for (const [file, bytes] of files) {
    for (const secret of secrets()) expect(bytes.includes(Buffer.from(secret)), `${file} holds a secret`).toBe(false);
  }
}

/** What every hostile build must have run into, whichever way the deploy authenticates. */
function expectContained(h: Hostile): void {
  const { result, dumps } = h;
  expect(result.main.exitCode, result.log).toBe(0);
  expect(result.outputs.sandbox).toBe('bubblewrap');
  expect(result.outputs.deployed).toBe('true');
  // The build ran: it planted programs in the switch's bin and its readers polled.
  expect(dumps.get('planted')?.toString(), [...dumps.keys()].join(' ')).toContain(
    join(h.opamRoot, 'mirage', 'bin', 'git'),
  );
  expect(dumps.get('reader-heartbeat')?.length ?? 0).toBeGreaterThan(0);
  // None of the planted programs ran for the action (main or post); the deploy used the real git.
  expect(dumps.has('planted-ran') ? dumps.get('planted-ran')?.toString() : '').not.toMatch(
    /^ran: .*\/(git|ssh|ssh-keygen|tar|zstd|bzip2|xz|gzip|opam) /m,
  );
  // Nothing outside the sandbox's read-write folders was writable, no node process visible, no root, no socket.
  const writable = (dumps.get('writable-path')?.toString() ?? '').split('\n').filter((d) => d !== '');
  expect(writable).toEqual([]);
  expect(dumps.has('node-seen'), dumps.get('node-seen')?.toString()).toBe(false);
  expect(dumps.get('escalated')?.toString() ?? '').not.toContain('sudo worked');
  expect(dockerConnections).toBe(0);
  expect(dumps.has('wrote-runner-files'), dumps.get('wrote-runner-files')?.toString()).toBe(false);
  // Its workflow commands were shown, never obeyed; no variable, output or state of its own.
  for (const line of obeyedCommands(result.main.stdout))
    expect(line).not.toMatch(/::hostile$|hostile-mask|credential-dirs::\["\/"\]/);
  expect(result.log).toContain('::set-output name=deployed::hostile');
  expect(result.exportedEnv.HOSTILE_ENV).toBeUndefined();
  expect(result.state['credential-dirs'] ?? '').not.toContain('["/"]');
  // No secret byte in anything the build wrote: its records, the workspace, the opam root.
  expectNoSecretIn(dumps);
  expectNoSecretIn(filesBelow(h.workspace));
  expectNoSecretIn(filesBelow(join(h.opamRoot, 'mirage', 'bin')));
}

describe('a hostile build cannot reach the deploy secrets', () => {
  it('push over SSH, with github-token: contained, and the deploy lands', async () => {
    const h = await hostileRun(
      'push-ssh',
      { deploy: 'true', ...sshDeployInputs(sshd), 'github-token': API_TOKEN, cache: 'true' },
      { event: 'push-default-branch', env: { GITHUB_API_URL: api.url, ...cache.service.env } },
    );
    expectContained(h);
    // The post step saved the caches with tar and zstd (the runner put the switch's bin, where the
    // build planted its own, first on its PATH): the real ones ran, as expectContained checked.
    expect(h.result.log).toMatch(/^cache opam: saved$/m);
    // The token was in use: the deployment records were written with it.
    expect(api.requests.length, h.result.log).toBeGreaterThan(0);
  }, 300_000);

  it('push over HTTPS: contained, and the deploy lands', async () => {
    const h = await hostileRun(
      'push-https',
      { deploy: 'true', 'deploy-repository': http.url, 'deploy-token': TOKEN },
      { event: 'push-default-branch' },
    );
    expectContained(h);
  }, 300_000);
});
