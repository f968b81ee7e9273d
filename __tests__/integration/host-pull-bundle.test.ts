/**
 * End to end: the bundle builds the fixture unikernel for `unix` (a real executable, here one that
 * stays up and answers on a control fifo: __fixtures__/service) and deploys it over SSH; the host
 * updater pulls it with a read-only key, starts it in the background, and its health check asks
 * the live process. Then: nothing new, a second deploy swapped in by one of two updaters started at
 * once, a corrupted image refused, a broken build rolled back.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo, runProcess, serverGitEnv, shQuote } from '../support/bare-repo.js';
import { filesAt, sshDeployInputs } from '../support/deploy-scenario.js';
import { useFixtureScope } from '../support/fixture-action.js';
import { PROJECT_ROOT, type RunResult } from '../support/harness.js';
import { runPull, type PullRun } from '../support/host-pull.js';
import { startSshd, writeKeyFile, type SshdServer } from '../support/sshd.js';

const V1 = '1111111111111111111111111111111111111111';
const V2 = '2222222222222222222222222222222222222222';
const CORRUPT = '3333333333333333333333333333333333333333';
const BROKEN = '4444444444444444444444444444444444444444';
const SERVICE = readFileSync(join(PROJECT_ROOT, '__fixtures__/service/unikernel.ml'), 'utf8');

const fixture = useFixtureScope('host-pull-bundle-');
let repo: string;
let sshd: SshdServer;
let host: { home: string; key: string; knownHosts: string; state: string; run: string };

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'mirage-www-deployment.git'));
  sshd = await startSshd({ repoPath: repo });
  const dir = join(fixture.base, 'host');
  mkdirSync(join(dir, 'home'), { recursive: true });
  mkdirSync(join(dir, 'run'), { recursive: true });
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${sshd.knownHosts}\n`);
  host = {
    home: join(dir, 'home'),
    key: await writeKeyFile(join(dir, 'read-only-key'), sshd.readOnlyKey),
    knownHosts,
    state: join(dir, 'state'),
    run: join(dir, 'run'),
  };
}, 120_000);

afterAll(async () => {
  // the unikernel this file started, and only if it still is that image
  const pid = host && readPid();
  if (pid !== undefined && exeOf(pid)?.startsWith(host.state)) process.kill(pid, 'SIGKILL');
  await sshd?.stop();
});

/** Deploys `version` of the service unikernel as commit `sha`, through the bundle. */
async function deploy(sha: string, version: string, o: { broken?: boolean } = {}): Promise<RunResult> {
  const service = SERVICE.replace('let version = "v1"', `let version = "${version}"`).replace(
    'let broken = false',
    `let broken = ${o.broken ? 'true' : 'false'}`,
  );
  const result = await fixture.runExample({
    workspace: 'workspace',
    prepare: (dir) => writeFileSync(join(dir, 'unikernel.ml'), service),
    inputs: {
      target: 'unix',
      cache: 'false',
      deploy: 'true',
      'boot-args': `--greeting=${version}`,
      // what dies on the host must reach it: the runner's boot test would stop it first
      ...(o.broken ? { 'boot-test': 'off' } : {}),
      ...sshDeployInputs(sshd),
    },
    sha,
  });
  expect(result.main.exitCode, result.log).toBe(0);
  return result;
}

/** Stops the running unikernel (bounded: an orphan may linger as a zombie), starts the new one. */
const restart = () => {
  const run = shQuote(host.run);
  return [
    `run=${run}`,
    'if [ -f "$run/pid" ]; then',
    '  old=$(cat "$run/pid"); kill "$old" 2>/dev/null || true',
    '  i=0; while [ "$i" -lt 50 ] && kill -0 "$old" 2>/dev/null && ! grep -q "^State:.*Z" "/proc/$old/status" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done',
    'fi',
    '[ -p "$run/control" ] || mkfifo "$run/control"',
    '"$MIRAGE_IMAGE" $MIRAGE_ARGS --control="$run/control" >>"$run/unikernel.log" 2>&1 &',
    'echo "$!" >"$run/pid"',
  ].join('\n');
};

/** Asks the live process: a request on its fifo, answered in its log. */
const health = () => {
  const run = shQuote(host.run);
  return [
    `run=${run}`,
    'pid=$(cat "$run/pid") && kill -0 "$pid" || exit 1',
    'grep -q "^State:.*Z" "/proc/$pid/status" && exit 1',
    'nonce="ping-$$-$(date +%s%N)"',
    // opening a fifo waits for its reader: a process that is gone never opens it
    `printf '%s\\n' "$nonce" | timeout 2 sh -c 'cat >"$1"' sh "$run/control" || exit 1`,
    'i=0; while [ "$i" -lt 30 ]; do grep -q "$nonce: " "$run/unikernel.log" && exit 0; sleep 0.1; i=$((i + 1)); done',
    'exit 1',
  ].join('\n');
};

