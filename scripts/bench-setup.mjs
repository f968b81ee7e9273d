#!/usr/bin/env node
// Benchmark: cold vs warm opam setup through the bundle (`npm run bundle` first), with the offline
// fixture repository, Debian's opam and OCaml, and the loopback cache service on Azurite, the
// same real parts as __tests__/integration/opam-setup.test.ts. Each round uses a new `cache-prefix`:
// a cold run (miss: opam init, switch, install; the post step saves) then a warm one (exact hit).
// Prints the setup phase's own time (the summary's `setup` row) and the main step's wall time.
//
// Usage: node scripts/bench-setup.mjs [--rounds N]     (npm run bench:setup)
import { build } from 'esbuild';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { makeOpamRepository } from './make-opam-repo.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);

// The harness and the loopback servers are TypeScript: bundle them for this Node. They find the
// project from their own location (two folders up) and the DNS preload next to themselves.
const out = join(ROOT, '.tmp', 'bench-setup');
mkdirSync(out, { recursive: true });
await build({
  stdin: {
    contents: ['harness', 'azurite', 'cache-service']
      .map((m) => `export * from './__tests__/support/${m}.ts';`)
      .join('\n'),
    resolveDir: ROOT,
    loader: 'ts',
  },
  outfile: join(out, 'support.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  packages: 'external',
  logLevel: 'warning',
});
copyFileSync(join(ROOT, '__tests__/support/blob-host-loopback.mjs'), join(out, 'blob-host-loopback.mjs'));
const { runAction, removeRun, startAzurite, startCacheService } = await import(
  pathToFileURL(join(out, 'support.mjs')).href
);

const base = mkdtempSync(join(tmpdir(), 'bench-setup-'));
const opamRoot = join(base, 'opam-root');
const workspace = join(base, 'workspace');
const repo = await makeOpamRepository(join(base, 'repo'));
const azurite = await startAzurite();
const service = await startCacheService({ azurite });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function once(prefix) {
  rmSync(opamRoot, { recursive: true, force: true });
  rmSync(workspace, { recursive: true, force: true });
  cpSync(join(ROOT, 'example/hello'), workspace, { recursive: true });
  const started = process.hrtime.bigint();
  const result = await runAction({
    workspace,
    env: { ...service.env, OPAMROOT: opamRoot },
    inputs: {
      'ocaml-compiler': 'ocaml-system',
      'opam-version': 'system',
      'opam-repositories': `fixture: ${repo.url}`,
      'mirage-version': '4.11.1',
      'cache-prefix': prefix,
    },
    post: true,
    timeoutMs: 600_000,
  });
  const mainSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const setup = /\| setup \| [^|]*cache: (\w+); ([\d.]+) s \|/.exec(result.summary);
  if (process.env.BENCH_SHOW_STEPS)
    console.log(
      result.log
        .split('\n')
        .filter((l) => /: \d+\.\d s$/.test(l))
        .join('\n'),
    );
  removeRun(result);
  if (result.main.exitCode !== 0 || !setup) {
    throw new Error(`run failed (exit ${result.main.exitCode}):\n${result.log.split('\n').slice(-40).join('\n')}`);
  }
  return { hit: setup[1], setup: Number(setup[2]), total: mainSeconds };
}

try {
  const cold = [];
  const warm = [];
  for (let i = 0; i < rounds; i++) {
    const prefix = `bench${Date.now()}`;
    const c = await once(prefix);
    const w = await once(prefix);
    if (c.hit !== 'miss' || w.hit !== 'exact')
      throw new Error(`round ${i + 1}: expected miss then exact, got ${c.hit}, ${w.hit}`);
    cold.push(c);
    warm.push(w);
    console.log(
      `round ${i + 1}: cold setup ${c.setup.toFixed(1)} s (run ${c.total.toFixed(1)} s), warm setup ${w.setup.toFixed(1)} s (run ${w.total.toFixed(1)} s)`,
    );
  }
  const coldSetup = median(cold.map((r) => r.setup));
  const warmSetup = median(warm.map((r) => r.setup));
  const ratio = warmSetup / coldSetup;
  console.log(`\nmachine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}, Node ${process.version}`);
  console.log(`median of ${rounds}: cold setup ${coldSetup.toFixed(1)} s, warm setup ${warmSetup.toFixed(1)} s`);
  console.log(
    `median of ${rounds}: cold run ${median(cold.map((r) => r.total)).toFixed(1)} s, warm run ${median(warm.map((r) => r.total)).toFixed(1)} s (main + post, with the build)`,
  );
  console.log(`warm/cold setup: ${(ratio * 100).toFixed(0)}% (target ≤ 15%): ${ratio <= 0.15 ? 'met' : 'NOT met'}`);
  process.exitCode = ratio <= 0.15 ? 0 : 1;
} finally {
  await service.stop();
  await azurite.stop();
  rmSync(base, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
}
