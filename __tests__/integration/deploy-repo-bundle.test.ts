/**
 * The writer through the bundle, as a runner runs it: setup from the offline opam fixture, the
 * build of example/hello, and the deploy over SSH to the real sshd; then a dry run and a
 * `rollback-to` (which builds nothing) from a `workflow_dispatch` run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/deploy/manifest.js';
import { createBareRepo, serverGitEnv, snapshotRepo } from '../support/bare-repo.js';
import { bareGit, filesAt, history, showFile, sshDeployInputs } from '../support/deploy-scenario.js';
import { checkoutExample, useFixtureScope } from '../support/fixture-action.js';
import { FIXTURES, type CustomEvent, type RunOptions, type RunResult } from '../support/harness.js';
import { startSshd, type SshdServer } from '../support/sshd.js';
import { summaryValues } from '../support/summary-table.js';

/** The push fixture's commit, and a later one deployed on top of it. */
const FIRST = '0123456789abcdef0123456789abcdef01234567';
const SECOND = '89abcdef0123456789abcdef0123456789abcdef';

/**
 * The push of SECOND, a day after the fixture's push of FIRST: its payload names SECOND as the head
 * commit, with its time, as GitHub's does (a push payload naming another commit gives no time).
 */
function pushOf(sha: string, timestamp: string): CustomEvent {
  const payload = JSON.parse(readFileSync(join(FIXTURES, 'events', 'push-default-branch.json'), 'utf8'));
  return {
    name: 'push',
    payload: { ...payload, after: sha, head_commit: { ...payload.head_commit, id: sha, timestamp } },
    ref: payload.ref,
    sha,
  };
}
const PUSH_OF_SECOND = pushOf(SECOND, '2026-11-21T10:15:00Z');

const fixture = useFixtureScope('deploy-bundle-');
let repo: string;
let sshd: SshdServer;

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'mirage-www-deployment.git'));
  sshd = await startSshd({ repoPath: repo });
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
});

/** One job on a self-hosted runner: the opam root stays, the checkout is fresh. */
function run(inputs: Record<string, string>, options: Partial<RunOptions> = {}): Promise<RunResult> {
  return fixture.runExample({
    workspace: 'workspace',
    inputs: { target: 'xen', cache: 'false', deploy: 'true', ...sshDeployInputs(sshd), ...inputs },
    ...options,
  });
}