const pull = (): Promise<PullRun> =>
  runPull(
    [
      '--repository',
      sshd.url,
      '--directory',
      'unix',
      '--state',
      host.state,
      '--ssh-key',
      host.key,
      '--known-hosts',
      host.knownHosts,
      '--restart',
      restart(),
      '--health',
      health(),
      '--health-timeout',
      '10',
    ],
    { home: host.home },
  );

function readPid(): number | undefined {
  const file = join(host.run, 'pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined;
}

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** What the running unikernel answers now (through the same fifo the health check uses). */
async function ask(): Promise<string> {
  const r = await runProcess('sh', ['-c', health()]);
  expect(r.code, r.stderr).toBe(0);
  const log = readFileSync(join(host.run, 'unikernel.log'), 'utf8');
  const answers = [...log.matchAll(/^\[INFO\] \[application\] ping-[^:]+: (\S+)$/gm)];
  return answers.at(-1)?.[1] ?? '';
}

describe('a push ends in a running unikernel', () => {
  it('the first deploy: the updater pulls it, starts it in the background, the health check asks it', async () => {
    await deploy(V1, 'v1');
    expect(await filesAt(repo, 'main', `unix/${V1}`)).toContain(`unix/${V1}/SHA256SUMS`);
    const r = await pull();
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`updated: unix/${V1} (hello) runs`);
    const pid = readPid()!;
    expect(alive(pid)).toBe(true);
    expect(exeOf(pid)).toBe(join(host.state, 'images', V1, 'hello'));
    expect(readFileSync(join(host.run, 'unikernel.log'), 'utf8')).toContain(
      `[INFO] [application] hello v1, boot arguments: --greeting=v1 --control=${host.run}/control`,
    );
    expect(await ask()).toBe('v1');
  }, 600_000);

  it('a run with nothing new does nothing: the same process keeps running', async () => {
    const pid = readPid();
    const r = await pull();
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`up to date: unix/${V1} (hello) runs`);
    expect(readPid()).toBe(pid);
  });

  it('a second deploy: of two updaters started at once one swaps it in, the other exits 4; the old process is gone', async () => {
    await deploy(V2, 'v2');
    const old = readPid()!;
    const [a, b] = await Promise.all([pull(), pull()]);
    expect([a.code, b.code].sort(), `${a.output}\n${b.output}`).toEqual([0, 4]);
    const winner = a.code === 0 ? a : b;
    expect(winner.stdout).toContain(`swapped in unix/${V2} (hello, sha256 `);
    expect((a.code === 4 ? a : b).stderr).toContain('another run holds');
    expect(alive(old)).toBe(false);
    const pid = readPid()!;
    expect(exeOf(pid)).toBe(join(host.state, 'images', V2, 'hello'));
    expect(await ask()).toBe('v2');
  }, 600_000);

  it('a corrupted image (sha256 mismatch with SHA256SUMS) is refused with exit 3; v2 keeps running', async () => {
    // what a damaged upload would look like: v1's folder as a new commit (an image other than the
    // running one, so the updater downloads it), with one byte of the image flipped
    const work = join(fixture.base, 'corrupt');
    const git = (args: string[]) =>
      execFileSync('git', args, {
        cwd: work,
        env: serverGitEnv({
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@t',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@t',
        }),
      });
    execFileSync('git', ['clone', '--quiet', repo, work], { env: serverGitEnv() });
    execFileSync('cp', ['-r', join(work, 'unix', V1), join(work, 'unix', CORRUPT)]);
    const image = join(work, 'unix', CORRUPT, 'hello.bz2');
    const bytes = readFileSync(image);
    const at = bytes.length >> 1;
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    writeFileSync(image, bytes);
    writeFileSync(join(work, 'unix', 'latest'), `${CORRUPT}\n`);
    git(['add', '-A']);
    git(['commit', '--quiet', '-m', 'a damaged upload']);
    git(['push', '--quiet', 'origin', 'HEAD:main']);

    const pid = readPid();
    const r = await pull();
    expect(r.code, r.output).toBe(3);
    expect(r.stderr).toMatch(
      new RegExp(
        `unix/${CORRUPT}/hello\\.bz2: sha256 [0-9a-f]{64}, SHA256SUMS says [0-9a-f]{64}: refusing the image \\(nothing changed\\)`,
      ),
    );
    expect(readPid()).toBe(pid);
    expect(await ask()).toBe('v2');
  }, 120_000);

  it('a build that dies at once: the health check fails, v2 is restarted (exit 1), and not retried', async () => {
    await deploy(BROKEN, 'v3', { broken: true });
    const r = await pull();
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain(
      `unix/${BROKEN} (hello): the health check did not pass within 10s; rolled back: ${V2} (hello) runs again`,
    );
    expect(readFileSync(join(host.run, 'unikernel.log'), 'utf8')).toContain('[ERROR] [application] v3 is broken');
    const pid = readPid()!;
    expect(exeOf(pid)).toBe(join(host.state, 'images', V2, 'hello'));
    expect(await ask()).toBe('v2');
    const again = await pull();
    expect(again.code, again.output).toBe(1);
    expect(again.stderr).toContain('failed before and is not tried again');
    expect(readPid()).toBe(pid);
  }, 600_000);
});
