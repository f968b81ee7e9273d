// Several images in one deploy folder (issue 13), through deployImage/rollback against the real
// sshd: 2013's two Xen sites from one commit, boot arguments, SHA256SUMS checked as a host checks
// it, a re-run, a replaced image, a config-file conflict, a schema 1 folder, per-folder latest and
// keep, and a rollback that verifies every image.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/deploy/manifest.js';
import { createBareRepo, runProcess, serverGitEnv, snapshotRepo } from '../support/bare-repo.js';
import { seedHistory } from '../support/deploy-history.js';
import {
  bareGit,
  checkFolderLikeAHost,
  deployConfig,
  filesAt,
  makeImage,
  SETUP,
  shaOf,
  showFile,
  sshDeployInputs,
  checkedDeploy,
  checkedRollback,
} from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const scratch = useDeployScratch('deploy-multi-');
let repo: string;
let sshd: SshdServer;

const T0 = Date.parse('2026-05-01T10:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const CONFIG = 'let () = register "www" [ main ]\n';
const SITES = {
  'mir-openmirage.org': '--ipv4=46.43.42.147/25 --ipv4-gateway=46.43.42.129',
  'mir-mirage.io': '--ipv4=46.43.42.146/25 --ipv4-gateway=46.43.42.129 --hello="mirage io"',
};
const SHA = shaOf('two sites');

beforeAll(async () => {
  repo = await createBareRepo(path.join(scratch.base, 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
});

afterAll(async () => {
  await sshd?.stop();
});

let builds = 0;
async function deploy(
  sha: string,
  inputs: Record<string, string>,
  opts: { seed?: string; config?: string; minutes?: number } = {},
) {
  const ctx = scratch.context({ sha, commitTime: at(opts.minutes ?? 0) });
  const image = await makeImage(path.join(scratch.base, 'build', String(++builds)), {
    target: 'xen',
    seed: opts.seed ?? `${sha} ${inputs['deploy-image-name'] ?? ''}`,
    name: 'www',
    sideFiles: ['www.xl', 'www.xl.in'],
    config: opts.config ?? CONFIG,
  });
  const config = deployConfig(ctx, { target: 'xen', ...sshDeployInputs(sshd), ...inputs });
  return { image, outcome: await checkedDeploy(config, ctx, image, SETUP) };
}

const site = (name: keyof typeof SITES) => ({ 'deploy-image-name': name, 'boot-args': SITES[name] });
const blobId = async (file: string) => (await bareGit(repo, ['rev-parse', `main:${file}`])).trim();
let checks = 0;
const hostCheck = (folder: string) =>
  checkFolderLikeAHost(repo, 'main', folder, path.join(scratch.base, 'host', String(++checks)));

describe('two images of one commit in one folder', () => {
  it('both land beside each other: images, side files under their names, .args, one config.ml, one manifest, SHA256SUMS', async () => {
    const org = await deploy(SHA, site('mir-openmirage.org'));
    const io = await deploy(SHA, site('mir-mirage.io'));
    expect(org.outcome).toMatchObject({ deployed: true, path: `xen/${SHA}` });
    expect(io.outcome.message).toMatch(/; kept the folder's other images: mir-openmirage\.org\.xen\.bz2$/);
    expect(await filesAt(repo, 'main', `xen/${SHA}`)).toEqual(
      [
        'SHA256SUMS',
        'config.ml',
        'manifest.json',
        'mir-mirage.io.args',
        'mir-mirage.io.xen.bz2',
        'mir-mirage.io.xl',
        'mir-mirage.io.xl.in',
        'mir-openmirage.org.args',
        'mir-openmirage.org.xen.bz2',
        'mir-openmirage.org.xl',
        'mir-openmirage.org.xl.in',
      ].map((f) => `xen/${SHA}/${f}`),
    );
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${SHA}\n`);
    expect(await showFile(repo, 'main', `xen/${SHA}/config.ml`)).toBe(CONFIG);
    expect(await showFile(repo, 'main', `xen/${SHA}/mir-mirage.io.args`)).toBe(
      '--ipv4=46.43.42.146/25\n--ipv4-gateway=46.43.42.129\n--hello=mirage io\n',
    );
    expect(await showFile(repo, 'main', `xen/${SHA}/mir-openmirage.org.args`)).toBe(
      '--ipv4=46.43.42.147/25\n--ipv4-gateway=46.43.42.129\n',
    );

    const manifest = parseManifest(await showFile(repo, 'main', `xen/${SHA}/manifest.json`));
    expect(Object.keys(manifest?.images ?? {})).toEqual(['mir-mirage.io.xen.bz2', 'mir-openmirage.org.xen.bz2']);
    expect(manifest?.images['mir-openmirage.org.xen.bz2']).toMatchObject({
      name: 'mir-openmirage.org',
      builtName: 'www',
      sha256: org.image.sha256,
      bootArgs: ['--ipv4=46.43.42.147/25', '--ipv4-gateway=46.43.42.129'],
    });
    expect(manifest?.images['mir-mirage.io.xen.bz2']?.sha256).toBe(io.image.sha256);

    const host = await hostCheck(`xen/${SHA}`);
    expect(host.stored.code, host.stored.output).toBe(0);
    expect(host.stored.output.split('\n').filter((l) => l.endsWith(': OK'))).toHaveLength(10);
    expect(host.unpacked.code, host.unpacked.output).toBe(0);
    expect(host.unpacked.output).toBe('mir-mirage.io.xen: OK\nmir-openmirage.org.xen: OK\n');
  });

  it('a re-run of one of them commits nothing', async () => {
    const before = await snapshotRepo(repo);
    const again = await deploy(SHA, site('mir-openmirage.org'));
    expect(again.outcome.message).toMatch(/already up to date/);
    expect(await snapshotRepo(repo)).toBe(before);
  });

  it('re-deploying one with a new image replaces only its files', async () => {
    const folder = `xen/${SHA}`;
    const others = ['mir-openmirage.org.xen.bz2', 'mir-openmirage.org.xl', 'mir-openmirage.org.args', 'config.ml'];
    const before = await Promise.all(others.map((f) => blobId(`${folder}/${f}`)));
    const oldImage = await blobId(`${folder}/mir-mirage.io.xen.bz2`);
    const rebuilt = await deploy(SHA, site('mir-mirage.io'), { seed: 'rebuilt io' });
    expect(rebuilt.outcome.deployed).toBe(true);
    expect(await Promise.all(others.map((f) => blobId(`${folder}/${f}`)))).toEqual(before);
    expect(await blobId(`${folder}/mir-mirage.io.xen.bz2`)).not.toBe(oldImage);
    const manifest = parseManifest(await showFile(repo, 'main', `${folder}/manifest.json`));
    expect(manifest?.images['mir-mirage.io.xen.bz2']?.sha256).toBe(rebuilt.image.sha256);
    expect(Object.keys(manifest?.images ?? {})).toHaveLength(2);
    const host = await hostCheck(folder);
    expect(host.stored.code, host.stored.output).toBe(0);
    expect(host.unpacked.code, host.unpacked.output).toBe(0);
  });

  it('a third image whose config.ml has other bytes fails naming `config-file` and pushes nothing', async () => {
    const before = await snapshotRepo(repo);
    await expect(
      deploy(SHA, { 'deploy-image-name': 'mir-other' }, { config: 'let () = register "other" []\n' }),
    ).rejects.toThrow(
      new RegExp(
        `^input \`config-file\`: \`xen/${SHA}/config.ml\` holds the config file of the image \`mir-\\S+\`, with other bytes`,
      ),
    );
    expect(await snapshotRepo(repo)).toBe(before);
  });

  it('a rollback verifies every image of the folder: one changed by hand refuses it', async () => {
    const newer = shaOf('newer');
    await deploy(newer, site('mir-openmirage.org'), { minutes: 10 });
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${newer}\n`);

    const ctx = scratch.context({ sha: newer, eventName: 'workflow_dispatch' });
    const config = deployConfig(ctx, { target: 'xen', ...sshDeployInputs(sshd), 'rollback-to': SHA });
    // tamper with the second image only (the first one of the folder still verifies)
    const work = path.join(scratch.base, 'tamper');
    const author = {
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@x',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@x',
    };
    const git = (args: string[]) => runProcess('git', args, { cwd: work, env: serverGitEnv(author) });
    await runProcess('git', ['clone', '--quiet', repo, work], { env: serverGitEnv() });
    const bad = execFileSync('bzip2', ['-9'], { input: Buffer.from('not the image') });
    await writeFile(path.join(work, 'xen', SHA, 'mir-openmirage.org.xen.bz2'), bad);
    await git(['commit', '--quiet', '-am', 'tamper']);
    expect((await git(['push', '--quiet', 'origin', 'main'])).code).toBe(0);
    const before = await snapshotRepo(repo);
    await expect(checkedRollback(config, ctx, SHA)).rejects.toThrow(
      new RegExp(
        `input \`rollback-to\`: xen/${SHA}/mir-openmirage\\.org\\.xen\\.bz2 has sha256 [0-9a-f]{64}, but its manifest says`,
      ),
    );
    expect(await snapshotRepo(repo)).toBe(before);

    await git(['revert', '--no-edit', 'HEAD']);
    expect((await git(['push', '--quiet', 'origin', 'main'])).code).toBe(0);
    const back = await checkedRollback(config, ctx, SHA);
    expect(back.deployed).toBe(true);
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${SHA}\n`);
  });
});

describe('deploy-directory', () => {
  it('writes <directory>/<sha>/ and <directory>/latest, keeps and rolls back per folder, and leaves the target folder alone', async () => {
    const xenBefore = await bareGit(repo, ['rev-parse', 'main:xen']);
    const shas = [shaOf('staging 1'), shaOf('staging 2'), shaOf('staging 3')];
    for (const [i, sha] of shas.entries()) {
      const { outcome } = await deploy(sha, { 'deploy-directory': 'xen-staging/eu', keep: '2' }, { minutes: 20 + i });
      expect(outcome.path).toBe(`xen-staging/eu/${sha}`);
    }
    expect(await showFile(repo, 'main', 'xen-staging/eu/latest')).toBe(`${shas[2]}\n`);
    const folders = new Set((await filesAt(repo, 'main', 'xen-staging/eu')).map((f) => f.split('/')[2]));
    expect(folders).toEqual(new Set([shas[1], shas[2], 'latest']));
    expect(await bareGit(repo, ['rev-parse', 'main:xen'])).toBe(xenBefore);
    expect(await filesAt(repo, 'main', `xen-staging/eu/${shas[2]}`)).toContain(`xen-staging/eu/${shas[2]}/www.xen.bz2`);

    const ctx = scratch.context({ sha: shas[2] ?? '', eventName: 'workflow_dispatch' });
    const inputs = { target: 'xen', ...sshDeployInputs(sshd), 'deploy-directory': 'xen-staging/eu' };
    const back = await checkedRollback(
      deployConfig(ctx, { ...inputs, 'rollback-to': shas[1] ?? '' }),
      ctx,
      shas[1] ?? '',
    );
    expect(back).toMatchObject({ deployed: true, path: `xen-staging/eu/${shas[1]}` });
    expect(await showFile(repo, 'main', 'xen-staging/eu/latest')).toBe(`${shas[1]}\n`);
    expect(await bareGit(repo, ['rev-parse', 'main:xen'])).toBe(xenBefore);
    // a sha of the xen folder is not in this one
    await expect(checkedRollback(deployConfig(ctx, { ...inputs, 'rollback-to': SHA }), ctx, SHA)).rejects.toThrow(
      /input `rollback-to`: .* is not deployed for target xen-staging\/eu/,
    );
  });
});

describe('a folder written by schema 1 (one image)', () => {
  it('gains a second image: both entries, SHA256SUMS covering the earlier files too', async () => {
    const legacy = await createBareRepo(path.join(scratch.base, 'legacy.git'));
    const [sha = ''] = await seedHistory(legacy, scratch.base, {
      target: 'xen',
      images: 1,
      imageBytes: 4096,
      start: T0,
    });
    const legacySshd = await startSshd({ repoPath: legacy });
    try {
      const ctx = scratch.context({ sha, commitTime: at(0) });
      const image = await makeImage(path.join(scratch.base, 'build', 'legacy'), {
        target: 'xen',
        seed: 'legacy second',
        config: `(* ${sha} *)\n`,
      });
      const config = deployConfig(ctx, {
        target: 'xen',
        ...sshDeployInputs(legacySshd),
        'deploy-image-name': 'mir-mirage.io',
      });
      const outcome = await checkedDeploy(config, ctx, image, SETUP);
      expect(outcome.deployed).toBe(true);
      const manifest = parseManifest(await showFile(legacy, 'main', `xen/${sha}/manifest.json`));
      expect(manifest?.schema).toBe(2);
      expect(Object.keys(manifest?.images ?? {})).toEqual(['hello.bz2', 'mir-mirage.io.xen.bz2']);
      const configSha = createHash('sha256').update(`(* ${sha} *)\n`).digest('hex');
      expect(manifest?.images['hello.bz2']?.files).toEqual({ 'config.ml': configSha });
      const host = await checkFolderLikeAHost(legacy, 'main', `xen/${sha}`, path.join(scratch.base, 'host-legacy'));
      expect(host.stored.code, host.stored.output).toBe(0);
      expect(host.stored.output).toContain('hello.bz2: OK');
    } finally {
      await legacySshd.stop();
    }
  });
});
