// `promote-from`: the bundled deploy phase (one `node` process per job) copies staging/<sha>/ into
// prod/<sha>/ behind the real sshd: the same blob ids, `.args` replaced for `boot-args`, a folder
// whose image no longer matches its SHA256SUMS refused, `latest` never moved backwards.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProcess, serverGitEnv } from '../support/bare-repo.js';
import { runWorker, useDeployServer, type WorkerRun } from '../support/deploy-bundle.js';
import {
  bareGit,
  checkFolderLikeAHost,
  deployConfig,
  makeImage,
  SETUP,
  shaOf,
  showFile,
  sshDeployInputs,
} from '../support/deploy-scenario.js';

const server = useDeployServer('deploy-promote-', '2026-06-01T08:00:00Z');
const { scratch, at } = server;

const A = shaOf('promote a');
const NEWER = shaOf('promote newer');
const OLDER = shaOf('promote older');
const TAMPERED = shaOf('promote tampered');

let builds = 0;
/** A build of `sha` deployed into staging/ with staging's boot arguments. */
async function stage(sha: string, minutes: number): Promise<void> {
  const ctx = scratch.context({ sha, commitTime: at(minutes) });
  const config = deployConfig(ctx, {
    target: 'xen',
    'deploy-directory': 'staging',
    'boot-args': '--ipv4=10.0.0.2/24',
    ...sshDeployInputs(server.sshd),
  });
  const image = await makeImage(path.join(scratch.base, 'builds', `b-${++builds}`), {
    target: 'xen',
    seed: `promote ${sha}`,
    bytes: 16 * 1024,
    sideFiles: ['hello.xl'],
  });
  const run = await runWorker(server.bundle, { config, ctx, image, setup: SETUP }, scratch.base);
  expect(run.result, run.log).toMatchObject({ ok: true, outcome: { deployed: true } });
}

/** A promote job, run from a push of `sha` (or a manual run naming `promote-sha`). */
async function promote(sha: string, inputs: Record<string, string>): Promise<WorkerRun> {
  const ctx = scratch.context({ sha, commitTime: at(500) });
  const config = deployConfig(ctx, {
    target: 'xen',
    'promote-from': 'staging',
    'deploy-directory': 'prod',
    ...sshDeployInputs(server.sshd),
    ...inputs,
  });
  return runWorker(server.bundle, { config, ctx }, scratch.base);
}

/** name → blob id of the files of `folder` at main. */
async function blobs(folder: string): Promise<Map<string, string>> {
  const out = await bareGit(server.repo, ['ls-tree', 'main', `${folder}/`]);
  return new Map(
    out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [meta = '', name = ''] = l.split('\t');
        return [name.slice(folder.length + 1), meta.split(' ')[2] ?? ''];
      }),
  );
}

const refs = () => bareGit(server.repo, ['for-each-ref', '--format=%(refname) %(objectname)']);

