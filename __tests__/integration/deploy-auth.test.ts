/**
 * Deploy credentials against real servers on loopback: OpenSSH sshd with a restricted deploy key,
 * and `git http-backend` behind GitHub-style token auth. Access is proven with real git pushes that
 * use nothing but `access.env`; the gate and the preflight run through the bundle; every log is
 * scanned for the secrets.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type DeployConfig } from '../../src/config.js';
import type { RunContext } from '../../src/context.js';
import { openGitAccess } from '../../src/deploy/credentials/access.js';
import { preflight } from '../../src/deploy/credentials/preflight.js';
import { tokenEnv, type GitAccess } from '../../src/deploy/credentials/plan.js';
import { explainGitFailure } from '../../src/deploy/repository/git-errors.js';
import { basicCredential } from '../../src/deploy/credentials/secret-shape.js';
import { createBareRepo, runProcess, snapshotRepo, type RunResult } from '../support/bare-repo.js';
import { testContext } from '../support/context.js';
import { basicAuthHeader, startGitHttp, type GitHttpServer } from '../support/git-http.js';
import {
  NODES,
  PROJECT_ROOT,
  listTree,
  parseCommandFile,
  removeRun,
  runAction,
  type RunResult as ActionResult,
} from '../support/harness.js';
import { makeOpamRepository } from '../support/opam-repo.js';
import { checkoutExample, fixtureInputs } from '../support/fixture-action.js';
import { startSshd, type SshdServer } from '../support/sshd.js';
import {
  deployConfig as scenarioConfig,
  deployContext,
  makeImage,
  SETUP,
  shaOf,
  showFile,
  sshDeployInputs,
  checkedDeploy,
} from '../support/deploy-scenario.js';

const TOKEN = `github_pat_${randomBytes(24).toString('hex')}`;
const SHA = '0123456789abcdef0123456789abcdef01234567';

let base: string;
let home: string;
let repo: string;
let sshd: SshdServer;
let http: GitHttpServer;
let stateFile: string;
let runnerTemp: string;
const savedEnv = { GITHUB_STATE: process.env.GITHUB_STATE, GIT_CONFIG_COUNT: process.env.GIT_CONFIG_COUNT };
/** Everything the in-process code printed (the action's log when it runs for real). */
let printed = '';
const runs: ActionResult[] = [];

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'deploy-auth-'));
  home = join(base, 'home');
  runnerTemp = join(base, 'runner-temp');
  await mkdir(home);
  repo = await createBareRepo(join(base, 'srv', 'deploy.git'));
  [sshd, http] = await Promise.all([startSshd({ repoPath: repo }), startGitHttp({ repoPath: repo, token: TOKEN })]);
  stateFile = join(base, 'state');
  await writeFile(stateFile, '');
  process.env.GITHUB_STATE = stateFile;
  delete process.env.GIT_CONFIG_COUNT;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
});

afterAll(async () => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  runs.forEach(removeRun);
  await Promise.all([sshd?.stop(), http?.stop()]);
  await rm(base, { recursive: true, force: true });
});

/** The secrets of this file: no log may hold any of them, whole or line by line. */
function secrets(): string[] {
  const keyLines = [sshd.deployKey, sshd.strangerKey, sshd.passphraseKey]
    .flatMap((key) => [key, ...key.split('\n')])
    .map((line) => line.trim())
    .filter((line) => line.length >= 8 && !/^-----(BEGIN|END) /.test(line));
  return [...keyLines, TOKEN, basicCredential(TOKEN), 'wrong-token-value'];
}

function expectNoSecrets(text: string, where: string): void {
  for (const secret of secrets()) expect(text.includes(secret), `${where} holds a secret`).toBe(false);
}

function expectCleanRun(result: ActionResult): void {
  expectNoSecrets(result.log, 'log');
  expectNoSecrets(result.summary, 'summary');
  expectNoSecrets(JSON.stringify(result.outputs), 'outputs');
  expectNoSecrets(JSON.stringify(result.state), 'state');
  expectNoSecrets(JSON.stringify(result.exportedEnv), 'exported env');
}

