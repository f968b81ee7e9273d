#!/usr/bin/env node
// Benchmark: one deploy of an 8 MB image into a deployment repository holding 0 earlier images,
// and into one holding 200 earlier images of 8 MB (1.6 GB), over SSH to the real sshd of the
// tests. Measures the deploy phase's wall time (bundled src/deploy, in this process) and the bytes
// the server's upload-pack sent, and checks them against the targets: the 200 case takes
// at most 1.3x the time of the 0 case, and receives under 64 KiB plus what `latest` and the
// manifests it reads weigh.
//
// Usage: node scripts/bench-deploy.mjs [--rounds N] [--images N] [--mb N]   (npm run bench:deploy)
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadDeployBench } from './esbuild-node.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    images: { type: 'string', default: '200' },
    mb: { type: 'string', default: '8' },
  },
});
const rounds = Number(values.rounds);
const earlierImages = Number(values.images);
const imageBytes = Number(values.mb) * 1024 * 1024;

// The deploy phase and the loopback servers are TypeScript: bundle them for this Node, the deploy
// phase as scripts/bundle.mjs bundles the action.
const { m } = await loadDeployBench(ROOT, 'bench-deploy', ['./__tests__/support/deploy-history.ts']);

const { base, workspace, runnerTemp } = await m.makeDeployScratch('bench-deploy-');
const START = Date.parse('2026-01-01T00:00:00Z');

// The deploy phase logs through @actions/core on stdout; keep the benchmark's own lines readable.
const print = (line) => process.stderr.write(`${line}\n`);
const realWrite = process.stdout.write.bind(process.stdout);

async function prepare(earlier) {
  const repo = await m.createBareRepo(mkdtempSync(join(base, `with-${earlier}-`)) + '/deployment.git');
  const seeded = Date.now();
  await m.seedHistory(repo, base, { target: 'xen', images: earlier, imageBytes, start: START });
  if (earlier > 0) {
    print(`seeded ${earlier} earlier images of ${values.mb} MB in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);
  }
  return { repo, sshd: await m.startSshd({ repoPath: repo }) };
}

/** `rounds` deploys; with 0 earlier images each into a new repository, so that each is the first. */
async function scenario(earlier) {
  const results = [];
  let server = earlier > 0 ? await prepare(earlier) : undefined;
  try {
    for (let round = 0; round < rounds; round++) {
      if (earlier === 0) {
        await server?.sshd.stop();
        server = await prepare(0);
      }
      const { repo, sshd } = server;
      const sha = m.shaOf(`bench ${earlier} ${round}`);
      const commitTime = new Date(START + (earlier + round + 1) * 86_400_000).toISOString();
      const ctx = m.deployContext({ sha, workspace, runnerTemp, commitTime });
      const config = m.deployConfig(ctx, { target: 'xen', ...m.sshDeployInputs(sshd) });
      const image = await m.makeImage(join(base, `image-${earlier}-${round}`), {
        target: 'xen',
        seed: sha,
        bytes: imageBytes,
      });
      // As main: the preflight and the source facts come before the build, outside the deploy's time.
      const cleared = await m.preflight(config.deploy);
      const source = await m.readSourceFacts(ctx, config.build.workingDirectory);
      sshd.resetCounters();
      process.stdout.write = () => true;
      const started = process.hrtime.bigint();
      let outcome;
      try {
        outcome = await m.deployImage(config, ctx, image, m.SETUP, cleared, source);
      } finally {
        process.stdout.write = realWrite;
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (!outcome.deployed) throw new Error(`round ${round} did not deploy: ${outcome.message}`);
      // What the deploy had to read: `latest` and the manifest of the build it names.
      const previous = (await m.showFile(repo, `${outcome.commit}~1`, 'xen/latest').catch(() => '')).trim();
      const needed = previous
        ? Buffer.byteLength(`${previous}\n`) +
          Buffer.byteLength(await m.showFile(repo, `${outcome.commit}~1`, `xen/${previous}/manifest.json`))
        : 0;
      results.push({ seconds, bytes: sshd.uploadPackBytes(), needed });
      print(
        `  ${earlier} earlier, round ${round + 1}: ${seconds.toFixed(2)} s, ${sshd.uploadPackBytes()} bytes received`,
      );
    }
  } finally {
    await server?.sshd.stop();
  }
  return results;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  print(`deploy benchmark: ${rounds} rounds, ${values.mb} MB images, bzip2 -9, SSH; ${cpus().length} cores`);
  const empty = await scenario(0);
  const full = await scenario(earlierImages);
  const t0 = median(empty.map((r) => r.seconds));
  const tN = median(full.map((r) => r.seconds));
  const b0 = median(empty.map((r) => r.bytes));
  const bN = Math.max(...full.map((r) => r.bytes));
  const neededN = Math.max(...full.map((r) => r.needed));
  const budget = 64 * 1024 + neededN;
  const timeOk = tN <= 1.3 * t0;
  const bytesOk = bN <= budget;
  print('');
  print('| earlier images | deploy time (median) | bytes received (upload-pack) |');
  print('|---|---|---|');
  print(`| 0 | ${t0.toFixed(2)} s | ${b0} |`);
  print(`| ${earlierImages} | ${tN.toFixed(2)} s | ${bN} (of which latest + manifest ${neededN}) |`);
  print('');
  print(
    `time: ${earlierImages} images / 0 images = ${(tN / t0).toFixed(2)} (target <= 1.30): ${timeOk ? 'met' : 'MISSED'}`,
  );
  print(`bytes: ${bN} <= 64 KiB + ${neededN} = ${budget}: ${bytesOk ? 'met' : 'MISSED'}`);
  process.exitCode = timeOk && bytesOk ? 0 : 1;
} finally {
  rmSync(base, { recursive: true, force: true });
}