describe('deploy through the bundle', () => {
  it('builds and deploys: outputs, summary link line, manifest of the built image', async () => {
    const result = await run({});
    expect(result.main.exitCode, result.log).toBe(0);
    const tip = (await bareGit(repo, ['rev-parse', 'main'])).trim();
    expect(result.outputs).toMatchObject({
      deployed: 'true',
      'deploy-commit': tip,
      'deploy-path': `xen/${FIRST}`,
      'deploy-url': '',
    });
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${FIRST}\n`);
    expect(await filesAt(repo, 'main', `xen/${FIRST}`)).toEqual(
      [
        'SHA256SUMS',
        'config.ml',
        'hello.args',
        'hello.buildinfo.json',
        'hello.cdx.json',
        'hello.opam.locked',
        'hello.switch-export',
        'hello.xen.bz2',
        'hello.xl',
        'hello.xl.in',
        'hello_libvirt.xml',
        'manifest.json',
      ].map((f) => `xen/${FIRST}/${f}`),
    );
    const manifest = parseManifest(await showFile(repo, 'main', `xen/${FIRST}/manifest.json`));
    expect(manifest?.images['hello.xen.bz2']).toMatchObject({
      name: 'hello',
      sha256: result.outputs['image-sha256'],
      size: Number(result.outputs['image-size']),
    });
    expect(manifest?.source).toMatchObject({ repository: 'mirage/mirage-www', sha: FIRST, ref: 'refs/heads/main' });
    expect(manifest?.images['hello.xen.bz2']?.versions.mirage).toBe('4.11.1+stand-in');
    expect(result.log).toContain(`::group::Deploy: write xen/${FIRST}`);
    const summary = summaryValues(result.summary);
    expect(summary.deploy).toMatch(new RegExp(`^deployed xen/${FIRST} in .*\\(${tip.slice(0, 12)}\\)$`));
    expect(summary.compressed).toMatch(/^\d+\.\d KiB \(\d+ bytes\) as hello\.xen\.bz2$/);
    expect(summary['deploy time']).toMatch(/^\d+\.\d s$/);
    expect(result.post?.exitCode).toBe(0);
  }, 300_000);

  it('a dry run of the next commit lists what it would write and leaves the repository unchanged', async () => {
    const before = await snapshotRepo(repo);
    const result = await run({ 'dry-run': 'true' }, { event: PUSH_OF_SECOND });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs).toMatchObject({ deployed: 'false', 'deploy-commit': '', 'deploy-path': `xen/${SECOND}` });
    expect(result.log).toContain(`write xen/${SECOND}/hello.xen.bz2 (`);
    expect(result.log).toContain(`write xen/latest (${SECOND})`);
    expect(result.summary).toContain('**Dry run**');
    expect(await snapshotRepo(repo)).toBe(before);
  }, 300_000);

  it('on Node 24 (the runtime of `runs.using: node24`) the next commit deploys; rollback-to builds nothing and moves latest; to a sha never deployed it fails naming the input', async () => {
    const next = await run({}, { event: PUSH_OF_SECOND, node: 'node24' });
    expect(next.main.exitCode, next.log).toBe(0);
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${SECOND}\n`);

    const back = await run({ 'rollback-to': FIRST }, { event: 'workflow_dispatch', sha: SECOND, node: 'node24' });
    expect(back.main.exitCode, back.log).toBe(0);
    expect(back.log).not.toContain('mirage configure');
    expect(back.outputs).toMatchObject({ deployed: 'true', 'deploy-path': `xen/${FIRST}` });
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${FIRST}\n`);
    expect((await history(repo)).length).toBe(3);

    const missing = 'f'.repeat(40);
    const before = await snapshotRepo(repo);
    const bad = await run({ 'rollback-to': missing }, { event: 'workflow_dispatch', sha: SECOND });
    expect(bad.main.exitCode).toBe(1);
    expect(bad.errors.join('\n')).toMatch(
      new RegExp(`input \`rollback-to\`: ${missing} is not deployed for target xen`),
    );
    expect(await snapshotRepo(repo)).toBe(before);
  }, 300_000);

  it("orders by the history main read before the build, although the build removed the checkout's .git", async () => {
    const ordered = await createBareRepo(join(fixture.base, 'ordered-deployment.git'));
    const server = await startSshd({ repoPath: ordered });
    try {
      // c2 follows c1 but carries an older commit date (a rebase keeps dates): only the history
      // says it is newer, and only a read before the build sees it.
      const commits: Record<string, string> = {};
      const history = (dir: string) => {
        const git = (args: string[], date: string) =>
          execFileSync('git', args, {
            cwd: dir,
            encoding: 'utf8',
            env: serverGitEnv({
              GIT_AUTHOR_NAME: 't',
              GIT_AUTHOR_EMAIL: 't@example.invalid',
              GIT_COMMITTER_NAME: 't',
              GIT_COMMITTER_EMAIL: 't@example.invalid',
              GIT_AUTHOR_DATE: date,
              GIT_COMMITTER_DATE: date,
            }),
          });
        git(['init', '--quiet', '--initial-branch=main'], '');
        git(['add', '-A'], '');
        git(['commit', '--quiet', '-m', 'c1'], '2026-02-02T00:00:00Z');
        commits.c1 = git(['rev-parse', 'HEAD'], '').trim();
        git(['commit', '--quiet', '--allow-empty', '-m', 'c2'], '2026-02-01T00:00:00Z');
        commits.c2 = git(['rev-parse', 'HEAD'], '').trim();
      };
      // The same copy of example/hello and the same dates give the same commits in every checkout.
      history(checkoutExample(join(fixture.base, 'ordered-shas')));
      const c1 = commits.c1 ?? '';
      const c2 = commits.c2 ?? '';
      const deploy = (sha: string, inputs: Record<string, string>) =>
        fixture.runExample({
          workspace: 'ordered',
          prepare: history,
          inputs: { target: 'xen', cache: 'false', deploy: 'true', ...sshDeployInputs(server), ...inputs },
          event: 'workflow_dispatch',
          sha,
        });
      const first = await deploy(c1, {});
      expect(first.main.exitCode, first.log).toBe(0);
      expect(await showFile(ordered, 'main', 'xen/latest')).toBe(`${c1}\n`);
      const second = await deploy(c2, { 'build-command': "sh -c 'rm -rf .git && make build'" });
      expect(second.main.exitCode, second.log).toBe(0);
      expect(commits.c2).toBe(c2);
      expect(existsSync(join(fixture.base, 'ordered', 'hello', '.git'))).toBe(false);
      expect(await showFile(ordered, 'main', 'xen/latest')).toBe(`${c2}\n`);
      const manifest = parseManifest(await showFile(ordered, 'main', `xen/${c2}/manifest.json`));
      expect(manifest?.source.commitTime).toBe('2026-02-01T00:00:00.000Z');
    } finally {
      await server.stop();
    }
  }, 600_000);
});
