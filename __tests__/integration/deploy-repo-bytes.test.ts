// Flat cost: what the server sends (upload-pack, counted by the sshd's forced command) during one
// deploy into a repository holding 0 earlier images, and into one holding 40.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBareRepo } from '../support/bare-repo.js';
import { seedHistory } from '../support/deploy-history.js';
import {
  deployConfig,
  filesAt,
  makeImage,
  SETUP,
  shaOf,
  showFile,
  sshDeployInputs,
  checkedDeploy,
} from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import { startSshd } from '../support/sshd.js';

const EARLIER_IMAGE_BYTES = 256 * 1024;
const START = Date.parse('2026-05-01T00:00:00Z');

const scratch = useDeployScratch('deploy-bytes-');

/** Bytes upload-pack sent and sessions opened for one deploy into a repository with `earlier` images. */
async function measure(earlier: number) {
  const repo = await createBareRepo(path.join(scratch.base, `with-${earlier}`, 'deployment.git'));
  await seedHistory(repo, scratch.base, {
    target: 'xen',
    images: earlier,
    imageBytes: EARLIER_IMAGE_BYTES,
    start: START,
  });
  const sshd = await startSshd({ repoPath: repo });
  try {
    const sha = shaOf(`measured ${earlier}`);
    const ctx = scratch.context({ sha, commitTime: new Date(START + 86_400_000).toISOString() });
    const config = deployConfig(ctx, { target: 'xen', ...sshDeployInputs(sshd) });
    const image = await makeImage(path.join(scratch.base, `image-${earlier}`), { target: 'xen', seed: 'measured' });
    sshd.resetCounters();
    const sessionsBefore = sshd.commands().length;
    const outcome = await checkedDeploy(config, ctx, image, SETUP);
    expect(outcome.deployed).toBe(true);
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${sha}\n`);
    const folders = new Set((await filesAt(repo, 'main', 'xen')).map((f) => f.split('/')[1]));
    expect(folders.size).toBe(earlier + 2); // the earlier ones, this one, latest
    const sessions = sshd.commands().slice(sessionsBefore);
    return { bytes: sshd.uploadPackBytes(), uploadPacks: sessions.filter((c) => c.includes('upload-pack')).length };
  } finally {
    await sshd.stop();
  }
}

/**
 * What an earlier image may add to a deploy's download: its folder's tree (five entries at most)
 * and its line in the `<target>/` listing, both needed to write the new tree. The 1.3x
 * cannot hold at these sizes: the 0-image baseline is under 1 KiB, and the listing of 40 folders
 * alone is over 2 KiB with any git layout (see docs/benchmarks.md).
 */
const TREE_BYTES_PER_EARLIER_IMAGE = 256;

describe('bytes from the server per deploy', () => {
  it('stay flat from 0 to 40 earlier images: no earlier image, only their trees', async () => {
    const none = await measure(0);
    const forty = await measure(40);
    console.log(
      `upload-pack bytes: 0 earlier images ${none.bytes} (${none.uploadPacks} sessions), ` +
        `40: ${forty.bytes} (${forty.uploadPacks} sessions)`,
    );
    expect(forty.bytes).toBeLessThan(EARLIER_IMAGE_BYTES); // not a single earlier image came down
    expect(forty.bytes).toBeLessThanOrEqual(1.3 * none.bytes + 40 * TREE_BYTES_PER_EARLIER_IMAGE);
    // the tip, then the manifest of the build `latest` names: a fixed number of requests, never
    // one per image (`latest` itself is recognised by its blob id, not downloaded)
    expect(none.uploadPacks).toBe(1);
    expect(forty.uploadPacks).toBe(2);
  }, 240_000);
});