function deployConfig(over: Partial<DeployConfig>): DeployConfig {
  return {
    enabled: true,
    branches: [],
    repository: sshd.url,
    serverUrl: 'https://github.com',
    compression: 'bzip2',
    keep: 0,
    commitUserName: 'Test',
    commitUserEmail: 'test@example.invalid',
    dryRun: false,
    directory: 'xen',
    bootArgs: [],
    environment: 'xen',
    deploymentRecords: true,
    hostReports: false,
    waitForHost: 0,
    ...over,
  };
}

function context(): RunContext {
  return testContext({ sha: SHA, workspace: base, runnerTemp });
}

/** A client environment from scratch: no agent, no askpass, no user or system git configuration. */
function clientEnv(access?: GitAccess): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
    ...access?.env,
  };
}

async function git(args: string[], cwd: string, access?: GitAccess): Promise<RunResult> {
  return runProcess('git', args, { cwd, env: clientEnv(access) });
}

let commits = 0;
/** A local repository with one new commit, ready to push. */
async function workTree(): Promise<string> {
  const dir = await mkdtemp(join(base, 'work-'));
  await git(['init', '-q', '--template=', '-b', 'main'], dir);
  await writeFile(join(dir, 'file'), `commit ${++commits}\n`);
  await git(['add', 'file'], dir);
  await git(['commit', '-q', '-m', `commit ${commits}`], dir);
  return dir;
}

async function pushWith(access: GitAccess, branch = `b${commits + 1}`): Promise<RunResult & { branch: string }> {
  const dir = await workTree();
  return { ...(await git(['push', access.url, `HEAD:refs/heads/${branch}`], dir, access)), branch };
}

/** Key folders that openGitAccess made, in order. */
const keyDirs: string[] = [];

async function openAccess(over: Partial<DeployConfig>): Promise<GitAccess> {
  const deploy = deployConfig(over);
  const access = await openGitAccess(await preflight(deploy), context());
  const keyDir = /-i '([^']+)\/key'/.exec(access.env.GIT_SSH_COMMAND ?? '')?.[1];
  if (keyDir !== undefined) keyDirs.push(keyDir);
  return access;
}

async function refusal(over: Partial<DeployConfig>): Promise<ConfigError> {
  const error = await preflight(deployConfig(over)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern, 'g')) ?? []).length;

