#!/usr/bin/env node
// Benchmark: the size of a full clone of the deployment repository after N deploys (default 200)
// of one target with `keep: K`, without and with `keep-history: H`, over SSH to the real sshd of
// the tests (the bundled deploy phase, in this process). A clone, a mirror or a backup downloads
// every object reachable from the branch: without keep-history that is every image ever deployed,
// with it only the folders the tip keeps plus the last H deploys. Reports both clone sizes, the
// branch's commits, and the server's repository after `git gc` (unreachable objects pruned).
//
// Usage: node scripts/bench-history.mjs [--deploys N] [--kb N] [--keep K] [--keep-history H]
//        (npm run bench:history)
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadDeployBench } from './esbuild-node.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    deploys: { type: 'string', default: '200' },
    kb: { type: 'string', default: '256' },
    keep: { type: 'string', default: '10' },
    'keep-history': { type: 'string', default: '20' },
  },
});
const deploys = Number(values.deploys);
const imageBytes = Number(values.kb) * 1024;

const { m } = await loadDeployBench(ROOT, 'bench-history');

const { base, workspace, runnerTemp } = await m.makeDeployScratch('bench-history-');
const START = Date.parse('2026-01-01T00:00:00Z');
const print = (line) => process.stderr.write(`${line}\n`);
const realWrite = process.stdout.write.bind(process.stdout);

/** Bytes of every file under `dir`. */
function du(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

const git = (args) => execFileSync('git', args, { env: m.serverGitEnv(), encoding: 'utf8' });

/** `deploys` deploys into a new repository with these inputs; then the clone and the server measured. */
async function scenario(label, inputs) {
  const repo = await m.createBareRepo(join(base, `${label}.git`));
  const sshd = await m.startSshd({ repoPath: repo });
  const started = Date.now();
  try {
    for (let i = 0; i < deploys; i++) {
      const sha = m.shaOf(`bench-history ${label} ${i}`);
      const commitTime = new Date(START + i * 3_600_000).toISOString();
      const ctx = m.deployContext({ sha, workspace, runnerTemp, commitTime });
      const config = m.deployConfig(ctx, { target: 'xen', keep: values.keep, ...m.sshDeployInputs(sshd), ...inputs });
      const image = await m.makeImage(join(base, `image-${label}-${i}`), {
        target: 'xen',
        seed: sha,
        bytes: imageBytes,
      });
      // The deploy phase logs (and masks the key) through @actions/core on stdout: not the benchmark's lines.
      process.stdout.write = () => true;
      let outcome;
      try {
        const cleared = await m.preflight(config.deploy);
        const source = await m.readSourceFacts(ctx, config.build.workingDirectory);
        outcome = await m.deployImage(config, ctx, image, m.SETUP, cleared, source);
      } finally {
        process.stdout.write = realWrite;
      }
      if (!outcome.deployed) throw new Error(`deploy ${i} (${label}) did not deploy: ${outcome.message}`);
      rmSync(join(base, `image-${label}-${i}`), { recursive: true, force: true });
      if ((i + 1) % 50 === 0) print(`  ${label}: ${i + 1} deploys (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
  } finally {
    await sshd.stop();
  }
  const clone = join(base, `${label}-clone.git`);
  git(['clone', '--quiet', '--bare', '--no-local', repo, clone]);
  const commits = Number(git(['--git-dir', repo, 'rev-list', '--count', 'main']).trim());
  git(['--git-dir', repo, 'gc', '--quiet', '--prune=now']);
  return { label, commits, clone: du(join(clone, 'objects')), server: du(join(repo, 'objects')) };
}

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

try {
  print(
    `history benchmark: ${deploys} deploys of ${values.kb} KiB images, keep ${values.keep}, ` +
      `keep-history ${values['keep-history']}, bzip2 -9, SSH; ${cpus().length} cores`,
  );
  const all = await scenario('all-history', {});
  const kept = await scenario('keep-history', { 'keep-history': values['keep-history'] });
  print('');
  print('| history | commits on the branch | full clone (objects) | server after gc |');
  print('|---|---|---|---|');
  for (const r of [all, kept]) print(`| ${r.label} | ${r.commits} | ${mib(r.clone)} | ${mib(r.server)} |`);
  print('');
  print(`clone with keep-history / without: ${(kept.clone / all.clone).toFixed(3)}`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
