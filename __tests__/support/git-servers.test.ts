// Proves the loopback git servers in __tests__/support with plain git/ssh, no project code: if these pass,
// a deploy test that fails against them fails because of the deploy code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBareRepo,
  preReceiveHookPath,
  runProcess,
  setPreReceiveHook,
  shQuote,
  snapshotRepo,
  type RunResult,
} from './bare-repo.js';
import { basicAuthHeader, startGitHttp, type GitHttpServer } from './git-http.js';
import { isAlive, processTree, READ_ONLY_REFUSAL, startSshd, writeKeyFile, type SshdServer } from './sshd.js';

let base: string;
let home: string;
let realSshState: string;

/** Existence, entries and mtimes of the real ~/.ssh: it must be the same after the whole file. */
async function sshDirState(): Promise<string> {
  const dir = path.join(os.userInfo().homedir, '.ssh');
  if (!existsSync(dir)) return 'absent';
  const st = await lstat(dir);
  const entries = await readdir(dir);
  const parts = [`dir mtime=${st.mtimeMs}`];
  for (const e of entries.sort()) parts.push(`${e} ${(await lstat(path.join(dir, e))).mtimeMs}`);
  return parts.join('\n');
}

function clientEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // Built from scratch: no SSH_AUTH_SOCK, no askpass, no user or system git config.
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
    ...extra,
  };
}

function git(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return runProcess('git', args, { cwd: opts.cwd ?? base, env: opts.env ?? clientEnv() });
}