describe('SSH deploy key against a real sshd', () => {
  it('pushes with nothing but access.env, from a 0700 folder with a 0600 key', async () => {
    const access = await openAccess({ key: sshd.deployKey, knownHosts: sshd.knownHosts });
    const keyDir = /-i '([^']+)\/key'/.exec(access.env.GIT_SSH_COMMAND ?? '')?.[1] ?? '';
    expect(keyDir.startsWith(`${runnerTemp}/mirage-deploy-credentials-`)).toBe(true);
    expect(statSync(keyDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(keyDir, 'key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(keyDir, 'known_hosts'), 'utf8')).toBe(`${sshd.knownHosts}\n`);
    expect(access.credential).toBe('deploy-key');
    expect(access.publicKey).toMatch(/^ssh-ed25519 AAAA/);

    const push = await pushWith(access);
    expect(push.stderr).not.toMatch(/fatal|denied/);
    expect(push.code).toBe(0);
    const refs = await git(['ls-remote', access.url], base, access);
    expect(refs.stdout).toMatch(new RegExp(`\\srefs/heads/${push.branch}\\n`));
    expect(sshd.commands()).toContain(`git-receive-pack '${repo}'`);
    // Nothing outside the folder: no ~/.ssh, no global git config.
    expect(listTree(home)).toEqual([]);
    expect(JSON.parse(parseCommandFile(stateFile)['credential-dirs'] ?? '[]')).toContain(keyDir);
  });

  it('refuses a different host key (a man in the middle) before authenticating', async () => {
    const access = await openAccess({ key: sshd.deployKey, knownHosts: sshd.otherKnownHosts });
    const accepted = count(sshd.logs(), /Accepted publickey/);
    const sessions = sshd.commands().length;
    const push = await pushWith(access);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
    expect(count(sshd.logs(), /Accepted publickey/)).toBe(accepted);
    expect(sshd.commands()).toHaveLength(sessions);
    expect(explainGitFailure(push.stderr, access)).toMatch(
      /presented \(ED25519 SHA256:[A-Za-z0-9+/]+\) does not match the pinned keys.*githubs-ssh-key-fingerprints.*`known-hosts`/s,
    );
  });

  it('translates a key the server does not know into the write-access fix', async () => {
    const access = await openAccess({ key: sshd.strangerKey, knownHosts: sshd.knownHosts });
    const push = await pushWith(access);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/Permission denied \(publickey\)/);
    const explained = explainGitFailure(push.stderr, access);
    expect(explained).toMatch(/the key in `deploy-key` lacks write access to ssh:\/\/.*'Allow write access'/);
    expect(explained).toContain(access.publicKey);
  });

  it('translates a repository the key cannot reach into the `deploy-repository` fix', async () => {
    const access = await openAccess({
      key: sshd.deployKey,
      knownHosts: sshd.knownHosts,
      repository: `ssh://${sshd.user}@127.0.0.1:${sshd.port}/srv/elsewhere.git`,
    });
    const result = await git(['ls-remote', access.url], base, access);
    expect(result.code).not.toBe(0);
    expect(explainGitFailure(result.stderr, access)).toMatch(/was not found \(input `deploy-repository`\)/);
  });

  it.each([
    ['a passphrase-protected key', () => sshd.passphraseKey, /passphrase/],
    ['garbage', () => 'this is not a key\n', /no `-----BEGIN … PRIVATE KEY-----` line/],
    [
      'a corrupted key body',
      () => sshd.deployKey.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA'),
      /ssh-keygen/,
    ],
  ])('refuses %s before any connection', async (_name, key, message) => {
    const connections = count(sshd.logs(), /Connection from/);
    const error = await refusal({ key: key(), knownHosts: sshd.knownHosts });
    expect(error.problems.map((p) => p.input)).toEqual(['deploy-key']);
    expect(error.message).toMatch(message);
    expectNoSecrets(error.message, 'error');
    expect(count(sshd.logs(), /Connection from/)).toBe(connections);
  });

  it('reads a known-hosts input larger than a pipe holds', async () => {
    const filler = Array.from(
      { length: 3000 },
      (_, i) => `host${i}.example.invalid ${sshd.otherKnownHosts.split(' ').slice(1).join(' ')}`,
    );
    const knownHosts = [...filler, sshd.knownHosts].join('\n');
    expect(knownHosts.length).toBeGreaterThan(128 * 1024);
    await preflight(deployConfig({ key: sshd.deployKey, knownHosts }));
    const missing = await refusal({ key: sshd.deployKey, knownHosts: filler.join('\n') });
    expect(missing.problems[0]?.input).toBe('known-hosts');
  });

  it('refuses a host with no pinned key before any connection, naming `known-hosts`', async () => {
    const connections = count(sshd.logs(), /Connection from/);
    const error = await refusal({ key: sshd.deployKey });
    expect(error.problems[0]?.input).toBe('known-hosts');
    expect(error.message).toContain(`[127.0.0.1]:${sshd.port}`);
    expect(count(sshd.logs(), /Connection from/)).toBe(connections);
  });
});

