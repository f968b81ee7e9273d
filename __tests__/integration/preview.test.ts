/**
 * The pull-request preview through the bundle: a push deploys `xen/latest` over sshd; then pull
 * request builds (real fixture builds, sandboxed) compare with it and keep ONE comment up to date on
 * a loopback stand-in of the REST API. The deployment repository is read with the read-only key or
 * anonymously, never with the write key; names from a hostile lock file are shown inert; a fork's
 * run only leaves its preview file, which a `workflow_run` job comments with `pr-comment-from`.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo, snapshotRepo } from '../support/bare-repo.js';
import { showFile, sshDeployInputs } from '../support/deploy-scenario.js';
import { useFixtureScope } from '../support/fixture-action.js';
import { startGitHttp, type GitHttpServer } from '../support/git-http.js';
import { startGithubApi, type GithubApi } from '../support/github-api.js';
import { FIXTURES, type RunResult } from '../support/harness.js';
import { startSshd, writeKeyFile, type SshdServer } from '../support/sshd.js';

const TOKEN = 'ghs_pullRequestsWriteToken0123456789abcdef';
const READ_ONLY = 'ghs_forkReadOnlyToken0123456789abcdefghij';
/** The pull request fixtures' head commit, and another pull request's. */
const HEAD = '1111111111111111111111111111111111111111';
const OTHER_HEAD = '3333333333333333333333333333333333333333';
const MARKER = '<!-- mirage-deploy:preview xen/hello -->';

const fixture = useFixtureScope('preview-');
let repo: string;
let sshd: SshdServer;
let http: GitHttpServer;
let api: GithubApi;
let seedSize: number;
let forkPreview: string;

/** A build that grows the image and adds hostile package names to the lock, as a pull request's code can. */
const HOSTILE_BUILD = `set -eu
make build
head -c 4096 /dev/zero >> dist/hello.xen
lock=mirage/hello-xen.opam.locked
sed 's/^depends: \\[$/depends: [\\n  "@someone" {= "1.0"}\\n  "[click](https:\\/\\/evil.example)" {= "2.0"}/' "$lock" > "$lock.new"
mv "$lock.new" "$lock"
`;
const GROW_BUILD = 'set -eu\nmake build\nhead -c 8192 /dev/zero >> dist/hello.xen\n';

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
  http = await startGitHttp({ repoPath: repo, token: 'unused-write-token', publicRead: true });
  api = await startGithubApi({
    readOnlyTokens: [READ_ONLY],
    pullRequests: new Map([
      [42, HEAD],
      [7, OTHER_HEAD],
      [43, HEAD],
    ]),
    listBarrier: { issue: 43, count: 2 },
  });
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
  await http?.stop();
  await api?.stop();
});

function pullRequestBuild(
  script: string,
  inputs: Record<string, string>,
  event: 'pull_request-same-repo' | 'pull_request-fork' = 'pull_request-same-repo',
  env: Record<string, string> = { GITHUB_API_URL: api.url },
): Promise<RunResult> {
  return fixture.runExample({
    workspace: 'pr-workspace',
    event,
    env,
    prepare: (dir) => writeFileSync(join(dir, 'preview-build.sh'), script),
    inputs: {
      target: 'xen',
      cache: 'false',
      'build-command': 'sh preview-build.sh',
      'pr-comment': 'true',
      'github-token': TOKEN,
      ...inputs,
    },
  });
}