async function gitOk(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await git(args, opts);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

let seq = 0;
async function scratch(name: string): Promise<string> {
  const dir = path.join(base, `${name}-${++seq}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A work tree with `n` commits on `main`, each adding one file. */
async function workTree(name: string, n = 1): Promise<string> {
  const dir = await scratch(name);
  await gitOk(['init', '--quiet', '--initial-branch=main', dir]);
  for (let i = 0; i < n; i++) {
    await writeFile(path.join(dir, `file-${i}.txt`), `${name} ${i}\n`);
    await gitOk(['add', '.'], { cwd: dir });
    await gitOk(['commit', '--quiet', '-m', `${name} ${i}`], { cwd: dir });
  }
  return dir;
}

async function headOf(dir: string): Promise<string> {
  return (await gitOk(['rev-parse', 'HEAD'], { cwd: dir })).trim();
}

/** Wait until `pred` holds (server-side logs are written asynchronously to the client exiting). */
async function until(pred: () => boolean, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return pred();
}

beforeAll(async () => {
  realSshState = await sshDirState();
  base = await mkdtemp(path.join(os.tmpdir(), 'mirage-git-servers-'));
  home = path.join(base, 'home');
  await mkdir(home);
});

afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
  // nothing here may read or write the real ~/.ssh (checked last, after every server has stopped)
  expect(await sshDirState()).toBe(realSshState);
  expect(existsSync(path.join(home ?? '/nonexistent', '.ssh'))).toBe(false);
});

describe('bare-repo helpers', () => {
  it('creates a bare repo on the requested branch and snapshots it byte for byte', async () => {
    const repo = await createBareRepo(path.join(base, 'helpers', 'deploy.git'), { defaultBranch: 'gh-pages' });
    expect(path.isAbsolute(repo)).toBe(true);
    const is = await runProcess('git', ['rev-parse', '--is-bare-repository'], { cwd: repo });
    expect(is.stdout.trim()).toBe('true');
    const head = await runProcess('git', ['symbolic-ref', 'HEAD'], { cwd: repo });
    expect(head.stdout.trim()).toBe('refs/heads/gh-pages');
    expect(existsSync(path.join(repo, 'hooks'))).toBe(false); // no templates copied

    const before = await snapshotRepo(repo);
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(await snapshotRepo(repo)).toBe(before);
    await writeFile(path.join(repo, 'description'), 'x');
    const touched = await snapshotRepo(repo);
    expect(touched).not.toBe(before);
    await writeFile(path.join(repo, 'description'), 'y'); // same size, other byte
    expect(await snapshotRepo(repo)).not.toBe(touched);
    await rm(path.join(repo, 'description'));
    expect(await snapshotRepo(repo)).toBe(before);
  });

  it('hook scripts and the forced command are clean POSIX sh (shellcheck when installed, sh -n always)', async () => {
    const repo = await createBareRepo(path.join(base, 'lint', 'deploy.git'));
    const sshd = await startSshd({ repoPath: repo });
    try {
      const scripts = [sshd.forcedCommandPath];
      for (const mode of ['reject-once', 'reject-always'] as const) {
        await setPreReceiveHook(repo, mode);
        const copy = path.join(base, 'lint', `pre-receive-${mode}`);
        await writeFile(copy, await readFile(preReceiveHookPath(repo)));
        scripts.push(copy);
      }
      await setPreReceiveHook(repo, 'none');
      expect(existsSync(preReceiveHookPath(repo))).toBe(false);
      const hasShellcheck = (await runProcess('sh', ['-c', 'command -v shellcheck'])).code === 0;
      for (const script of scripts) {
        const syntax = await runProcess('sh', ['-n', script]);
        expect(syntax.stderr, script).toBe('');
        expect(syntax.code, script).toBe(0);
        if (hasShellcheck) {
          const sc = await runProcess('shellcheck', ['--shell=sh', '--severity=style', script]);
          expect(sc.stdout, script).toBe('');
          expect(sc.code, script).toBe(0);
        }
      }
    } finally {
      await sshd.stop();
    }
  });
});

describe('sshd', () => {
  let repo: string;
  let sshd: SshdServer;
  let keys: { deploy: string; readOnly: string; stranger: string; locked: string };
  let kh: { good: string; mitm: string; empty: string };

  const sshCommand = (key: string, knownHosts: string, extra: string[] = []) =>
    [
      'ssh -F /dev/null',
      `-i ${shQuote(key)}`,
      '-o IdentitiesOnly=yes',
      '-o StrictHostKeyChecking=yes',
      `-o UserKnownHostsFile=${shQuote(knownHosts)}`,
      '-o GlobalKnownHostsFile=/dev/null',
      ...extra,
    ].join(' ');
  const sshEnv = (key: string, knownHosts: string, extra: NodeJS.ProcessEnv = {}) =>
    clientEnv({ GIT_SSH_COMMAND: sshCommand(key, knownHosts, ['-o BatchMode=yes']), ...extra });

  /** ssh directly (not through git) with the same isolation */
  const ssh = (key: string, knownHosts: string, remote: string[], env: NodeJS.ProcessEnv = clientEnv()) =>
    runProcess(
      'ssh',
      [
        '-F',
        '/dev/null',
        '-i',
        key,
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        '-p',
        String(sshd.port),
        `${sshd.user}@127.0.0.1`,
        ...remote,
      ],
      { env },
    );

  beforeAll(async () => {
    repo = await createBareRepo(path.join(base, 'ssh', 'deploy.git'));
    sshd = await startSshd({ repoPath: repo });
    const dir = await scratch('ssh-client');
    keys = {
      deploy: await writeKeyFile(path.join(dir, 'deploy'), sshd.deployKey),
      readOnly: await writeKeyFile(path.join(dir, 'read-only'), sshd.readOnlyKey),
      stranger: await writeKeyFile(path.join(dir, 'stranger'), sshd.strangerKey),
      locked: await writeKeyFile(path.join(dir, 'locked'), sshd.passphraseKey),
    };
    kh = { good: path.join(dir, 'kh'), mitm: path.join(dir, 'kh-mitm'), empty: path.join(dir, 'kh-empty') };
    await writeFile(kh.good, `${sshd.knownHosts}\n`);
    await writeFile(kh.mitm, `${sshd.otherKnownHosts}\n`);
    await writeFile(kh.empty, '');
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('hands out consistent connection data', () => {
    expect(sshd.host).toBe('127.0.0.1');
    expect(sshd.url).toBe(`ssh://${sshd.user}@127.0.0.1:${sshd.port}${repo}`);
    expect(sshd.knownHosts).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 AAAA[0-9A-Za-z+/=]+$`));
    expect(sshd.otherKnownHosts).toMatch(/^\[127\.0\.0\.1\]:\d+ ssh-ed25519 AAAA/);
    expect(sshd.otherKnownHosts.split(' ')[2]).not.toBe(sshd.knownHosts.split(' ')[2]);
    for (const k of [sshd.deployKey, sshd.readOnlyKey, sshd.strangerKey, sshd.passphraseKey]) {
      expect(k).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+-----END OPENSSH PRIVATE KEY-----\n$/);
    }
  });

  it('clone empty, commit, push, clone again over protocol v2; upload-pack bytes are counted', async () => {
    const env = sshEnv(keys.deploy, kh.good);
    const first = path.join(await scratch('ssh-clone'), 'w');
    const clone = await git(['clone', sshd.url, first], { env });
    expect(clone.code, clone.stderr).toBe(0);
    expect(clone.stderr).toContain('You appear to have cloned an empty repository.');

    await writeFile(path.join(first, 'image.hvt'), 'unikernel bytes\n');
    await gitOk(['add', '.'], { cwd: first });
    await gitOk(['commit', '--quiet', '-m', 'deploy 1'], { cwd: first });
    const pushed = await headOf(first);
    const push = await git(['push', 'origin', 'HEAD:refs/heads/main'], { cwd: first, env });
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toContain('* [new branch]      HEAD -> main');

    sshd.resetCounters();
    expect(sshd.uploadPackBytes()).toBe(0);
    const trace = path.join(base, 'ssh-trace.txt');
    const second = path.join(await scratch('ssh-clone'), 'w');
    await gitOk(['clone', sshd.url, second], { env: { ...env, GIT_TRACE_PACKET: trace } });
    expect(await headOf(second)).toBe(pushed);
    const afterClone = sshd.uploadPackBytes();
    expect(afterClone).toBeGreaterThan(200); // advertisement + a pack holding the commit
    const traced = await readFile(trace, 'utf8');
    expect(traced).toContain('version 2'); // AcceptEnv GIT_PROTOCOL works

    await gitOk(['fetch', 'origin'], { cwd: second, env });
    expect(sshd.uploadPackBytes()).toBeGreaterThan(afterClone);
    expect(sshd.commands()).toContain(`git-upload-pack '${repo}'`);
    expect(sshd.commands()).toContain(`git-receive-pack '${repo}'`);
    expect(sshd.logs()).toMatch(/Accepted publickey for \S+ from 127\.0\.0\.1 port \d+ ssh2: ED25519 SHA256:/);
  });

  it('the read-only key fetches but cannot push, with the message GitHub gives', async () => {
    const env = sshEnv(keys.readOnly, kh.good);
    const dir = path.join(await scratch('ssh-read-only'), 'w');
    const clone = await git(['clone', sshd.url, dir], { env });
    expect(clone.code, clone.stderr).toBe(0);
    const tip = await headOf(dir);
    await writeFile(path.join(dir, 'pushed-read-only.txt'), 'no\n');
    await gitOk(['add', '.'], { cwd: dir });
    await gitOk(['commit', '--quiet', '-m', 'read-only push'], { cwd: dir });
    const push = await git(['push', 'origin', 'HEAD:refs/heads/main'], { cwd: dir, env });
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain(READ_ONLY_REFUSAL);
    const remote = await git(['ls-remote', sshd.url, 'refs/heads/main'], { env });
    expect(remote.stdout.split('\t')[0]).toBe(tip);
  });

  it('the scp-like URL works when the port is given to ssh', async () => {
    const env = clientEnv({
      GIT_SSH_COMMAND: sshCommand(keys.deploy, kh.good, ['-o BatchMode=yes', `-p ${sshd.port}`]),
    });
    const r = await git(['ls-remote', sshd.scpUrl], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{40}\trefs\/heads\/main$/m);
  });

  it('a different host key (man in the middle) fails before any authentication', async () => {
    const mark = sshd.logs().length;
    const r = await git(['ls-remote', sshd.url], { env: sshEnv(keys.deploy, kh.mitm) });
    expect(r.code).toBe(128);
    expect(r.stderr).toContain('WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!');
    expect(r.stderr).toContain('Host key verification failed.');
    expect(r.stderr).toContain('fatal: Could not read from remote repository.');
    // sshd saw the connection end during key exchange and no userauth at all
    expect(await until(() => /Connection (closed|reset) by 127\.0\.0\.1 port \d+/.test(sshd.logs().slice(mark)))).toBe(
      true,
    );
    const seen = sshd.logs().slice(mark);
    expect(seen).not.toMatch(/publickey|Accepted|Failed|Postponed|authenticating user/);
  });

  it('an unknown host with strict checking fails the same way, before authentication', async () => {
    const mark = sshd.logs().length;
    const r = await git(['ls-remote', sshd.url], { env: sshEnv(keys.deploy, kh.empty) });
    expect(r.code).toBe(128);
    expect(r.stderr).toContain(
      `No ED25519 host key is known for [127.0.0.1]:${sshd.port} and you have requested strict checking.`,
    );
    expect(r.stderr).toContain('Host key verification failed.');
    expect(await until(() => /Connection (closed|reset) by/.test(sshd.logs().slice(mark)))).toBe(true);
    expect(sshd.logs().slice(mark)).not.toMatch(/publickey|Accepted|Failed|authenticating user/);
  });

  it('a key that is not authorized gets Permission denied (publickey), and sshd logs the attempt', async () => {
    const mark = sshd.logs().length;
    const r = await git(['ls-remote', sshd.url], { env: sshEnv(keys.stranger, kh.good) });
    expect(r.code).toBe(128);
    expect(r.stderr).toContain(`${sshd.user}@127.0.0.1: Permission denied (publickey).`);
    expect(r.stderr).toContain('fatal: Could not read from remote repository.');
    // the same log check as the MITM case does see this authentication attempt
    expect(await until(() => /authenticating user|publickey/.test(sshd.logs().slice(mark)))).toBe(true);
  });

  it('the passphrase key cannot be used without its passphrase, and is authorized with it', async () => {
    const noPass = await runProcess('ssh-keygen', ['-y', '-P', '', '-f', keys.locked], { env: clientEnv() });
    expect(noPass.code).not.toBe(0);
    expect(noPass.stderr).toContain('incorrect passphrase supplied to decrypt private key');

    const r = await git(['ls-remote', sshd.url], { env: sshEnv(keys.locked, kh.good) });
    expect(r.code).toBe(128);
    expect(r.stderr).toContain('Permission denied (publickey).');

    const askpass = path.join(base, 'askpass.sh');
    await writeFile(askpass, `#!/bin/sh\nprintf '%s\\n' ${shQuote(sshd.passphrase)}\n`, { mode: 0o755 });
    const ok = await git(['ls-remote', sshd.url], {
      env: clientEnv({
        GIT_SSH_COMMAND: sshCommand(keys.locked, kh.good),
        SSH_ASKPASS: askpass,
        SSH_ASKPASS_REQUIRE: 'force',
        DISPLAY: ':0',
      }),
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('refs/heads/main');
  });

  it('the forced command refuses anything but git on that one repository', async () => {
    const ls = await ssh(keys.deploy, kh.good, ['ls', '/']);
    expect(ls.code).toBe(1);
    expect(ls.stdout).toBe('');
    expect(ls.stderr).toContain(
      `This deploy key only allows git-upload-pack and git-receive-pack on ${repo}; refused: ls /`,
    );

    const other = await ssh(keys.deploy, kh.good, ["git-upload-pack '/etc'"]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('ERROR: Repository not found.');

    const shell = await ssh(keys.deploy, kh.good, []);
    expect(shell.code).toBe(1);
    expect(shell.stderr).toContain('This deploy key does not provide shell access.');

    // and through git, for another path on the same server
    const r = await git(['ls-remote', `ssh://${sshd.user}@127.0.0.1:${sshd.port}/etc`], {
      env: sshEnv(keys.deploy, kh.good),
    });
    expect(r.code).toBe(128);
    expect(r.stderr).toContain('ERROR: Repository not found.');
    expect(sshd.commands()).toContain('ls /');
  });

  it('pre-receive reject-once: first push loses a "cannot lock ref" race, the retry goes through', async () => {
    const env = sshEnv(keys.deploy, kh.good);
    const w = path.join(await scratch('ssh-race'), 'w');
    await gitOk(['clone', '--quiet', sshd.url, w], { env });
    await writeFile(path.join(w, 'race.txt'), 'race\n');
    await gitOk(['add', '.'], { cwd: w });
    await gitOk(['commit', '--quiet', '-m', 'race'], { cwd: w });
    const before = (await gitOk(['ls-remote', sshd.url, 'refs/heads/main'], { env })).split('\t')[0];

    await setPreReceiveHook(repo, 'reject-once');
    try {
      const first = await git(['push', 'origin', 'HEAD:main'], { cwd: w, env });
      expect(first.code).toBe(1);
      expect(first.stderr).toMatch(
        /remote: error: cannot lock ref 'refs\/heads\/main': Unable to create '.*\/refs\/heads\/main\.lock': File exists\./,
      );
      expect(first.stderr).toContain(' ! [remote rejected] HEAD -> main (failed to update ref)');
      // git drops the user name from URLs it prints
      expect(first.stderr).toContain(`error: failed to push some refs to '${sshd.url.replace(`${sshd.user}@`, '')}'`);
      expect((await gitOk(['ls-remote', sshd.url, 'refs/heads/main'], { env })).split('\t')[0]).toBe(before);

      const second = await git(['push', 'origin', 'HEAD:main'], { cwd: w, env });
      expect(second.code, second.stderr).toBe(0);
      expect((await gitOk(['ls-remote', sshd.url, 'refs/heads/main'], { env })).split('\t')[0]).toBe(await headOf(w));
    } finally {
      await setPreReceiveHook(repo, 'none');
    }
  });
});

describe('sshd stop()', () => {
  it('kills sshd and every per-connection child, ending open sessions', async () => {
    const repo = await createBareRepo(path.join(base, 'stop', 'deploy.git'));
    const sshd = await startSshd({ repoPath: repo });
    let stopped = false;
    try {
      const dir = await scratch('stop');
      const key = await writeKeyFile(path.join(dir, 'key'), sshd.deployKey);
      await writeFile(path.join(dir, 'kh'), `${sshd.knownHosts}\n`);
      // an upload-pack session that stays open: it has sent its advertisement and waits for "want"s
      const client = spawn(
        'ssh',
        [
          ...['-F', '/dev/null', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes'],
          ...['-o', `UserKnownHostsFile=${path.join(dir, 'kh')}`, '-p', String(sshd.port)],
          `${sshd.user}@127.0.0.1`,
          `git-upload-pack '${repo}'`,
        ],
        { env: clientEnv(), stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const closed = new Promise<number | null>((r) => client.on('close', (code) => r(code)));
      await new Promise<void>((resolve, reject) => {
        client.stdout.once('data', () => resolve());
        client.once('close', () => reject(new Error('ssh session ended early')));
      });
      const tree = processTree(sshd.pid);
      expect(tree.length).toBeGreaterThanOrEqual(4); // sshd, its session children, sh, git upload-pack, tee
      await sshd.stop();
      stopped = true;
      expect(tree.filter(isAlive)).toEqual([]);
      expect(await closed).toBe(255); // ssh: connection closed by remote
      client.stdin.destroy();
    } finally {
      if (!stopped) await sshd.stop();
    }
  });
});

describe('git smart HTTP', () => {
  const token = 'ghs_loopbackTestToken0123456789';
  let repo: string;
  let srv: GitHttpServer;
  const authEnv = (tok = token) =>
    clientEnv({
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraheader',
      GIT_CONFIG_VALUE_0: `AUTHORIZATION: ${basicAuthHeader(tok)}`,
    });

  beforeAll(async () => {
    repo = await createBareRepo(path.join(base, 'http', 'deploy.git'));
    srv = await startGitHttp({ repoPath: repo, token });
  });

  afterAll(async () => {
    await srv?.stop();
  });

  it('no Authorization: 401 with a Basic challenge, and git gives up asking for a username', async () => {
    const res = await fetch(`${srv.url}/info/refs?service=git-upload-pack`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="GitHub"');

    const r = await git(['ls-remote', srv.url]);
    expect(r.code).toBe(128);
    expect(r.stderr).toContain(
      `fatal: could not read Username for 'http://127.0.0.1:${srv.port}': terminal prompts disabled`,
    );
    const last = srv.requests().at(-1)!;
    expect(last.status).toBe(401);
    expect(last.authorization).toBeUndefined();
  });

  it('a wrong token: 403, and the message reaches git stderr', async () => {
    const r = await git(['ls-remote', srv.url], { env: authEnv('ghs_wrong') });
    expect(r.code).toBe(128);
    expect(r.stderr).toContain('remote: Permission to deploy.git denied to x-access-token.');
    expect(r.stderr).toContain('remote: Invalid username or token.');
    expect(r.stderr).toContain(`fatal: unable to access '${srv.url}/': The requested URL returned error: 403`);
    expect(srv.requests().at(-1)).toMatchObject({ status: 403, authorization: basicAuthHeader('ghs_wrong') });

    // the right token under another user name is refused too
    const wrongUser = await fetch(`${srv.url}/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Basic ${Buffer.from(`someone:${token}`).toString('base64')}` },
    });
    expect(wrongUser.status).toBe(403);
  });

  it('push and clone with the token; upload-pack bytes are counted; gzip requests are inflated', async () => {
    const env = authEnv();
    const w = await workTree('http-src', 3);
    const push = await git(['push', srv.url, 'HEAD:refs/heads/main'], { cwd: w, env });
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toContain('* [new branch]      HEAD -> main');

    srv.resetCounters();
    const c = path.join(await scratch('http-clone'), 'w');
    await gitOk(['clone', '--quiet', srv.url, c], { env });
    expect(await headOf(c)).toBe(await headOf(w));
    const afterClone = srv.uploadPackBytes();
    expect(afterClone).toBeGreaterThan(200);
    const reqs = srv.requests();
    expect(reqs.every((q) => q.authorization === basicAuthHeader(token) && q.status === 200)).toBe(true);
    expect(reqs.map((q) => `${q.method} ${q.path.replace(/\?.*/, '')}`)).toEqual([
      'GET /deploy.git/info/refs',
      'POST /deploy.git/git-upload-pack', // ls-refs (protocol v2)
      'POST /deploy.git/git-upload-pack', // fetch
    ]);
    expect(reqs[0]!.gitProtocol).toBe('version=2');

    // 40 local commits the server lacks, dated after everything else so that negotiation offers them
    // first: the second round carries 32 "have" lines (>1 KiB), a request body git sends gzipped
    const later = Math.floor(Date.now() / 1000) + 86_400;
    for (let i = 0; i < 40; i++) {
      const date = `${later + i} +0000`;
      await gitOk(['commit', '--quiet', '--allow-empty', '-m', `local ${i}`], {
        cwd: c,
        env: clientEnv({ GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }),
      });
    }
    await writeFile(path.join(w, 'more.txt'), 'more\n');
    await gitOk(['add', '.'], { cwd: w });
    await gitOk(['commit', '--quiet', '-m', 'more'], { cwd: w });
    await gitOk(['push', srv.url, 'HEAD:refs/heads/main'], { cwd: w, env });
    await gitOk(['fetch', 'origin'], { cwd: c, env });
    expect(srv.uploadPackBytes()).toBeGreaterThan(afterClone);
    expect((await gitOk(['rev-parse', 'origin/main'], { cwd: c })).trim()).toBe(await headOf(w));
    const gz = srv.requests().filter((q) => q.contentEncoding === 'gzip');
    expect(gz.length).toBeGreaterThan(0);
    expect(gz.every((q) => q.status === 200 && q.path === '/deploy.git/git-upload-pack')).toBe(true);
  });

  it('the token also works as URL credentials (answered through the 401 challenge)', async () => {
    const u = new URL(srv.url);
    u.username = 'x-access-token';
    u.password = token;
    srv.resetCounters();
    const r = await git(['ls-remote', u.toString()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\trefs\/heads\/main$/m);
    expect(srv.requests().map((q) => q.status)).toEqual(expect.arrayContaining([401, 200]));
  });

  it('other paths on the server are not found', async () => {
    const res = await fetch(`http://127.0.0.1:${srv.port}/other.git/info/refs?service=git-upload-pack`, {
      headers: { authorization: basicAuthHeader(token) },
    });
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('Repository not found.\n');
  });

  it('pre-receive reject-always: refused like a protected branch, repository unchanged byte for byte', async () => {
    const env = authEnv();
    const w = await workTree('http-protected', 1);
    await setPreReceiveHook(repo, 'reject-always');
    try {
      const before = await snapshotRepo(repo);
      const r = await git(['push', '--force', srv.url, 'HEAD:refs/heads/main'], { cwd: w, env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('remote: error: GH006: Protected branch update failed for refs/heads/main.');
      expect(r.stderr).toContain('remote: error: Changes must be made through a pull request.');
      expect(r.stderr).toContain(' ! [remote rejected] HEAD -> main (pre-receive hook declined)');
      expect(await snapshotRepo(repo)).toBe(before);

      // a fetch does not change it either
      await gitOk(['ls-remote', srv.url], { env });
      expect(await snapshotRepo(repo)).toBe(before);
    } finally {
      await setPreReceiveHook(repo, 'none');
    }
    // ... while an accepted push does
    const before = await snapshotRepo(repo);
    await gitOk(['push', '--force', srv.url, 'HEAD:refs/heads/main'], { cwd: w, env });
    expect(await snapshotRepo(repo)).not.toBe(before);
  });

  it('pre-receive reject-once over HTTP: rejected, then accepted', async () => {
    const env = authEnv();
    const w = await workTree('http-race', 2);
    await setPreReceiveHook(repo, 'reject-once');
    try {
      const first = await git(['push', '--force', srv.url, 'HEAD:refs/heads/main'], { cwd: w, env });
      expect(first.code).toBe(1);
      expect(first.stderr).toContain("remote: error: cannot lock ref 'refs/heads/main'");
      expect(first.stderr).toContain('(failed to update ref)');
      const second = await git(['push', '--force', srv.url, 'HEAD:refs/heads/main'], { cwd: w, env });
      expect(second.code, second.stderr).toBe(0);
      const third = await git(['push', '--force', srv.url, 'HEAD:refs/heads/other'], { cwd: w, env });
      expect(third.code, third.stderr).toBe(0);

      // armed again, it fires again; switching the hook off releases the lock it left
      await setPreReceiveHook(repo, 'reject-once');
      await gitOk(['commit', '--quiet', '--allow-empty', '-m', 'again'], { cwd: w });
      const fourth = await git(['push', srv.url, 'HEAD:refs/heads/main'], { cwd: w, env });
      expect(fourth.code).toBe(1);
      expect(fourth.stderr).toContain('(failed to update ref)');
      await setPreReceiveHook(repo, 'none');
      const fifth = await git(['push', srv.url, 'HEAD:refs/heads/main'], { cwd: w, env });
      expect(fifth.code, fifth.stderr).toBe(0);
      expect(existsSync(path.join(repo, 'refs', 'heads', 'main.lock'))).toBe(false);
    } finally {
      await setPreReceiveHook(repo, 'none');
    }
  });
});
