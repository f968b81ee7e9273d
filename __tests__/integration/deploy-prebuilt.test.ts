/**
 * The two-job pattern through the bundle: a build job (no secret) leaves `dist/` with
 * `dist/mirage-deploy/`; a deploy job that only downloaded that folder deploys it with `image-path`,
 * running no opam and no build, and writes the same folder contents a one-job run writes.
 */
import { appendFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/deploy/manifest.js';
import { parseBuildRecord } from '../../src/mirage/prebuilt.js';
import { createBareRepo, snapshotRepo } from '../support/bare-repo.js';
import { bareGit, showFile, sshDeployInputs } from '../support/deploy-scenario.js';
import { commands, useFixtureScope } from '../support/fixture-action.js';
import type { RunOptions, RunResult } from '../support/harness.js';
import { startSshd, type SshdServer } from '../support/sshd.js';
import { summaryValues } from '../support/summary-table.js';

/** The push fixture's commit, and another one for the one-job run to compare with. */
const SHA = '0123456789abcdef0123456789abcdef01234567';
const OTHER = '89abcdef0123456789abcdef0123456789abcdef';

const fixture = useFixtureScope('deploy-prebuilt-');
let repo: string;
let sshd: SshdServer;
/** The `dist/` folder the build job left, as an artifact holds it. */
let artifact: string;

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
});

function buildJob(inputs: Record<string, string>, options: Partial<RunOptions> = {}): Promise<RunResult> {
  return fixture.runExample({
    workspace: 'build-workspace',
    inputs: { target: 'xen', cache: 'false', ...inputs },
    ...options,
  });
}

/** A deploy job: a fresh workspace holding only the downloaded artifact at `dist/`. */
function deployJob(inputs: Record<string, string>, options: Partial<RunOptions> = {}): Promise<RunResult> {
  const workspace = join(fixture.base, 'deploy-workspace');
  rmSync(workspace, { recursive: true, force: true });
  mkdirSync(workspace, { recursive: true });
  cpSync(artifact, join(workspace, 'dist'), { recursive: true });
  return fixture.run({
    workspace,
    inputs: { target: 'xen', 'image-path': 'dist', deploy: 'true', ...sshDeployInputs(sshd), ...inputs },
    timeoutMs: 120_000,
    ...options,
  });
}

/**
 * `name blob` of each file of a deploy folder but the manifest (it says when and from which sha it
 * was built) and SHA256SUMS (which hashes the manifest), plus SHA256SUMS's lines of the other files.
 */
async function blobs(folder: string): Promise<string[]> {
  const out = await bareGit(repo, ['ls-tree', 'main', `${folder}/`]);
  const sums = (await showFile(repo, 'main', `${folder}/SHA256SUMS`)).split('\n');
  const files = out
    .split('\n')
    .filter((l) => l !== '' && !l.endsWith('/manifest.json') && !l.endsWith('/SHA256SUMS'))
    .map((l) => {
      const [meta, path] = l.split('\t');
      return `${path?.slice(folder.length + 1)} ${meta?.split(' ')[2]}`;
    });
  return [...files, ...sums.filter((l) => l !== '' && !l.endsWith('  manifest.json'))];
}