/** SHA256 fingerprint of a private key's public half, as sshd logs an accepted key. */
async function fingerprintOf(key: string, name: string): Promise<string> {
  const file = await writeKeyFile(join(fixture.base, name), key);
  return execFileSync('ssh-keygen', ['-lf', file], { encoding: 'utf8' }).split(' ')[1] ?? '';
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const percent = (before: number, after: number) => Math.round(((after - before) / before) * 1000) / 10;

describe('pull-request preview', () => {
  it('seeds xen/latest with a deploy from a push', async () => {
    const seed = await fixture.runExample({
      workspace: 'seed-workspace',
      inputs: { target: 'xen', cache: 'false', deploy: 'true', ...sshDeployInputs(sshd) },
    });
    expect(seed.main.exitCode, seed.log).toBe(0);
    seedSize = Number(seed.outputs['image-size']);
    expect(await showFile(repo, 'main', 'xen/latest')).toMatch(/^[0-9a-f]{40}\n$/);
  }, 300_000);

  it('the first build comments once: size change in %, the changed packages inert; read with the read-only key, never the write key', async () => {
    const writeFingerprint = await fingerprintOf(sshd.deployKey, 'write.key');
    const readFingerprint = await fingerprintOf(sshd.readOnlyKey, 'read.key');
    const before = await snapshotRepo(repo);
    const logStart = sshd.logs().length;
    // A misconfigured job that holds the write key too: the preview must not use it.
    const run = await pullRequestBuild(HOSTILE_BUILD, { ...sshDeployInputs(sshd), 'preview-key': sshd.readOnlyKey });
    expect(run.main.exitCode, run.log).toBe(0);
    const sshdLog = sshd.logs().slice(logStart);
    expect(sshdLog).toContain(readFingerprint);
    expect(sshdLog).not.toContain(writeFingerprint);
    expect(await snapshotRepo(repo)).toBe(before);
    // The read-only key is masked, and no file of it is left behind.
    expect(run.log).not.toContain(sshd.readOnlyKey.split('\n')[1]);
    const keyLine = sshd.readOnlyKey.split('\n')[1] ?? '';
    expect(filesUnder(run.dirs.runnerTemp).filter((f) => readFileSync(f, 'latin1').includes(keyLine))).toEqual([]);

    expect(api.comments).toHaveLength(1);
    const [comment] = api.comments;
    const body = comment?.body ?? '';
    expect(comment?.issue).toBe(42);
    expect(body.startsWith(`${MARKER}\n`)).toBe(true);
    const after = Number(run.outputs['image-size']);
    expect(after).toBe(seedSize + 4096);
    expect(body).toContain(`${seedSize} → ${after} bytes, +4096 bytes (**+${percent(seedSize, after)} %**)`);
    expect(body).toContain('| added | `＠someone` | `1.0` |');
    expect(body).toContain('| added | `[click](https://evil.example)` | `2.0` |');
    // Outside code spans nothing is a mention or a link.
    const rendered = body.replace(/`[^`\n]*`/g, '');
    expect(rendered).not.toMatch(/@|\]\(/);
    expect(body).not.toContain('@someone');
    expect(run.summary).toContain('| added | `＠someone` | `1.0` |');
    expect(run.outputs['preview-comment']).toBe(comment?.html_url);
    const file = JSON.parse(readFileSync(run.outputs.preview ?? '', 'utf8')) as {
      pullRequest: number;
      headSha: string;
    };
    expect(file).toMatchObject({ pullRequest: 42, headSha: HEAD });
  }, 300_000);

  it('the next push updates that comment, read anonymously over HTTPS with no deploy secret at all', async () => {
    api.requests.length = 0;
    const run = await pullRequestBuild(GROW_BUILD, { 'deploy-repository': http.url });
    expect(run.main.exitCode, run.log).toBe(0);
    expect(http.requests().filter((r) => r.authorization !== undefined)).toEqual([]);
    expect(api.comments).toHaveLength(1);
    expect(api.requests.map((r) => r.method)).toEqual(['GET', 'PATCH']);
    const body = api.comments[0]?.body ?? '';
    const after = Number(run.outputs['image-size']);
    expect(body.startsWith(`${MARKER}\n`)).toBe(true);
    expect(body).toContain(`+8192 bytes (**+${percent(seedSize, after)} %**)`);
    expect(body).toContain('Packages: unchanged.');
    expect(body).not.toContain('someone');
  }, 300_000);

  it('a hostile pull request build reaches neither the read-only key nor the token; the comment is still kept', async () => {
    const out = join(fixture.base, 'hostile-pr', 'hello', 'hostile-dumps');
    const run = await fixture.runExample({
      workspace: 'hostile-pr',
      event: 'pull_request-same-repo',
      env: { GITHUB_API_URL: api.url },
      prepare: (dir) => copyFileSync(join(FIXTURES, 'hostile/hostile-build.sh'), join(dir, 'hostile-build.sh')),
      inputs: {
        target: 'xen',
        cache: 'false',
        'build-command': `sh ./hostile-build.sh ${out} ${fixture.base}`,
        'pr-comment': 'true',
        'github-token': TOKEN,
        'deploy-repository': sshd.url,
        'known-hosts': sshd.knownHosts,
        'preview-key': sshd.readOnlyKey,
      },
    });
    expect(run.main.exitCode, run.log).toBe(0);
    expect(run.outputs.sandbox).toBe('bubblewrap');
    // The build ran, and its readers polled while it did.
    expect(readFileSync(join(out, 'reader-heartbeat')).length).toBeGreaterThan(0);
    const secrets = [TOKEN, ...sshd.readOnlyKey.split('\n')]
      .map((line) => line.trim())
      .filter((line) => line.length >= 8 && !/^-----(BEGIN|END) /.test(line));
    for (const file of [...filesUnder(out), ...filesUnder(join(fixture.base, 'hostile-pr'))]) {
      const bytes = readFileSync(file);
      for (const secret of secrets) expect(bytes.includes(Buffer.from(secret)), `${file} holds a secret`).toBe(false);
    }
    expect(api.comments.filter((c) => c.issue === 42)).toHaveLength(1);
    expect(run.outputs['preview-comment']).toBe(api.comments[0]?.html_url);
  }, 300_000);

  it("a fork's run comments nothing and leaves its preview file", async () => {
    api.requests.length = 0;
    const run = await pullRequestBuild(
      GROW_BUILD,
      { 'deploy-repository': http.url, 'github-token': READ_ONLY },
      'pull_request-fork',
    );
    expect(run.main.exitCode, run.log).toBe(0);
    expect(api.requests).toEqual([]);
    expect(run.log).toMatch(/a pull request from a fork gets a read-only token/);
    forkPreview = run.outputs.preview ?? '';
    expect(JSON.parse(readFileSync(forkPreview, 'utf8'))).toMatchObject({ pullRequest: 42, headSha: HEAD });
  }, 300_000);

  it('an API that never answers gives a warning after the deadline, and the build succeeds', async () => {
    const sockets: Socket[] = [];
    const stall: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
    const port = (stall.address() as { port: number }).port;
    try {
      const run = await pullRequestBuild(GROW_BUILD, { 'deploy-repository': http.url }, 'pull_request-same-repo', {
        GITHUB_API_URL: `http://127.0.0.1:${port}`,
        MIRAGE_DEPLOY_TEST_DEADLINE_MS: '3000',
      });
      expect(run.main.exitCode, run.log).toBe(0);
      expect(sockets.length).toBeGreaterThan(0);
      expect(run.log).toMatch(
        /::warning::input `github-token`: listing the comments of pull request #42 failed \(no answer: .*\); the API did not answer within 3 s; the build itself is not affected/,
      );
      expect(run.outputs['preview-comment'] ?? '').toBe('');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => stall.close(() => resolve()));
    }
  }, 300_000);
});

