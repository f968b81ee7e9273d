// `keep-history`: deploys (the bundled deploy phase, one `node` process each) behind the real sshd
// cut the branch's history to a new root, one after the other and three at once, without losing a
// folder another job pushed; the host updater that followed the old history follows the new one.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { runWorker, useDeployServer, type WorkerJob } from '../support/deploy-bundle.js';
import {
  bareGit,
  deployConfig,
  filesAt,
  history,
  makeImage,
  SETUP,
  shaOf,
  showFile,
  sshDeployInputs,
} from '../support/deploy-scenario.js';
import { recordingRestart, restarts, runPull } from '../support/host-pull.js';
import { writeKeyFile } from '../support/sshd.js';

const server = useDeployServer('deploy-keep-history-', '2026-05-01T08:00:00Z');
const { scratch, at } = server;

let builds = 0;
async function job(sha: string, minutes: number, inputs: Record<string, string> = {}): Promise<WorkerJob> {
  const ctx = scratch.context({ sha, commitTime: at(minutes) });
  const config = deployConfig(ctx, {
    target: 'unix',
    keep: '3',
    'keep-history': '4',
    ...sshDeployInputs(server.sshd),
    ...inputs,
  });
  const image = await makeImage(path.join(scratch.base, 'builds', `b-${++builds}`), {
    target: 'unix',
    seed: `keep-history ${sha}`,
    bytes: 16 * 1024,
  });
  return { config, ctx, image, setup: SETUP };
}

async function deployed(sha: string, minutes: number) {
  const run = await runWorker(server.bundle, await job(sha, minutes), scratch.base);
  expect(run.result, run.log).toMatchObject({ ok: true, outcome: { deployed: true } });
  return run;
}

/** A host following `unix/` with a read-only key; `pull()` runs the updater once. */
async function hostUpdater() {
  const dir = path.join(scratch.base, 'host');
  const key = await writeKeyFile(path.join(scratch.base, 'read-only-key'), server.sshd.readOnlyKey);
  const knownHosts = path.join(scratch.base, 'known_hosts');
  await writeFile(knownHosts, `${server.sshd.knownHosts}\n`);
  const log = path.join(dir, 'restarts.log');
  const args = ['--repository', server.sshd.url, '--ssh-key', key, '--known-hosts', knownHosts, '--directory', 'unix'];
  const pull = async () => {
    const run = await runPull([...args, '--state', path.join(dir, 'state'), '--restart', recordingRestart(log)], {
      home: scratch.base,
    });
    expect(run.code, run.output).toBe(0);
    return restarts(log).map((r) => r.sha);
  };
  return { pull };
}

const refs = () => bareGit(server.repo, ['for-each-ref', '--format=%(refname) %(objectname)']);

describe('keep-history: 4 with keep: 3', () => {
  it('8 deploys then 3 at once: at most 6 commits, every folder kept, fsck clean, the host follows', async () => {
    const host = await hostUpdater();
    const shas = Array.from({ length: 11 }, (_, i) => shaOf(`history ${i}`));
    const counts: number[] = [];
    for (const [i, sha] of shas.slice(0, 2).entries()) {
      await deployed(sha, i);
      counts.push((await history(server.repo)).length);
    }
    expect(await host.pull()).toEqual([shas[1]]);
    const logs: string[] = [];
    let cutTip = '';
    for (const [i, sha] of shas.slice(2, 8).entries()) {
      if (i === 3) cutTip = (await bareGit(server.repo, ['rev-parse', 'main'])).trim();
      logs.push((await deployed(sha, i + 2)).log);
      counts.push((await history(server.repo)).length);
      // keep: 3 holds on the tip as before: the newest three folders and latest
      const folders = new Set((await filesAt(server.repo, 'main', 'unix')).map((f) => f.split('/')[1]));
      expect(folders).toEqual(new Set([...shas.slice(Math.max(0, i), i + 3), 'latest']));
    }
    // 1, 2, …, 5 commits; then a root holding the old tip's tree with the deploy's commit on it
    expect(counts).toEqual([1, 2, 3, 4, 5, 2, 3, 4]);
    expect(logs[3]).toMatch(/keep-history 4: `main` had more than 4 commits; this commit starts its history again/);
    const commits = await history(server.repo);
    const root = commits.at(-1)?.[0] ?? '';
    expect(commits.map((c) => c.length)).toEqual([2, 2, 2, 1]);
    expect(await bareGit(server.repo, ['log', '-1', '--format=%B', root])).toMatch(/history cut by keep-history 4/);
    // the root holds the tree of the tip it replaced, unchanged
    const treeOf = async (rev: string) => (await bareGit(server.repo, ['rev-parse', `${rev}^{tree}`])).trim();
    expect(await treeOf(root)).toBe(await treeOf(cutTip));
    expect(await host.pull()).toEqual([shas[1], shas[7]]);

    const racing = shas.slice(8);
    const runs = await Promise.all(
      (await Promise.all(racing.map((sha, i) => job(sha, 20 + i)))).map((j) =>
        runWorker(server.bundle, j, scratch.base),
      ),
    );
    for (const run of runs) expect(run.result, run.log).toMatchObject({ ok: true, outcome: { deployed: true } });
    expect((await history(server.repo)).length).toBeLessThanOrEqual(6);
    const files = await filesAt(server.repo, 'main', 'unix');
    for (const sha of racing) expect(files).toContain(`unix/${sha}/manifest.json`);
    expect(await showFile(server.repo, 'main', 'unix/latest')).toBe(`${racing[2]}\n`);
    await bareGit(server.repo, ['fsck', '--strict', '--no-dangling']);
    expect(await host.pull()).toEqual([shas[1], shas[7], racing[2]]);
  }, 400_000);

  it('a branch that refuses force pushes: an error naming the protection and keep-history, nothing pushed', async () => {
    await bareGit(server.repo, ['config', 'receive.denyNonFastForwards', 'true']);
    try {
      // the tip holds fewer than 5 commits after the race above: deploy until the next one cuts
      let before = '';
      let run;
      for (let i = 0; i < 6 && (run === undefined || run.result.ok); i++) {
        before = await refs();
        run = await runWorker(server.bundle, await job(shaOf(`protected ${i}`), 40 + i), scratch.base);
      }
      if (run === undefined) throw new Error('no deploy ran');
      expect(run.result.ok, run.log).toBe(false);
      const error = run.result.ok ? '' : run.result.error;
      expect(error).toMatch(/does not take force pushes/);
      expect(error).toMatch(/`keep-history`/);
      expect(run.log).not.toMatch(/push rejected \(/);
      // git's receive-pack keeps the refused pack's objects, unreachable: the refs are what a push changes
      expect(await refs()).toBe(before);
    } finally {
      await bareGit(server.repo, ['config', '--unset', 'receive.denyNonFastForwards']);
    }
  }, 400_000);
});
