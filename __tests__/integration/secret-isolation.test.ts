/**
 * The deploy secret is out of reach of everything the build runs, not only out of the log. A build
 * step (`build-command`) reads all a same-user process can: its own environment, the environment
 * block of every ancestor up to init (the action's among them), and it leaves a detached reader
 * behind that waits for the deploy to read git's environment (where the token travels) and the key
 * file in RUNNER_TEMP. Through the bundle, for pushes over SSH and HTTPS, a same-repository pull
 * request and `pull_request_target`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicCredential } from '../../src/deploy/credentials/secret-shape.js';
import { createBareRepo } from '../support/bare-repo.js';
import { sshDeployInputs } from '../support/deploy-scenario.js';
import { useFixtureScope } from '../support/fixture-action.js';
import { startGitHttp, type GitHttpServer } from '../support/git-http.js';
import { startGithubApi, type GithubApi } from '../support/github-api.js';
import { FIXTURES, type RunOptions, type RunResult } from '../support/harness.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const TOKEN = `github_pat_${randomBytes(24).toString('hex')}`;
/** `github-token`, for the deployment records: a second secret input the build must not see either. */
const API_TOKEN = `ghs_${randomBytes(18).toString('hex')}`;

/**
 * The build step. It dumps what it can read into `$1`, starts the lingering reader, then builds.
 * The reader is detached (its own session, re-parented to init once the build's shell is gone) and
 * polls for 20 s: long enough to see the deploy that follows the build.
 */
const SPY = `#!/bin/sh
set -u
out="$1"
pid=$$
while [ "$pid" -gt 1 ]; do
  cat "/proc/$pid/environ" > "$out/env-$pid" 2>/dev/null || true
  pid=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f2)
done
setsid sh -c '
  out="$1"; i=0
  while [ "$i" -lt 200 ]; do
    for p in /proc/[0-9]*; do
      case "$(cat "$p/comm" 2>/dev/null)" in
        git|ssh|git-remote-http*) cat "$p/environ" >> "$out/lingering-git" 2>/dev/null ;;
      esac
    done
    cat "$RUNNER_TEMP"/mirage-deploy-credentials-*/key >> "$out/lingering-key" 2>/dev/null
    date +%s > "$out/lingering-alive"
    sleep 0.1
    i=$((i + 1))
  done' lingering "$out" < /dev/null > /dev/null 2>&1 &
echo "$!" > "$out/lingering-pid"
exec make build
`;

const fixture = useFixtureScope('secret-isolation-');
let sshd: SshdServer;
let http: GitHttpServer;
let api: GithubApi;