describe('token over smart HTTP against git http-backend', () => {
  it('pushes with the token only in the environment, never in the clone', async () => {
    const access = await openAccess({ token: TOKEN, repository: http.url });
    expect(access.credential).toBe('deploy-token');
    const push = await pushWith(access);
    expect(push.stderr).not.toMatch(/fatal/);
    expect(push.code).toBe(0);
    expect(http.requests().some((r) => r.authorization === basicAuthHeader(TOKEN) && r.status === 200)).toBe(true);

    const clone = join(base, 'clone-http');
    const cloned = await git(['clone', '-q', access.url, clone], base, access);
    expect(cloned.code).toBe(0);
    const config = readFileSync(join(clone, '.git', 'config'), 'utf8');
    expect(config).toContain(http.url);
    expectNoSecrets(config, '.git/config');
    expect(listTree(home)).toEqual([]);
  });

  it('wins over an extraheader that actions/checkout left for the same host', async () => {
    const access = await openAccess({ token: TOKEN, repository: http.url });
    const dir = await workTree();
    const origin = new URL(http.url).origin;
    const stale = `AUTHORIZATION: basic ${Buffer.from('x-access-token:wrong-token-value').toString('base64')}`;
    await git(['config', '--local', `http.${origin}/.extraheader`, stale], dir);
    await git(['config', '--local', '--add', 'http.extraheader', stale], dir);
    await git(['config', '--local', `http.${http.url}.extraheader`, stale], dir);

    // Control: appended without clearing first, git would send the stale header ahead of ours.
    const naive = Object.fromEntries(Object.entries(tokenEnv(http.url, TOKEN, 0)).filter(([k]) => !/_(0|1)$/.test(k)));
    const renumbered = {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: naive.GIT_CONFIG_KEY_2 ?? '',
      GIT_CONFIG_VALUE_0: naive.GIT_CONFIG_VALUE_2 ?? '',
    };
    const control = await git(['push', access.url, 'HEAD:refs/heads/stale-control'], dir, {
      ...access,
      env: renumbered,
    });
    expect(control.code).not.toBe(0);

    const push = await git(['push', access.url, 'HEAD:refs/heads/stale-header'], dir, access);
    expect(push.stderr).not.toMatch(/fatal/);
    expect(push.code).toBe(0);
  });

  it('translates a wrong token into the contents:write fix', async () => {
    const access = await openAccess({ token: 'ghs_wrongwrongwrong', repository: http.url });
    expect(access.credential).toBe('installation-token');
    const push = await pushWith(access);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/403/);
    expect(explainGitFailure(push.stderr, access)).toMatch(
      /the token in `deploy-token` lacks write access to http:\/\/127\.0\.0\.1.*contents:write.*GITHUB_TOKEN/s,
    );
  });

  it('translates a missing repository into the `deploy-repository` fix', async () => {
    const access = await openAccess({ token: TOKEN, repository: `http://127.0.0.1:${http.port}/missing.git` });
    const result = await git(['ls-remote', access.url], base, access);
    expect(result.code).not.toBe(0);
    expect(explainGitFailure(result.stderr, access)).toMatch(
      /missing\.git was not found \(input `deploy-repository`\)/,
    );
  });

  it('masked the token’s base64 form and never printed a secret', () => {
    const masks = [...printed.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1]);
    expect(masks).toContain(basicCredential(TOKEN));
    expectNoSecrets(printed.replace(/^::add-mask::.*$/gm, ''), 'printed output');
  });
});

