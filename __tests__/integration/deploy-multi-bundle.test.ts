/**
 * Issue 13's acceptance through the bundle: the 2013 matrix's two Xen sites built from one commit
 * by two jobs started at once (setup from the offline opam fixture, build of example/hello, deploy
 * over SSH to the real sshd), then a re-run of one, then one re-deployed with a new image.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/deploy/manifest.js';
import { createBareRepo, snapshotRepo } from '../support/bare-repo.js';
import {
  bareGit,
  checkFolderLikeAHost,
  filesAt,
  history,
  showFile,
  sshDeployInputs,
} from '../support/deploy-scenario.js';
import { useFixtureScope } from '../support/fixture-action.js';
import type { RunResult } from '../support/harness.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

/** The push fixture's commit. */
const SHA = '0123456789abcdef0123456789abcdef01234567';
const SITES = {
  'mir-openmirage.org': '--ipv4=46.43.42.147/25 --ipv4-gateway=46.43.42.129',
  'mir-mirage.io': '--ipv4=46.43.42.146/25 --ipv4-gateway=46.43.42.129',
} as const;
type Site = keyof typeof SITES;

const fixture = useFixtureScope('deploy-multi-bundle-');
let repo: string;
let sshd: SshdServer;
/** The first mir-mirage.io job, which the second test re-runs and replaces. */
let io: RunResult;

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'mirage-www-deployment.git'));
  sshd = await startSshd({ repoPath: repo });
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
});

/** One matrix job: its own checkout and opam root, as on a hosted runner. */
async function job(site: Site, extra: Record<string, string> = {}, change?: string): Promise<RunResult> {
  return fixture.runExample({
    workspace: join(site, 'workspace'),
    opamRoot: join(site, 'opam-root'),
    prepare: (dir) => {
      if (change !== undefined) appendFileSync(join(dir, 'unikernel.ml'), change);
    },
    inputs: {
      target: 'xen',
      cache: 'false',
      deploy: 'true',
      ...sshDeployInputs(sshd),
      'deploy-image-name': site,
      'boot-args': SITES[site],
      ...extra,
    },
  });
}

// each image's own: boot arguments, image, side files, then its SBOM files and build record
const FILES = [
  'args',
  'xen.bz2',
  'xl',
  'xl.in',
  '_libvirt.xml',
  'opam.locked',
  'switch-export',
  'cdx.json',
  'buildinfo.json',
];
const sideOf = (site: Site) => FILES.map((f) => (f.startsWith('_') ? `${site}${f}` : `${site}.${f}`));