beforeAll(async () => {
  const repo = await createBareRepo(join(fixture.base, 'srv', 'deployment.git'));
  [sshd, http, api] = await Promise.all([
    startSshd({ repoPath: repo }),
    startGitHttp({ repoPath: repo, token: TOKEN }),
    startGithubApi(),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([sshd?.stop(), http?.stop(), api?.stop()]);
});

/** Every form of the secrets a reader could find: the key, each line of it, the token, its header form. */
function secrets(): string[] {
  const keyLines = [sshd.deployKey, ...sshd.deployKey.split('\n')]
    .map((line) => line.trim())
    .filter((line) => line.length >= 8 && !/^-----(BEGIN|END) /.test(line));
  return [...keyLines, TOKEN, basicCredential(TOKEN), API_TOKEN];
}

interface Spied {
  readonly result: RunResult;
  /** Every file the build step and its reader wrote, by name. */
  readonly dumps: Map<string, Buffer>;
  readonly lingeringPid: number;
}

async function spiedRun(name: string, inputs: Record<string, string>, options: Partial<RunOptions>): Promise<Spied> {
  const out = join(fixture.base, `${name}-dumps`);
  mkdirSync(out, { recursive: true });
  const result = await fixture.runExample({
    workspace: name,
    prepare: (dir) => writeFileSync(join(dir, 'spy.sh'), SPY, { mode: 0o755 }),
    inputs: { target: 'unix', cache: 'false', 'build-command': `sh ./spy.sh ${out}`, ...inputs },
    ...options,
  });
  const dumps = new Map(readdirSync(out).map((f) => [f, readFileSync(join(out, f))] as const));
  return { result, dumps, lingeringPid: Number(dumps.get('lingering-pid')?.toString().trim()) };
}

/** Running, or stopped: a zombie waiting for whoever adopted it to reap it runs nothing. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function expectNothingSecret(spied: Spied): void {
  const envDumps = [...spied.dumps.keys()].filter((f) => f.startsWith('env-'));
  // The build step's own environment, the action's (node dist/index.js) and the test runner's at least.
  expect(envDumps.length, [...spied.dumps.keys()].join(' ')).toBeGreaterThanOrEqual(3);
  for (const [file, bytes] of spied.dumps) {
    for (const secret of secrets()) {
      expect(bytes.includes(Buffer.from(secret)), `${file} holds a secret`).toBe(false);
    }
  }
}

function expectReaderKilled(spied: Spied): void {
  expect(Number.isInteger(spied.lingeringPid) && spied.lingeringPid > 1).toBe(true);
  expect(spied.result.log).toMatch(
    new RegExp(`killed process ${spied.lingeringPid} \\(.*\\): the build left it running`),
  );
  expect(alive(spied.lingeringPid)).toBe(false);
}

describe('the deploy secret is unreachable from the build', () => {
  it('push over SSH: no dump holds the key, and the reader left behind is killed before the deploy', async () => {
    const spied = await spiedRun(
      'push-ssh',
      { deploy: 'true', ...sshDeployInputs(sshd), 'github-token': API_TOKEN },
      { event: 'push-default-branch', env: { GITHUB_API_URL: api.url } },
    );
    expect(spied.result.main.exitCode, spied.result.log).toBe(0);
    expect(spied.result.outputs.deployed).toBe('true');
    // The token was in use: the deployment records were written with it.
    expect(api.requests.length, spied.result.log).toBeGreaterThan(0);
    expectNothingSecret(spied);
    expectReaderKilled(spied);
    // The action's own block was dumped, and its deploy-key variable is blanked there, not missing.
    const actionDump = [...spied.dumps.values()].find((b) => b.includes(Buffer.from('\0INPUT_DEPLOY-KEY=')));
    expect(actionDump, 'no dump of the action process').toBeDefined();
  }, 300_000);

  it('push over HTTPS: no dump holds the token or its header, and the reader is gone before git runs', async () => {
    const spied = await spiedRun(
      'push-https',
      { deploy: 'true', 'deploy-repository': http.url, 'deploy-token': TOKEN },
      { event: 'push-default-branch' },
    );
    expect(spied.result.main.exitCode, spied.result.log).toBe(0);
    expect(spied.result.outputs.deployed).toBe('true');
    expectNothingSecret(spied);
    // Other git processes on the machine (other tests') may be dumped too: what matters is that
    // none of the dumps holds the token, which git's environment would have held.
    expectReaderKilled(spied);
  }, 300_000);

  it('same-repository pull request with the key passed: nothing deployed, nothing readable', async () => {
    const spied = await spiedRun(
      'pr-same-repo',
      { deploy: 'true', ...sshDeployInputs(sshd) },
      { event: 'pull_request-same-repo' },
    );
    expect(spied.result.main.exitCode, spied.result.log).toBe(0);
    expect(spied.result.outputs.deployed).toBe('false');
    expectNothingSecret(spied);
    process.kill(spied.lingeringPid, 'SIGKILL');
  }, 300_000);

  it('pull_request_target with the key passed (deploy off): nothing readable', async () => {
    const payload = JSON.parse(readFileSync(join(FIXTURES, 'events/pull_request-fork.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const spied = await spiedRun(
      'pr-target',
      { deploy: 'false', ...sshDeployInputs(sshd) },
      { event: { name: 'pull_request_target', payload, ref: 'refs/heads/main' } },
    );
    expect(spied.result.main.exitCode, spied.result.log).toBe(0);
    expectNothingSecret(spied);
    process.kill(spied.lingeringPid, 'SIGKILL');
  }, 300_000);
});