describe('the post step', () => {
  it('removes every key folder that main registered', async () => {
    const state = parseCommandFile(stateFile);
    const dirs = JSON.parse(state['credential-dirs'] ?? '[]') as string[];
    expect(dirs).toEqual(keyDirs);
    expect(dirs.length).toBeGreaterThan(0);
    expect(dirs.every(existsSync)).toBe(true);
    const post = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(NODES.node24, [join(PROJECT_ROOT, 'dist/post.js')], {
        env: { PATH: process.env.PATH, RUNNER_TEMP: runnerTemp, 'STATE_credential-dirs': state['credential-dirs'] },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(post.code).toBe(0);
    expect(post.out).toMatch(/removed the deploy credentials folder/);
    expect(dirs.filter(existsSync)).toEqual([]);
    expect(listTree(runnerTemp)).toEqual([]);
  });
});

describe('the bundle', () => {
  async function run(options: Parameters<typeof runAction>[0]): Promise<ActionResult> {
    const result = await runAction(options);
    runs.push(result);
    expectCleanRun(result);
    return result;
  }

  const keyInputs = () => ({
    deploy: 'true',
    ...sshDeployInputs(sshd),
    'rollback-to': SHA,
  });

  it.each([
    ['a same-repository pull request', 'pull_request-same-repo', /pull requests never deploy/],
    [
      'a pull request from a fork',
      'pull_request-fork',
      /a pull request from a fork \(mallory\/mirage-www\) never deploys/,
    ],
    ['a push to another branch', 'push-other-branch', /refs\/heads\/feature\/blog is not a deploy branch/],
  ] as const)('leaves the repository unchanged byte for byte on %s', async (_name, event, reason) => {
    const before = await snapshotRepo(repo);
    const sessions = sshd.commands().length;
    const result = await run({ event, inputs: keyInputs() });
    expect(result.main.exitCode).toBe(0);
    expect(result.outputs.deployed).toBe('false');
    expect(result.log).toMatch(new RegExp(`::notice::.*${reason.source}`));
    expect(await snapshotRepo(repo)).toBe(before);
    expect(sshd.commands()).toHaveLength(sessions);
    expect(result.post?.exitCode).toBe(0);
    expect(listTree(result.dirs.runnerTemp)).toEqual([]);
  });

  it('refuses deploy: true under pull_request_target as an invalid input', async () => {
    const payload = JSON.parse(readFileSync(join(PROJECT_ROOT, '__fixtures__/events/pull_request-fork.json'), 'utf8'));
    const result = await run({
      event: { name: 'pull_request_target', payload, ref: 'refs/heads/main', sha: SHA },
      inputs: keyInputs(),
    });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors).toContainEqual(
      expect.stringMatching(/^input `deploy`: is `true` in a `pull_request_target` run/),
    );
    expect(result.post?.exitCode).toBe(0);
  });

  it('fails a deploying run with no secret, saying how to make one, before any work', async () => {
    const result = await run({ event: 'push-default-branch', inputs: { ...keyInputs(), 'deploy-key': '' } });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors).toContainEqual(
      expect.stringMatching(
        /^input `deploy-key`: is empty, but this run deploys.*ssh-keygen -t ed25519.*Allow write access.*secrets\.DEPLOY_KEY/s,
      ),
    );
    expect(listTree(result.dirs.runnerTemp)).toEqual([]);
    expect(listTree(result.dirs.toolCache)).toEqual([]);
  });

  it.each([
    ['a passphrase-protected key', () => sshd.passphraseKey, /passphrase/],
    ['garbage', () => 'garbage, not a key', /is not an SSH private key/],
  ])('refuses %s before any connection', async (_name, key, message) => {
    const connections = count(sshd.logs(), /Connection from/);
    const result = await run({ event: 'push-default-branch', inputs: { ...keyInputs(), 'deploy-key': key() } });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors).toContainEqual(
      expect.stringMatching(new RegExp(`^input \`deploy-key\`: .*${message.source}`)),
    );
    expect(count(sshd.logs(), /Connection from/)).toBe(connections);
  });

  it('masks the token and its base64 form, and refuses a token that would break the header', async () => {
    const result = await run({
      event: 'push-default-branch',
      inputs: {
        deploy: 'true',
        'deploy-token': `${TOKEN}\nX-Injected: 1`,
        'deploy-repository': http.url,
        'rollback-to': SHA,
      },
    });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors).toContainEqual(expect.stringMatching(/^input `deploy-token`: contains spaces, line breaks/));
    expect(result.masks).toContain(TOKEN);
    expect(result.masks).toContain(basicCredential(`${TOKEN}\nX-Injected: 1`));
  });

  it('registers masks for every line of the key', async () => {
    const result = await run({ event: 'pull_request-same-repo', inputs: keyInputs() });
    const lines = sshd.deployKey.split('\n').filter((l) => l.length >= 8 && !l.startsWith('-----'));
    for (const line of lines) expect(result.masks).toContain(line);
  });
});