describe('promote-from: staging to prod', () => {
  it('copies staging/<sha>/ by blob id, moves prod/latest, and is "already there" the second time', async () => {
    await stage(A, 0);
    const run = await promote(A, {});
    expect(run.result, run.log).toMatchObject({ ok: true, outcome: { deployed: true, path: `prod/${A}` } });
    const staged = await blobs(`staging/${A}`);
    expect([...staged.keys()]).toEqual(
      expect.arrayContaining(['hello.xen.bz2', 'hello.xl', 'hello.args', 'SHA256SUMS', 'manifest.json']),
    );
    expect(await blobs(`prod/${A}`)).toEqual(staged);
    expect(await showFile(server.repo, 'main', 'prod/latest')).toBe(`${A}\n`);
    expect(run.log).toMatch(/verified staging\/[0-9a-f]{40}\/hello\.xen\.bz2: sha256 [0-9a-f]{64} as in its manifest/);
    expect(run.log).toContain('::set-output name=latest-moved::true');

    const before = await refs();
    const again = await promote(A, {});
    expect(again.result, again.log).toMatchObject({ ok: true, outcome: { deployed: true } });
    expect(again.log).toMatch(/already there, with the same bytes/);
    expect(again.log).toContain('::set-output name=latest-moved::false');
    expect(await refs()).toBe(before);
  }, 300_000);

  it('with boot-args: a new .args, the manifest and SHA256SUMS say so and still check; the image keeps its blob', async () => {
    const run = await promote(A, { 'deploy-directory': 'prod-eu', 'boot-args': '--ipv4=192.0.2.7/24' });
    expect(run.result, run.log).toMatchObject({ ok: true, outcome: { deployed: true } });
    const staged = await blobs(`staging/${A}`);
    const prod = await blobs(`prod-eu/${A}`);
    expect(prod.get('hello.xen.bz2')).toBe(staged.get('hello.xen.bz2'));
    expect(prod.get('hello.xl')).toBe(staged.get('hello.xl'));
    expect(prod.get('hello.args')).not.toBe(staged.get('hello.args'));
    expect(await showFile(server.repo, 'main', `prod-eu/${A}/hello.args`)).toBe('--ipv4=192.0.2.7/24\n');
    const manifest = JSON.parse(await showFile(server.repo, 'main', `prod-eu/${A}/manifest.json`));
    expect(manifest.images['hello.xen.bz2'].bootArgs).toEqual(['--ipv4=192.0.2.7/24']);
    const host = await checkFolderLikeAHost(server.repo, 'main', `prod-eu/${A}`, path.join(scratch.base, 'host-eu'));
    expect(host.stored.code, host.stored.output).toBe(0);
    expect(host.unpacked.code, host.unpacked.output).toBe(0);
  }, 300_000);

  it('never moves latest backwards: an older build is promoted, latest stays, latest-moved=false', async () => {
    await stage(NEWER, 20);
    await stage(OLDER, 10);
    const newer = await promote(NEWER, { 'promote-sha': 'latest' });
    expect(newer.result, newer.log).toMatchObject({ ok: true, outcome: { path: `prod/${NEWER}` } });
    expect(await showFile(server.repo, 'main', 'prod/latest')).toBe(`${NEWER}\n`);
    const older = await promote(NEWER, { 'promote-sha': OLDER });
    expect(older.result, older.log).toMatchObject({ ok: true, outcome: { deployed: true, path: `prod/${OLDER}` } });
    expect(older.log).toContain('::set-output name=latest-moved::false');
    expect(await showFile(server.repo, 'main', 'prod/latest')).toBe(`${NEWER}\n`);
    expect(await blobs(`prod/${OLDER}`)).toEqual(await blobs(`staging/${OLDER}`));
  }, 300_000);

  it('refuses a folder whose image does not match its SHA256SUMS, pushing nothing', async () => {
    await stage(TAMPERED, 30);
    // someone with write access replaces the staged image's bytes, leaving its manifest and sums
    const work = path.join(scratch.base, 'tamper');
    await mkdir(work, { recursive: true });
    const git = async (args: string[]) => {
      const r = await runProcess('git', args, { cwd: work, env: serverGitEnv() });
      if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    };
    await git(['clone', '--quiet', server.repo, '.']);
    await writeFile(path.join(work, 'staging', TAMPERED, 'hello.xen.bz2'), 'not the image');
    await git(['-c', 'user.name=x', '-c', 'user.email=x@example.org', 'commit', '--quiet', '-am', 'tamper']);
    await git(['push', '--quiet', 'origin', 'HEAD:main']);

    const before = await refs();
    const run = await promote(TAMPERED, {});
    expect(run.result.ok, run.log).toBe(false);
    expect(run.result.ok ? '' : run.result.error).toMatch(
      new RegExp(
        `^input \`promote-from\`: staging/${TAMPERED}/hello\\.xen\\.bz2 has sha256 [0-9a-f]{64}, but its manifest says`,
      ),
    );
    expect(await refs()).toBe(before);
  }, 300_000);

  it('a sha never staged: an error naming promote-from and what is there', async () => {
    const run = await promote(shaOf('never staged'), {});
    expect(run.result.ok ? '' : run.result.error).toMatch(
      new RegExp(`^input \`promote-from\`: there is no staging/${shaOf('never staged')}/ in .*; deployed there: `),
    );
  }, 120_000);
});
