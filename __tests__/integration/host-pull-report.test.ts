/**
 * host/mirage-deploy-pull reporting to GitHub (--github-token-file): the real script, run again
 * and again as a timer would, against a deployment repository behind the loopback sshd and the
 * loopback stand-in of the deployments API. It posts in_progress at the swap, success once the
 * health check passes, failure at a rollback, to the record `<directory>/latest.deployment` names;
 * and sends the token nowhere when that record is not this repository's record of this commit.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo } from '../support/bare-repo.js';
import { imageBytes, shaOf } from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import { startGithubApi, type GithubApi } from '../support/github-api.js';
import { current, recordingRestart, runPull, seedDeploy, type SeedDeploy } from '../support/host-pull.js';
import { startSshd, writeKeyFile, type SshdServer } from '../support/sshd.js';

const TOKEN = 'github_pat_host_reports_0123456789';
const SOURCE = 'mirage/mirage-www';
const scratch = useDeployScratch('host-pull-report-');
let seq = 0;
let home: string;
let sshd: SshdServer;
let repo: string;
let key: string;
let knownHosts: string;
let api: GithubApi;
let privateApi: GithubApi;

async function folder(name: string): Promise<string> {
  const dir = path.join(scratch.base, `${name}-${++seq}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  home = await folder('home');
  const dir = await folder('server');
  repo = await createBareRepo(path.join(dir, 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
  key = await writeKeyFile(path.join(dir, 'read-only-key'), sshd.readOnlyKey);
  knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `${sshd.knownHosts}\n`);
  api = await startGithubApi();
  privateApi = await startGithubApi({ private: true });
});

afterAll(async () => {
  await Promise.all([sshd?.stop(), api?.stop(), privateApi?.stop()]);
});

const record = (fields: { repository?: string; id?: string | number; sha: string }) =>
  `repository=${fields.repository ?? SOURCE}\nid=${fields.id}\nenvironment=production\nsha=${fields.sha}\n`;

/** One host following its own folder of the shared repository, with a 0600 token file. */
async function setup(name: string, server: GithubApi = api) {
  const dir = await folder(name);
  const directory = `xen-${name}-${seq}`;
  const state = path.join(dir, 'state');
  const log = path.join(dir, 'restarts.log');
  const tokenFile = path.join(dir, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const reporting = [
    '--github-token-file',
    tokenFile,
    '--github-repository',
    SOURCE,
    '--github-api-url',
    server.url,
    '--environment-url',
    'https://mirage.io/',
    '--log-url',
    'https://logs.example.invalid/www',
  ];
  const pull = (extra: string[] = [], restart = recordingRestart(log), env: NodeJS.ProcessEnv = {}) =>
    runPull(
      [
        ...['--repository', sshd.url, '--ssh-key', key, '--known-hosts', knownHosts],
        ...['--directory', directory, '--state', state, '--restart', restart, ...reporting, ...extra],
      ],
      { home, env },
    );
  const seed = (sha: string, label: string, deploy: Partial<SeedDeploy> = {}) =>
    seedDeploy(repo, scratch.base, {
      directory,
      sha,
      images: [{ file: 'www.xen', bytes: imageBytes(label, 3000), args: `--label=${label}` }],
      ...deploy,
    });
  const requestsTo = (id: number) => server.requests.filter((r) => r.path.includes(`/deployments/${id}`));
  return { dir, state, tokenFile, pull, seed, requestsTo };
}

describe('reports to the record latest.deployment names', () => {
  it('in_progress at the swap, success once the health check passes; a run with nothing new posts nothing', async () => {
    const t = await setup('good');
    const sha = shaOf('report-good');
    const deployment = api.addDeployment(SOURCE, sha);
    await t.seed(sha, 'good', { record: record({ id: deployment.id, sha }) });
    const r = await t.pull(['--health', 'echo healthy']);
    expect(r.code, r.output).toBe(0);
    expect(deployment.statuses.map((s) => [s.state, s.description])).toEqual([
      ['in_progress', expect.stringMatching(/^swapped in on .+: restarting and health-checking$/)],
      ['success', expect.stringMatching(/^runs on .+: the health check passed$/)],
    ]);
    expect(deployment.statuses[1]).toMatchObject({
      environment_url: 'https://mirage.io/',
      log_url: 'https://logs.example.invalid/www',
    });
    const posts = t.requestsTo(deployment.id).filter((q) => q.method === 'POST');
    expect(posts.map((q) => q.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(r.stderr).toContain('the last lines of the restart and health output:\n  healthy\n');

    const again = await t.pull(['--health', 'echo healthy']);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toContain('up to date');
    expect(deployment.statuses).toHaveLength(2);
  });

  it('failure at a rollback, the reason cut to 140 characters, the last 20 lines of the output in the log', async () => {
    const t = await setup('rollback');
    const good = shaOf('report-rollback-good');
    const first = api.addDeployment(SOURCE, good);
    await t.seed(good, 'rb-good', { record: record({ id: first.id, sha: good }) });
    const health = `seq 1 30 | sed 's/^/line /'; case "$(cat "$MIRAGE_DIR/config.ml")" in *${good}*) exit 0 ;; esac; exit 1`;
    expect((await t.pull(['--health', health])).code).toBe(0);

    const bad = shaOf('report-rollback-bad');
    const second = api.addDeployment(SOURCE, bad);
    await t.seed(bad, 'rb-bad', { record: record({ id: second.id, sha: bad }) });
    const r = await t.pull(['--health', health, '--health-timeout', '2', '--health-try-timeout', '1']);
    expect(r.code, r.output).toBe(1);
    expect(current(t.state)).toBe(`images/${good}`);
    expect(second.statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
    const description = String(second.statuses[1]?.description);
    expect(description).toMatch(/^the health check did not pass within 2s on .+; rolled back to /);
    expect(description).toContain(good.slice(0, 12));
    expect(description.length).toBeLessThanOrEqual(140);
    // the failed try's output, then the previous image's passing check: the last 20 lines of each
    expect(r.stderr).toMatch(/the last lines of the restart and health output:\n( {2}line (1[1-9]|2\d|30)\n){20}/);
    expect(r.stderr).not.toContain('  line 10\n');
    // the first record is left as the good run set it
    expect(first.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);

    const again = await t.pull(['--health', health]);
    expect(again.code).toBe(1);
    expect(second.statuses).toHaveLength(2);
  });

  it('a description longer than 140 characters is cut there', async () => {
    const t = await setup('long');
    const sha = shaOf('report-long');
    const deployment = api.addDeployment(SOURCE, sha);
    await t.seed(sha, 'long', { record: record({ id: deployment.id, sha }) });
    // a host whose name is long: the failure's description outgrows GitHub's 140 characters
    const bin = path.join(t.dir, 'bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'uname'), `#!/bin/sh\necho ${'h'.repeat(150)}\n`, { mode: 0o755 });
    const r = await t.pull([], 'exit 1', { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` });
    expect(r.code, r.output).toBe(5);
    expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
    expect(deployment.statuses[1]?.description).toBe(`the restart command failed on ${'h'.repeat(110)}`);
  });

  it('a private repository: the GET of the deployment is asked again with the token', async () => {
    const t = await setup('private', privateApi);
    const sha = shaOf('report-private');
    const deployment = privateApi.addDeployment(SOURCE, sha);
    await t.seed(sha, 'private', { record: record({ id: deployment.id, sha }) });
    // curl as the host runs it, recording its arguments: the token is never among them
    const bin = path.join(t.dir, 'bin');
    const argv = path.join(t.dir, 'curl-arguments');
    await mkdir(bin);
    const curl = execFileSync('sh', ['-c', 'command -v curl'], { encoding: 'utf8' }).trim();
    await writeFile(path.join(bin, 'curl'), `#!/bin/sh\nprintf '%s\\n' "$*" >>'${argv}'\nexec '${curl}' "$@"\n`, {
      mode: 0o755,
    });
    const r = await t.pull([], undefined, { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` });
    expect(r.code, r.output).toBe(0);
    const calls = readFileSync(argv, 'utf8').trim().split('\n');
    expect(calls).toHaveLength(4);
    expect(calls.filter((c) => c.includes('-H @-'))).toHaveLength(3);
    expect(calls.join('\n')).not.toContain(TOKEN);
    expect(t.requestsTo(deployment.id).map((q) => [q.method, q.authorization !== ''])).toEqual([
      ['GET', false],
      ['GET', true],
      ['POST', true],
      ['POST', true],
    ]);
    expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
  });
});

describe('the token goes nowhere for a record that is not this commit on this repository', () => {
  const refused = async (name: string, make: (sha: string) => string | undefined, expected: RegExp) => {
    const t = await setup(name);
    const sha = shaOf(`report-${name}`);
    const before = api.requests.length;
    await t.seed(sha, name, { record: make(sha) });
    const r = await t.pull();
    expect(r.code, r.output).toBe(0);
    expect(current(t.state)).toBe(`images/${sha}`);
    expect(r.stderr).toMatch(expected);
    const seen = api.requests.slice(before);
    expect(seen.filter((q) => q.authorization !== '')).toEqual([]);
    expect(seen.filter((q) => q.method === 'POST')).toEqual([]);
    return seen;
  };

  it('a record naming another repository', async () => {
    const other = api.addDeployment('someone/else', shaOf('report-other'));
    const seen = await refused(
      'other',
      (sha) => record({ repository: 'someone/else', id: other.id, sha }),
      /not reporting to GitHub: latest.deployment names the repository 'someone\/else', not mirage\/mirage-www/,
    );
    expect(seen).toEqual([]);
  });

  it('an id that is not a number', async () => {
    const seen = await refused(
      'nonnumeric',
      (sha) => record({ id: '1/../../../../orgs/x', sha }),
      /not reporting to GitHub: latest.deployment holds the id '1\/\.\.\/\.\.\/\.\.\/\.\.\/orgs\/x', not a number/,
    );
    expect(seen).toEqual([]);
  });

  it('a deployment whose sha differs from the commit the host runs', async () => {
    const old = api.addDeployment(SOURCE, shaOf('report-an-older-commit'));
    const seen = await refused(
      'copied',
      (sha) => record({ id: old.id, sha }),
      /not reporting to GitHub: deployment \d+ of mirage\/mirage-www is for '[0-9a-f]{40}', not [0-9a-f]{40}/,
    );
    expect(seen.map((q) => q.method)).toEqual(['GET']);
    expect(old.statuses).toEqual([]);
  });

  it('no latest.deployment at all', async () => {
    const seen = await refused(
      'none',
      () => undefined,
      /not reporting to GitHub: xen-none-\d+\/ has no latest.deployment/,
    );
    expect(seen).toEqual([]);
  });
});

describe('usage errors before anything is fetched or sent (exit 2)', () => {
  it('an API that is not https and not loopback, a token file others can read, options without the token', async () => {
    const t = await setup('usage');
    const sha = shaOf('report-usage');
    await t.seed(sha, 'usage', { record: record({ id: 1, sha }) });
    const before = api.requests.length;
    const plain = await t.pull(['--github-api-url', 'http://api.example.invalid']);
    expect(plain.code, plain.output).toBe(2);
    expect(plain.stderr).toContain('the token is sent only over https (plain http only to a loopback address)');
    const disguised = await t.pull(['--github-api-url', 'http://127.0.0.1.example.invalid:80']);
    expect(disguised.code, disguised.output).toBe(2);
    chmodSync(t.tokenFile, 0o640);
    const open = await t.pull();
    expect(open.code, open.output).toBe(2);
    expect(open.stderr).toContain('readable by group or others; chmod 600 it');
    chmodSync(t.tokenFile, 0o600);
    const noToken = await runPull(
      ['--repository', repo, '--directory', 'x', '--state', t.state, '--restart', 'true'].concat([
        '--github-repository',
        SOURCE,
      ]),
      { home },
    );
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('they need --github-token-file');
    expect(api.requests.length).toBe(before);
  });
});
