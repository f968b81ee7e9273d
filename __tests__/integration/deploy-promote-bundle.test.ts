/**
 * `promote-from` through the bundle, as a runner runs it (dist/ as a process, a manual run over SSH
 * to the real sshd): staging/<sha>/, deployed by a staging job, promoted to prod/<sha>/ with the
 * same blob ids and nothing of opam or the build run; then a folder tampered with is refused.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo, runProcess, serverGitEnv } from '../support/bare-repo.js';
import { bundleDeploy, runWorker } from '../support/deploy-bundle.js';
import {
  bareGit,
  deployConfig,
  makeImage,
  SETUP,
  shaOf,
  showFile,
  sshDeployInputs,
} from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import { useFixtureScope } from '../support/fixture-action.js';
import type { RunResult } from '../support/harness.js';
import { startSshd, type SshdServer } from '../support/sshd.js';
import { startGithubApi, type GithubApi } from '../support/github-api.js';

const fixture = useFixtureScope('promote-bundle-');
const scratch = useDeployScratch('promote-bundle-deploy-');
let repo: string;
let sshd: SshdServer;
let bundle: string;
let api: GithubApi;

const STAGED = shaOf('bundle staged');
const TAMPERED = shaOf('bundle tampered');
const RECORDED = shaOf('bundle recorded');

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
  api = await startGithubApi();
  bundle = await bundleDeploy(join(scratch.base, 'bundle'));
}, 120_000);

afterAll(async () => {
  await Promise.all([sshd?.stop(), api?.stop()]);
});

/** The staging job's deploy of `sha` (the deploy phase alone: its build is not what is tested here). */
async function stage(sha: string): Promise<void> {
  const ctx = scratch.context({ sha, commitTime: '2026-06-01T08:00:00Z' });
  const config = deployConfig(ctx, { target: 'xen', 'deploy-directory': 'staging', ...sshDeployInputs(sshd) });
  const image = await makeImage(join(scratch.base, `build-${sha}`), {
    target: 'xen',
    seed: sha,
    bytes: 16 * 1024,
    sideFiles: ['hello.xl'],
  });
  const run = await runWorker(bundle, { config, ctx, image, setup: SETUP }, scratch.base);
  expect(run.result, run.log).toMatchObject({ ok: true });
}

/** The prod job: a manual run of the action with `promote-from`. */
function promote(sha: string, extra: Record<string, string> = {}): Promise<RunResult> {
  return fixture.runExample({
    env: { GITHUB_API_URL: api.url },
    workspace: 'workspace',
    inputs: {
      target: 'xen',
      deploy: 'true',
      'promote-from': 'staging',
      'deploy-directory': 'prod',
      'promote-sha': sha,
      ...sshDeployInputs(sshd),
      ...extra,
    },
    event: 'workflow_dispatch',
    sha: shaOf('the prod job'),
  });
}

const tree = (folder: string) => bareGit(repo, ['ls-tree', 'main', `${folder}/`]);
const refs = () => bareGit(repo, ['for-each-ref', '--format=%(refname) %(objectname)']);

describe('promote-from through the bundle', () => {
  it('promotes staging/<sha>/ to prod/<sha>/ by blob id; no opam, no build; latest-moved=true', async () => {
    await stage(STAGED);
    const result = await promote(STAGED);
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs).toMatchObject({ deployed: 'true', 'deploy-path': `prod/${STAGED}`, 'latest-moved': 'true' });
    const ids = (text: string) => text.split('\n').map((l) => l.replace(/\t.*\//, '\t'));
    expect(ids(await tree(`prod/${STAGED}`))).toEqual(ids(await tree(`staging/${STAGED}`)));
    expect(await showFile(repo, 'main', 'prod/latest')).toBe(`${STAGED}\n`);
    expect(result.log).toContain(`::group::Deploy: promote staging/${STAGED} to \`prod\``);
    // the inputs are listed, then only the promote runs: no setup, no build group, no opam or make
    const groups = [...result.log.matchAll(/^::group::(.*)$/gm)].map((m) => m[1]);
    expect(groups).toEqual(['Inputs', `Deploy: promote staging/${STAGED} to \`prod\``]);
    const afterInputs = result.log.slice(result.log.indexOf('::endgroup::'));
    expect(afterInputs).not.toMatch(/\bopam\b|\bmake\b|mirage configure/);
    expect(result.post?.exitCode).toBe(0);
  }, 300_000);

  it('with github-token: a deployment record of the promoted sha, named in prod/latest.deployment', async () => {
    await stage(RECORDED);
    const result = await promote(RECORDED, { 'github-token': 'ghs_promote' });
    expect(result.main.exitCode, result.log).toBe(0);
    const made = [...api.deployments.values()].filter((d) => d.sha === RECORDED);
    expect(made).toHaveLength(1);
    const record = made[0];
    expect(record?.environment).toBe('prod');
    expect(record?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    const named = await showFile(repo, 'main', 'prod/latest.deployment');
    expect(named).toContain(`id=${record?.id}\n`);
    expect(named).toContain(`sha=${RECORDED}\n`);
  }, 300_000);

  it('refuses a staged folder whose image no longer matches its SHA256SUMS, pushing nothing', async () => {
    await stage(TAMPERED);
    const work = join(scratch.base, 'tamper');
    await mkdir(work, { recursive: true });
    const git = async (args: string[]) => {
      const r = await runProcess('git', args, { cwd: work, env: serverGitEnv() });
      if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    };
    await git(['clone', '--quiet', repo, '.']);
    await writeFile(join(work, 'staging', TAMPERED, 'hello.xen.bz2'), 'other bytes');
    await git(['-c', 'user.name=x', '-c', 'user.email=x@example.org', 'commit', '--quiet', '-am', 'tamper']);
    await git(['push', '--quiet', 'origin', 'HEAD:main']);

    const before = await refs();
    const result = await promote(TAMPERED);
    expect(result.main.exitCode).toBe(1);
    expect(result.errors.join('\n')).toMatch(
      new RegExp(
        `input \`promote-from\`: staging/${TAMPERED}/hello\\.xen\\.bz2 has sha256 [0-9a-f]{64}, but its manifest says`,
      ),
    );
    expect(await refs()).toBe(before);
  }, 300_000);
});
