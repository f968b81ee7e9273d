// A matrix pushing at once: 16 deploy processes (the bundled deploy phase, one `node` each) against
// one bare repository behind the real sshd; then server hooks that refuse once and always.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBareRepo, setPreReceiveHook, snapshotRepo } from '../support/bare-repo.js';
import { runWorker, useDeployServer, type WorkerJob } from '../support/deploy-bundle.js';
import { parseManifest } from '../../src/deploy/manifest.js';
import {
  bareGit,
  checkFolderLikeAHost,
  deployConfig,
  filesAt,
  history,
  makeImage,
  SETUP,
  shaOf,
  showFile,
  sshDeployInputs,
} from '../support/deploy-scenario.js';
import { startSshd } from '../support/sshd.js';

const server = useDeployServer('deploy-concurrency-', '2026-04-01T08:00:00Z');
const { scratch, at } = server;

let builds = 0;
async function job(
  target: string,
  sha: string,
  minutes: number,
  extra: Record<string, string> & { config?: string } = {},
  seed = `${target} ${sha}`,
): Promise<WorkerJob> {
  const ctx = scratch.context({ sha, commitTime: at(minutes) });
  const { config: configText, ...inputs } = extra;
  const config = deployConfig(ctx, {
    target,
    ...sshDeployInputs(server.sshd),
    ...inputs,
  });
  const image = await makeImage(path.join(scratch.base, 'builds', `${target}-${++builds}`), {
    target,
    seed,
    bytes: 16 * 1024,
    ...(configText === undefined ? {} : { config: configText }),
  });
  return { config, ctx, image, setup: SETUP };
}

