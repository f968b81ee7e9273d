/**
 * The writer through the bundle, as a runner runs it: setup from the offline opam fixture, the
 * build of example/hello, and the deploy over SSH to the real sshd; then a dry run and a
 * `rollback-to` (which builds nothing) from a `workflow_dispatch` run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/deploy/manifest.js';
import { createBareRepo, snapshotRepo } from '../support/bare-repo.js';
import { bareGit, filesAt, history, showFile, sshDeployInputs } from '../support/deploy-scenario.js';
import { useFixtureScope } from '../support/fixture-action.js';
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
});
