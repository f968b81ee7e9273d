/**
 * The deploy options whose only tests ran in the test's own process (issue 19), now through the
 * bundle as the runner runs it: `compression: gzip` and `none` checked the way a host checks a
 * folder, `keep` pruning in the deploy's commit, the size guard refusing before any connection, and
 * a host key that is not the pinned one (a man in the middle) refused before authenticating.
 * Deploy-only runs (`image-path`) of a stand-in artifact, so no opam is needed.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/deploy/manifest.js';
import { SIZE_LIMIT_BYTES } from '../../src/deploy/plan.js';
import { makeArtifact } from '../support/artifact.js';
import { createBareRepo, snapshotRepo } from '../support/bare-repo.js';
import {
  checkFolderLikeAHost,
  filesAt,
  history,
  shaOf,
  showFile,
  sshDeployInputs,
} from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import { FIXTURES, listTree, removeRun, runAction, type RunResult } from '../support/harness.js';
import { startSshd, type SshdServer } from '../support/sshd.js';
import { readFileSync } from 'node:fs';

const scratch = useDeployScratch('deploy-options-bundle-');
const runs: RunResult[] = [];
let repo: string;
let sshd: SshdServer;
let dist: string;

beforeAll(async () => {
  repo = await createBareRepo(join(scratch.base, 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
  dist = (
    await makeArtifact(join(scratch.base, 'artifact'), { target: 'xen', seed: 'options', sideFiles: ['hello.xl'] })
  ).dist;
}, 120_000);

afterAll(async () => {
  runs.forEach(removeRun);
  await sshd?.stop();
});

const pushPayload = JSON.parse(readFileSync(join(FIXTURES, 'events', 'push-default-branch.json'), 'utf8')) as Record<
  string,
  unknown
>;

/** A push of `sha` to the default branch, committed `day` days into 2026, deploying `image` (default: the artifact). */
async function deploy(sha: string, day: number, inputs: Record<string, string>, image = dist): Promise<RunResult> {
  const timestamp = new Date(Date.UTC(2026, 0, day)).toISOString();
  const result = await runAction({
    event: {
      name: 'push',
      payload: { ...pushPayload, after: sha, head_commit: { id: sha, timestamp } },
      ref: 'refs/heads/main',
      sha,
    },
    inputs: { target: 'xen', 'image-path': image, deploy: 'true', ...sshDeployInputs(sshd), ...inputs },
    timeoutMs: 120_000,
  });
  runs.push(result);
  expect(result.post?.exitCode).toBe(0);
  expect(listTree(result.dirs.runnerTemp)).toEqual([]);
  return result;
}

const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern, 'g')) ?? []).length;
const shas = {
  gzip: shaOf('opt gzip'),
  none: shaOf('opt none'),
  b: shaOf('opt b'),
  c: shaOf('opt c'),
  d: shaOf('opt d'),
};

describe('compression through the bundle, as a host checks the folder', () => {
  it.each([
    ['gzip', shas.gzip, 1, 'hello.xen.gz', true],
    ['none', shas.none, 2, 'hello.xen', false],
  ] as const)('compression: %s', async (compression, sha, day, stored, unpackedLine) => {
    const result = await deploy(sha, day, { compression });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs).toMatchObject({ deployed: 'true', 'deploy-path': `xen/${sha}` });
    expect(await filesAt(repo, 'main', `xen/${sha}`)).toContain(`xen/${sha}/${stored}`);
    const manifest = parseManifest(await showFile(repo, 'main', `xen/${sha}/manifest.json`));
    expect(manifest?.images[stored]).toMatchObject({ compression });
    const sums = await showFile(repo, 'main', `xen/${sha}/SHA256SUMS`);
    expect(sums.includes('# unpacked: ')).toBe(unpackedLine);
    const host = await checkFolderLikeAHost(repo, 'main', `xen/${sha}`, join(scratch.base, `host-${compression}`));
    expect(host.stored.code, host.stored.output).toBe(0);
    // With nothing compressed there is no `# unpacked:` line to check (sha256sum finds none and says so).
    if (unpackedLine) expect(host.unpacked.code, host.unpacked.output).toBe(0);
    expect(host.stored.output).toContain(`${stored}: OK`);
  });
});

describe('keep through the bundle', () => {
  it('keep: 2 prunes the oldest folders in the deploy commit, keeping the two newest', async () => {
    expect((await deploy(shas.b, 3, {})).main.exitCode).toBe(0);
    expect((await deploy(shas.c, 4, {})).main.exitCode).toBe(0);
    const folders = async () => new Set((await filesAt(repo, 'main', 'xen')).map((f) => f.split('/')[1]));
    expect(await folders()).toContain(shas.b);
    const commits = (await history(repo)).length;
    const result = await deploy(shas.d, 5, { keep: '2' });
    expect(result.main.exitCode, result.log).toBe(0);
    expect((await history(repo)).length).toBe(commits + 1);
    expect([...(await folders())].sort()).toEqual([shas.c, shas.d, 'latest'].sort());
    expect(await showFile(repo, 'main', 'xen/latest')).toBe(`${shas.d}\n`);
  });
});

describe('refusals through the bundle, before any connection', () => {
  it("an image over GitHub's 100 MiB limit with compression: none, suggesting xz", async () => {
    const huge = await makeArtifact(join(scratch.base, 'huge'), {
      target: 'xen',
      seed: 'huge',
      size: SIZE_LIMIT_BYTES + 1,
    });
    const before = await snapshotRepo(repo);
    const connections = count(sshd.logs(), /Connection from/);
    const result = await deploy(shaOf('opt huge'), 6, { compression: 'none' }, huge.dist);
    expect(result.main.exitCode).toBe(1);
    expect(result.errors.join('\n')).toMatch(
      /^input `compression`: the compressed image is 100\.0 MiB, over GitHub's hard limit of 100 MiB .*compression: xz/m,
    );
    expect(count(sshd.logs(), /Connection from/)).toBe(connections);
    expect(await snapshotRepo(repo)).toBe(before);
  });

  it('a host key that is not the pinned one (a man in the middle), before authenticating', async () => {
    const before = await snapshotRepo(repo);
    const accepted = count(sshd.logs(), /Accepted publickey/);
    const sessions = sshd.commands().length;
    const result = await deploy(shaOf('opt mitm'), 7, { 'known-hosts': sshd.otherKnownHosts });
    expect(result.main.exitCode).toBe(1);
    expect(result.outputs.deployed).toBeUndefined();
    expect(result.errors.join('\n')).toMatch(
      /presented \(ED25519 SHA256:[A-Za-z0-9+/]+\) does not match the pinned keys.*`known-hosts`/s,
    );
    expect(count(sshd.logs(), /Accepted publickey/)).toBe(accepted);
    expect(sshd.commands()).toHaveLength(sessions);
    expect(await snapshotRepo(repo)).toBe(before);
  });
});