describe('a matrix deploying at once', () => {
  const targets = ['unix', 'xen', 'qubes', 'hvt', 'spt', 'virtio', 'muen', 'genode'];
  const oneTarget = 'unikraft-qemu';
  const oneTargetShas = Array.from({ length: 8 }, (_, i) => shaOf(`qemu ${i}`));

  it('16 processes (8 targets, and 8 shas of one target): all land, latest names the newest, history linear', async () => {
    const jobs = [
      ...(await Promise.all(targets.map((t, i) => job(t, shaOf(`target ${t}`), i)))),
      // started in an order unrelated to their commit times, so that the oldest can finish last
      ...(await Promise.all(oneTargetShas.map((sha, i) => job(oneTarget, sha, (i * 5) % 8)))),
    ];
    const runs = await Promise.all(jobs.map((j) => runWorker(server.bundle, j, scratch.base)));

    for (const run of runs) {
      expect(run.result, run.log).toMatchObject({ ok: true, outcome: { deployed: true } });
      expect(run.code).toBe(0);
    }
    // the jobs did overlap: some push lost a race and was redone on the new tip
    expect(runs.some((r) => /push rejected \(/.test(r.log))).toBe(true);

    for (const target of targets) {
      const sha = shaOf(`target ${target}`);
      expect(await showFile(server.repo, 'main', `${target}/latest`)).toBe(`${sha}\n`);
      expect(await filesAt(server.repo, 'main', `${target}/${sha}`)).toContain(`${target}/${sha}/manifest.json`);
    }
    const folders = new Set((await filesAt(server.repo, 'main', oneTarget)).map((f) => f.split('/')[1]));
    expect(folders).toEqual(new Set([...oneTargetShas, 'latest']));
    const newest = oneTargetShas[oneTargetShas.findIndex((_, i) => (i * 5) % 8 === 7)];
    expect(await showFile(server.repo, 'main', `${oneTarget}/latest`)).toBe(`${newest}\n`);

    const commits = await history(server.repo);
    expect(commits.length).toBe(16);
    expect(commits.map((c) => c.length)).toEqual([...Array<number>(15).fill(2), 1]); // each has one parent but the root
    expect((await bareGit(server.repo, ['for-each-ref', '--format=%(refname)'])).trim()).toBe('refs/heads/main');
  }, 300_000);
});

describe('several images of one folder at once', () => {
  it('8 processes (2 shas x 2 images in one folder, and 4 other folders): every image keeps its entry, history linear', async () => {
    const multiRepo = await createBareRepo(path.join(scratch.base, 'multi.git'));
    const multiSshd = await startSshd({ repoPath: multiRepo });
    try {
      const inputs = (extra: Record<string, string>) => ({ ...sshDeployInputs(multiSshd), ...extra });
      const shared = [shaOf('multi 1'), shaOf('multi 2')];
      const names = ['mir-openmirage.org', 'mir-mirage.io'];
      const others = ['xen-staging', 'hvt-eu', 'hvt/us', 'qubes'];
      const config = 'let () = register "www" []\n';
      const jobs = await Promise.all([
        ...shared.flatMap((sha, i) =>
          names.map((name) =>
            job('xen', sha, 300 + i, { ...inputs({ 'deploy-image-name': name }), config }, `${sha} ${name}`),
          ),
        ),
        ...others.map((dir, i) => job('xen', shaOf(`other ${dir}`), 300 + i, inputs({ 'deploy-directory': dir }))),
      ]);
      const runs = await Promise.all(jobs.map((j) => runWorker(server.bundle, j, scratch.base)));
      for (const run of runs) expect(run.result, run.log).toMatchObject({ ok: true, outcome: { deployed: true } });
      expect(runs.some((r) => /push rejected \(/.test(r.log))).toBe(true);

      for (const sha of shared) {
        const files = await filesAt(multiRepo, 'main', `xen/${sha}`);
        for (const name of names) expect(files).toContain(`xen/${sha}/${name}.xen.bz2`);
        const manifest = parseManifest(await showFile(multiRepo, 'main', `xen/${sha}/manifest.json`));
        expect(Object.keys(manifest?.images ?? {})).toEqual(names.map((n) => `${n}.xen.bz2`).sort());
        const host = await checkFolderLikeAHost(
          multiRepo,
          'main',
          `xen/${sha}`,
          path.join(scratch.base, `host-${sha}`),
        );
        expect(host.stored.code, host.stored.output).toBe(0);
        expect(host.unpacked.code, host.unpacked.output).toBe(0);
      }
      expect(await showFile(multiRepo, 'main', 'xen/latest')).toBe(`${shared[1]}\n`);
      for (const dir of others) {
        expect(await showFile(multiRepo, 'main', `${dir}/latest`)).toBe(`${shaOf(`other ${dir}`)}\n`);
      }
      const commits = await history(multiRepo);
      expect(commits.map((c) => c.length)).toEqual([...Array<number>(7).fill(2), 1]);
    } finally {
      await multiSshd.stop();
    }
  }, 300_000);
});

describe('server hooks', () => {
  it('a push refused once (a concurrent lock) is redone on the new tip and lands', async () => {
    await setPreReceiveHook(server.repo, 'reject-once');
    try {
      const before = (await history(server.repo)).length;
      const sha = shaOf('after a lock');
      const run = await runWorker(server.bundle, await job('xen', sha, 100), scratch.base);
      expect(run.result, run.log).toMatchObject({ ok: true, outcome: { deployed: true } });
      expect(run.log).toMatch(/push rejected \(the ref was locked\)/);
      expect(await showFile(server.repo, 'main', 'xen/latest')).toBe(`${sha}\n`);
      expect((await history(server.repo)).length).toBe(before + 1);
    } finally {
      await setPreReceiveHook(server.repo, 'none');
    }
  }, 120_000);

  it('a push always refused (protected branch) fails at once with the reason and a hint', async () => {
    await setPreReceiveHook(server.repo, 'reject-always');
    try {
      const before = await snapshotRepo(server.repo);
      const run = await runWorker(server.bundle, await job('xen', shaOf('protected'), 200), scratch.base);
      expect(run.code).toBe(1);
      expect(run.result.ok).toBe(false);
      const error = run.result.ok ? '' : run.result.error;
      expect(error).toMatch(/refused the push to `main`: \[remote rejected\] \(pre-receive hook declined\)/);
      expect(error).toMatch(/GH006: Protected branch update failed for refs\/heads\/main/);
      expect(error).toMatch(/deploy-repository-branch/);
      expect(run.log).not.toMatch(/push rejected \(/); // no retry of a permanent refusal
      expect(await snapshotRepo(server.repo)).toBe(before);
    } finally {
      await setPreReceiveHook(server.repo, 'none');
    }
  }, 120_000);
});