describe('the bundle, pushing through the writer', () => {
  const shas = { a: shaOf('auth-a'), b: shaOf('auth-b') };

  async function run(options: Parameters<typeof runAction>[0]): Promise<ActionResult> {
    const result = await runAction(options);
    runs.push(result);
    expectCleanRun(result);
    return result;
  }

  /** The key folders a run registered: each existed under its RUNNER_TEMP, none is left after post. */
  function expectKeyDirsRemoved(result: ActionResult): void {
    const dirs = JSON.parse(result.state['credential-dirs'] ?? '[]') as string[];
    expect(dirs.length).toBeGreaterThan(0);
    for (const dir of dirs) expect(dir.startsWith(`${result.dirs.runnerTemp}/mirage-deploy-credentials-`)).toBe(true);
    expect(dirs.filter(existsSync)).toEqual([]);
    expect(listTree(result.dirs.runnerTemp)).toEqual([]);
  }

  beforeAll(async () => {
    // Two deploys of the xen target, made in process with the deploy key, for the bundle to roll between.
    const workspace = await mkdtemp(join(base, 'seed-'));
    await writeFile(join(workspace, 'config.ml'), 'let () = ()\n');
    for (const sha of [shas.a, shas.b]) {
      const ctx = deployContext({ sha, workspace, runnerTemp });
      const image = await makeImage(join(workspace, sha), { target: 'xen', seed: sha });
      const inputs = { target: 'xen', ...sshDeployInputs(sshd) };
      const outcome = await checkedDeploy(scenarioConfig(ctx, inputs), ctx, image, SETUP);
      expect(outcome.deployed).toBe(true);
    }
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shas.b}\n`);
  });

  it('pushes over SSH with the deploy key, then removes the key folder', async () => {
    const result = await run({
      event: 'workflow_dispatch',
      inputs: {
        target: 'xen',
        deploy: 'true',
        ...sshDeployInputs(sshd),
        'rollback-to': shas.a,
      },
    });
    expect(result.main.exitCode).toBe(0);
    expect(result.outputs.deployed).toBe('true');
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shas.a}\n`);
    expect(result.outputs['deploy-commit']).toMatch(/^[0-9a-f]{40}$/);
    expect(result.post?.exitCode).toBe(0);
    expectKeyDirsRemoved(result);
  });

  it('pushes over HTTPS with the token, masked with its base64 form', async () => {
    const result = await run({
      event: 'workflow_dispatch',
      inputs: {
        target: 'xen',
        deploy: 'true',
        'deploy-token': TOKEN,
        'deploy-repository': http.url,
        'rollback-to': shas.b,
      },
    });
    expect(result.main.exitCode).toBe(0);
    expect(result.outputs.deployed).toBe('true');
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shas.b}\n`);
    expect(result.masks).toEqual(expect.arrayContaining([TOKEN, basicCredential(TOKEN)]));
    expect(listTree(result.dirs.runnerTemp)).toEqual([]);
  });

  it('removes the key folder after a main step that failed, and says what to fix', async () => {
    const before = await snapshotRepo(repo);
    const result = await run({
      event: 'workflow_dispatch',
      inputs: {
        target: 'xen',
        deploy: 'true',
        'deploy-key': sshd.strangerKey,
        'known-hosts': sshd.knownHosts,
        'deploy-repository': sshd.url,
        'rollback-to': shas.a,
      },
    });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors.join('\n')).toMatch(
      /the key in `deploy-key` lacks write access to ssh:.*'Allow write access'/,
    );
    expect(await snapshotRepo(repo)).toBe(before);
    expect(result.post?.exitCode).toBe(0);
    expectKeyDirsRemoved(result);
  });
});

describe('the bundle, building a fork’s pull request', () => {
  it('builds the image, deploys nothing, and leaves the repository unchanged byte for byte', async () => {
    const opamRepository = await makeOpamRepository(join(base, 'opam-repository'));
    const workspace = join(base, 'fork-workspace');
    checkoutExample(workspace);
    const before = await snapshotRepo(repo);
    const sessions = sshd.commands().length;
    const result = await runAction({
      event: 'pull_request-fork',
      workspace,
      env: { OPAMROOT: join(base, 'opam-root') },
      inputs: {
        target: 'xen',
        ...fixtureInputs(opamRepository.url),
        cache: 'false',
        deploy: 'true',
        ...sshDeployInputs(sshd),
      },
      timeoutMs: 300_000,
    });
    runs.push(result);
    expectCleanRun(result);
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs.image).toMatch(/hello\.xen$/);
    expect(result.outputs.deployed).toBe('false');
    expect(result.log).toMatch(
      /::notice::Not deploying: a pull request from a fork \(mallory\/mirage-www\) never deploys/,
    );
    expect(await snapshotRepo(repo)).toBe(before);
    expect(sshd.commands()).toHaveLength(sessions);
    expect(result.state['credential-dirs']).toBeUndefined();
    expect(result.post?.exitCode).toBe(0);
  }, 300_000);
});
