// Flat cost: what the server sends (upload-pack, counted by the sshd's forced command) during one
// deploy into a repository holding 1 earlier image, and into one holding 40.
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
 * What an earlier folder may add to a deploy's download: its one entry in the `<directory>/`
 * listing (its name, 40 hex digits, and its tree's id). The deploy fetches the tip's commit alone,
 * then by id the root tree, `<directory>/`'s tree and the folders it reads, as the host updater
 * does; no tree of any other folder comes down.
 */
const BYTES_PER_EARLIER_FOLDER = 64;

describe('bytes from the server per deploy', () => {
  it('grow by one listing entry per earlier folder: no earlier image, no tree of a folder not read', async () => {
    const one = await measure(1);
    const forty = await measure(40);
    console.log(
      `upload-pack bytes: 1 earlier image ${one.bytes} (${one.uploadPacks} sessions), ` +
        `40: ${forty.bytes} (${forty.uploadPacks} sessions)`,
    );
    expect(forty.bytes).toBeLessThan(EARLIER_IMAGE_BYTES); // not a single earlier image came down
    expect(forty.bytes).toBeLessThanOrEqual(one.bytes + 39 * BYTES_PER_EARLIER_FOLDER);
    // the tip's commit, the root tree, `<directory>/`, the folder `latest` names, its manifest: a
    // fixed number of requests, never one per image (`latest` is recognised by its blob id)
    expect(one.uploadPacks).toBe(5);
    expect(forty.uploadPacks).toBe(5);
  }, 240_000);
});