describe('image-path: deploy what a build job left', () => {
  it('the build job leaves dist/mirage-deploy/ with the record, config, side files and lock file', async () => {
    const built = await buildJob({});
    expect(built.main.exitCode, built.log).toBe(0);
    artifact = join(built.dirs.workspace, 'hello', 'dist');
    const handover = join(artifact, 'mirage-deploy');
    expect(readdirSync(handover).sort()).toEqual(
      [
        'build.json',
        'config.ml',
        'hello-xen.opam',
        'hello-xen.opam.locked',
        'hello.buildinfo.json',
        'hello.cdx.json',
        'hello.switch-export',
        'hello.xl',
        'hello.xl.in',
        'hello_libvirt.xml',
      ].sort(),
    );
    const record = parseBuildRecord(readFileSync(join(handover, 'build.json'), 'utf8'));
    expect(record).toMatchObject({
      target: 'xen',
      name: 'hello',
      image: 'hello.xen',
      sha256: built.outputs['image-sha256'],
      size: Number(built.outputs['image-size']),
      versions: { mirageVersion: '4.11.1+stand-in', ocamlVersion: built.outputs['ocaml-version'] },
      lockFile: 'hello-xen.opam.locked',
      switchExport: 'hello.switch-export',
    });
    expect(built.outputs.sbom).toBe(join(handover, 'hello.cdx.json'));
  }, 300_000);

  it('the deploy job runs no opam and no build, and deploys the same files (SBOM included) a one-job run does', async () => {
    const deployed = await deployJob({});
    expect(deployed.main.exitCode, deployed.log).toBe(0);
    expect(commands(deployed.log).filter((c) => /\b(opam|mirage|make)\b/.test(c))).toEqual([]);
    expect(deployed.outputs).toMatchObject({ deployed: 'true', 'deploy-path': `xen/${SHA}` });
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${SHA}\n`);
    // The summary tells this deploy-only job from the build job of the same target.
    expect(deployed.summary).toContain('<h3>mirage-deploy: xen (deploying dist)</h3>');
    const summary = summaryValues(deployed.summary);
    expect(summary.image).toMatch(/\/dist\/hello\.xen \(prebuilt\)$/);
    expect(summary.compressed).toMatch(/ as hello\.xen\.bz2$/);
    expect(summary['deploy time']).toMatch(/^\d+\.\d s$/);

    const oneJob = await buildJob({ deploy: 'true', ...sshDeployInputs(sshd) }, { sha: OTHER });
    expect(oneJob.main.exitCode, oneJob.log).toBe(0);
    expect(await blobs(`xen/${SHA}`)).toEqual(await blobs(`xen/${OTHER}`));
    const viaArtifact = parseManifest(await showFile(repo, 'main', `xen/${SHA}/manifest.json`));
    const direct = parseManifest(await showFile(repo, 'main', `xen/${OTHER}/manifest.json`));
    // the same image entry: image, hashes, files, versions (not when or by which run it was built)
    const entry = (m: typeof direct) => ({ ...m?.images['hello.xen.bz2'], builtAt: '', run: { url: '' } });
    expect(entry(viaArtifact)).toEqual(entry(direct));
    expect(Object.keys(entry(direct))).toContain('versions');
    expect(entry(direct).sbom).toEqual({
      lockFile: 'hello.opam.locked',
      switchExport: 'hello.switch-export',
      cyclonedx: 'hello.cdx.json',
      packages: expect.any(Number),
    });
    expect(Object.keys(entry(direct).files ?? {})).toEqual(
      expect.arrayContaining(['hello.opam.locked', 'hello.switch-export', 'hello.cdx.json', 'hello.buildinfo.json']),
    );
  }, 300_000);

  it('a pull request deploys nothing and says why', async () => {
    const before = await snapshotRepo(repo);
    const result = await deployJob({}, { event: 'pull_request-same-repo' });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs.deployed).toBe('false');
    expect(await snapshotRepo(repo)).toBe(before);
  }, 120_000);

  it('refuses an image that is not what the build hashed, a wrong target, and a folder without the record', async () => {
    const before = await snapshotRepo(repo);
    const image = join(artifact, 'hello.xen');
    const original = readFileSync(image);
    appendFileSync(image, 'tampered');
    try {
      const tampered = await deployJob({});
      expect(tampered.main.exitCode).toBe(1);
      expect(tampered.errors.join('\n')).toMatch(
        /^input `image-path`: .*hello\.xen has sha256 [0-9a-f]{64}, but the build recorded/m,
      );
    } finally {
      writeFileSync(image, original);
    }
    const wrongTarget = await deployJob({ target: 'hvt' });
    expect(wrongTarget.main.exitCode).toBe(1);
    expect(wrongTarget.errors.join('\n')).toContain(
      'input `target`: is `hvt`, but the image in `image-path` was built for `xen`',
    );

    const missing = await deployJob({ 'image-path': 'nowhere' });
    expect(missing.main.exitCode).toBe(1);
    expect(missing.errors.join('\n')).toMatch(/^input `image-path`: `nowhere` does not exist/m);
    expect(await snapshotRepo(repo)).toBe(before);
  }, 120_000);

  it('a manual run given rollback-to moves latest and deploys nothing, with image-path still set (one deploy job for both)', async () => {
    const rolled = await deployJob({ 'rollback-to': OTHER }, { event: 'workflow_dispatch' });
    expect(rolled.main.exitCode, rolled.log).toBe(0);
    expect(rolled.outputs).toMatchObject({ deployed: 'true', 'deploy-path': `xen/${OTHER}` });
    expect(rolled.outputs.image).toBeUndefined();
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${OTHER}\n`);
  }, 120_000);
});