/** The `workflow_run` job: a fresh workspace holding only the downloaded artifact. */
function commentJob(preview: string, headSha = HEAD, name = 'comment-workspace'): Promise<RunResult> {
  const workspace = join(fixture.base, name);
  mkdirSync(workspace, { recursive: true });
  writeFileSync(join(workspace, 'preview.json'), preview);
  return fixture.run({
    workspace,
    event: {
      name: 'workflow_run',
      payload: {
        workflow_run: { head_sha: headSha, event: 'pull_request' },
        repository: { full_name: 'mirage/mirage-www' },
      },
    },
    env: { GITHUB_API_URL: api.url },
    inputs: { 'pr-comment-from': 'preview.json', 'github-token': TOKEN },
    timeoutMs: 60_000,
  });
}

describe('pr-comment-from (workflow_run after a fork)', () => {
  it('comments the preview file, updating the same comment, building nothing', async () => {
    api.requests.length = 0;
    const run = await commentJob(readFileSync(forkPreview, 'utf8'));
    expect(run.main.exitCode, run.log).toBe(0);
    expect(run.log).not.toMatch(/\[command\].*(opam|make)/);
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /repos/mirage/mirage-www/pulls/42',
      'GET /repos/mirage/mirage-www/issues/42/comments',
      `PATCH /repos/mirage/mirage-www/issues/comments/${api.comments[0]?.id}`,
    ]);
    expect(api.comments).toHaveLength(1);
  }, 120_000);

  it('a preview file naming another pull request is not posted there', async () => {
    api.requests.length = 0;
    const forged = { ...JSON.parse(readFileSync(forkPreview, 'utf8')), pullRequest: 7 } as Record<string, unknown>;
    const run = await commentJob(JSON.stringify(forged));
    expect(run.main.exitCode, run.log).toBe(0);
    expect(run.log).toMatch(/pull request #7's head is 3{40}, not 1{40}/);
    expect(api.requests.map((r) => r.method)).toEqual(['GET']);
    expect(api.comments.filter((c) => c.issue === 7)).toEqual([]);
  }, 120_000);

  it('a preview file from another commit than the workflow run built is refused', async () => {
    api.requests.length = 0;
    const run = await commentJob(readFileSync(forkPreview, 'utf8'), OTHER_HEAD);
    expect(run.main.exitCode).toBe(1);
    expect(run.errors.join('\n')).toMatch(
      /input `pr-comment-from`: .* says it was built from 1{40}, but the workflow run built 3{40}/,
    );
    expect(api.requests).toEqual([]);
  }, 120_000);

  it('two jobs listing at the same moment both create, and settle on one comment', async () => {
    api.requests.length = 0;
    const file = JSON.stringify({ ...JSON.parse(readFileSync(forkPreview, 'utf8')), pullRequest: 43 });
    const runs = await Promise.all([commentJob(file, HEAD, 'comment-a'), commentJob(file, HEAD, 'comment-b')]);
    for (const run of runs) expect(run.main.exitCode, run.log).toBe(0);
    const created = api.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/issues/43/comments'));
    expect(created).toHaveLength(2);
    const kept = api.comments.filter((c) => c.issue === 43);
    expect(kept).toHaveLength(1);
    expect(kept[0]?.body.startsWith(`${MARKER}\n`)).toBe(true);
    expect(runs.map((r) => r.outputs['preview-comment'])).toEqual([kept[0]?.html_url, kept[0]?.html_url]);
  }, 120_000);
});