describe('two Xen sites of one commit through the bundle', () => {
  it('two jobs started at once both land: images, side files, .args, one config.ml and manifest, SHA256SUMS, latest', async () => {
    const runs = await Promise.all([job('mir-openmirage.org'), job('mir-mirage.io')]);
    for (const run of runs) {
      expect(run.main.exitCode, run.log).toBe(0);
      expect(run.outputs).toMatchObject({ deployed: 'true', 'deploy-path': `xen/${SHA}` });
    }
    const [org] = runs as [RunResult, RunResult];
    io = runs[1] as RunResult;
    expect(await filesAt(repo, 'main', `xen/${SHA}`)).toEqual(
      ['SHA256SUMS', 'config.ml', 'manifest.json', ...sideOf('mir-openmirage.org'), ...sideOf('mir-mirage.io')]
        .map((f) => `xen/${SHA}/${f}`)
        .sort(),
    );
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${SHA}\n`);
    expect(await showFile(repo, 'main', `xen/${SHA}/mir-mirage.io.args`)).toBe(
      '--ipv4=46.43.42.146/25\n--ipv4-gateway=46.43.42.129\n',
    );
    expect(await showFile(repo, 'main', `xen/${SHA}/mir-openmirage.org.args`)).toBe(
      '--ipv4=46.43.42.147/25\n--ipv4-gateway=46.43.42.129\n',
    );
    const manifest = parseManifest(await showFile(repo, 'main', `xen/${SHA}/manifest.json`));
    expect(manifest?.images['mir-openmirage.org.xen.bz2']).toMatchObject({
      builtName: 'hello',
      sha256: org.outputs['image-sha256'],
      bootArgs: ['--ipv4=46.43.42.147/25', '--ipv4-gateway=46.43.42.129'],
    });
    expect(manifest?.images['mir-mirage.io.xen.bz2']).toMatchObject({
      sha256: io.outputs['image-sha256'],
      bootArgs: ['--ipv4=46.43.42.146/25', '--ipv4-gateway=46.43.42.129'],
    });
    const host = await checkFolderLikeAHost(repo, 'main', `xen/${SHA}`, join(fixture.base, 'host-1'));
    expect(host.stored.code, host.stored.output).toBe(0);
    expect(host.unpacked.code, host.unpacked.output).toBe(0);
    expect(host.unpacked.output).toBe('mir-mirage.io.xen: OK\nmir-openmirage.org.xen: OK\n');
    expect((await history(repo)).length).toBe(2);
  }, 600_000);

  it('re-running one changes nothing; re-deploying one with a new image replaces only its files', async () => {
    const before = await snapshotRepo(repo);
    const again = await job('mir-mirage.io');
    expect(again.main.exitCode, again.log).toBe(0);
    expect(again.summary).toMatch(/already up to date/);
    expect(await snapshotRepo(repo)).toBe(before);

    const blobs = async (site: Site) =>
      Promise.all(sideOf(site).map(async (f) => (await bareGit(repo, ['rev-parse', `main:xen/${SHA}/${f}`])).trim()));
    const orgBefore = await blobs('mir-openmirage.org');
    const ioBefore = await blobs('mir-mirage.io');
    // a new image of the same commit (a re-run after a dependency changed, say) and a new gateway
    const rebuilt = await job(
      'mir-mirage.io',
      { 'boot-args': '--ipv4=46.43.42.146/25 --ipv4-gateway=46.43.42.130' },
      'let rebuilt = "a new image of the same commit"\n',
    );
    expect(rebuilt.main.exitCode, rebuilt.log).toBe(0);
    expect(rebuilt.outputs['image-sha256']).not.toBe(io.outputs['image-sha256']);
    expect(await blobs('mir-openmirage.org')).toEqual(orgBefore);
    const ioAfter = await blobs('mir-mirage.io');
    expect(ioAfter[0]).not.toBe(ioBefore[0]); // the .args
    expect(ioAfter[1]).not.toBe(ioBefore[1]); // the image
    const manifest = parseManifest(await showFile(repo, 'main', `xen/${SHA}/manifest.json`));
    expect(manifest?.images['mir-mirage.io.xen.bz2']?.sha256).toBe(rebuilt.outputs['image-sha256']);
    // the diff is against the same image (by name) in latest's folder, not the folder's other one
    const sizeBefore = Number(io.outputs['image-size']);
    const sizeAfter = Number(rebuilt.outputs['image-size']);
    expect(JSON.parse(rebuilt.outputs.diff ?? '')).toMatchObject({
      first: false,
      previous: SHA,
      size: { before: sizeBefore, after: sizeAfter, change: sizeAfter - sizeBefore },
      packages: { added: [], removed: [], upgraded: [], downgraded: [] },
    });
    expect(await showFile(repo, 'main', `xen/${SHA}/mir-mirage.io.args`)).toBe(
      '--ipv4=46.43.42.146/25\n--ipv4-gateway=46.43.42.130\n',
    );
    const host = await checkFolderLikeAHost(repo, 'main', `xen/${SHA}`, join(fixture.base, 'host-2'));
    expect(host.stored.code, host.stored.output).toBe(0);
    expect((await history(repo)).length).toBe(3);
  }, 600_000);
});
