#!/usr/bin/env node
// Benchmark: cold, warm and refreshed runs through the bundle (`npm run bundle` first), with
// Debian's opam and OCaml and the loopback cache service on Azurite, the same real parts as
// __tests__/integration/warm-cache.test.ts. Two cases:
//   fixture  the offline fixture repository alone (a dozen packages);
//   large    the fixture ranked first, then a generated repository of thousands of packages and
//            versions (scripts/make-large-opam-repo.mjs) that opam must load and solve over, as
//            with opam-repository behind the prebuilt packages.
// Each round uses a new `cache-prefix`: a cold run (miss: opam init, switch, install, lock; the post
// step saves), a warm one (exact hit), then the first run of a new `cache-refresh` period (partial:
// opam update, upgrade; no locked package changed, so no lock, install-switch or pull). Prints
// the setup phase's own time (the summary's `setup` row) and the main step's wall time.
//
// Usage: node scripts/bench-setup.mjs [--rounds N] [--case fixture|large|both] [--packages N]
//        (npm run bench:setup; BENCH_SHOW_STEPS=1 prints each step's time)
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { makeLargeOpamRepository } from './make-large-opam-repo.mjs';
import { makeOpamRepository } from './make-opam-repo.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    case: { type: 'string', default: 'both' },
    packages: { type: 'string', default: '4000' },
  },
});
const rounds = Number(values.rounds);
const cases = values.case === 'both' ? ['fixture', 'large'] : [values.case];
if (!cases.every((c) => c === 'fixture' || c === 'large')) throw new Error('--case: use fixture, large or both');

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
const large = cases.includes('large')
  ? await makeLargeOpamRepository(join(base, 'large'), { packages: Number(values.packages) })
  : undefined;
// A git repository, as opam-repository is: `opam update` then fetches what changed, where a
// plain file:// repository is copied whole by each update (minutes at this size with opam 2.1).
if (large) {
  const git = (...args) => execFileSync('git', ['-C', large.path, ...args], { stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', 'commit', '-q', '-m', 'snapshot');
  console.log(`large repository: ${large.packages} packages, ${large.versions} versions, git at ${large.url}`);
}
const azurite = await startAzurite();
const service = await startCacheService({ azurite });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

async function once(repositories, prefix, period) {
  rmSync(opamRoot, { recursive: true, force: true });
  rmSync(workspace, { recursive: true, force: true });
  cpSync(join(ROOT, 'example/hello'), workspace, { recursive: true });
  const result = await runAction({
    workspace,
    env: { ...service.env, OPAMROOT: opamRoot },
    inputs: {
      'ocaml-compiler': 'ocaml-system',
      'opam-version': 'system',
      'opam-repositories': repositories,
      'mirage-version': '4.11.1+stand-in',
      'cache-prefix': prefix,
      'cache-refresh': `fixed:${period}`,
    },
    post: true,
    timeoutMs: 900_000,
  });
  const setup = /<td>setup<\/td><td>[^<]*cache: (\w+); ([\d.]+) s<\/td>/.exec(result.summary);
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
  return { hit: setup[1], setup: Number(setup[2]), main: result.main.seconds };
}

const fmt = (s) => `${s.toFixed(1)} s`;
/**
 * Goals: the fixture case keeps its warm/cold setup ≤ 15%; the large one wants warm main ≤ 10% of
 * cold, and a new period's main ≤ 50% of cold (nothing locked changes between the two periods here).
 */
const GOALS = {
  fixture: { of: 'setup', ratio: 0.15 },
  large: { of: 'main', ratio: 0.1, refresh: 0.5 },
};
let met = true;

try {
  console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}, Node ${process.version}`);
  console.log(`load average at start: ${load()}`);
  for (const name of cases) {
    const repositories = name === 'large' ? `fixture: ${repo.url}\nlarge: git+${large?.url}` : `fixture: ${repo.url}`;
    const runs = { cold: [], warm: [], refresh: [] };
    for (let i = 0; i < rounds; i++) {
      const prefix = `bench${Date.now()}`;
      const c = await once(repositories, prefix, 'a');
      const w = await once(repositories, prefix, 'a');
      const r = await once(repositories, prefix, 'b');
      if (c.hit !== 'miss' || w.hit !== 'exact' || r.hit !== 'partial')
        throw new Error(`${name} round ${i + 1}: expected miss, exact, partial; got ${c.hit}, ${w.hit}, ${r.hit}`);
      runs.cold.push(c);
      runs.warm.push(w);
      runs.refresh.push(r);
      console.log(
        `${name} round ${i + 1}: ` +
          Object.entries({ cold: c, warm: w, 'new period': r })
            .map(([k, v]) => `${k} setup ${fmt(v.setup)} main ${fmt(v.main)}`)
            .join('; ') +
          ` (load ${load()})`,
      );
    }
    const m = (kind, of) => median(runs[kind].map((r) => r[of]));
    console.log(`\n${name}, median of ${rounds}:`);
    for (const of of ['setup', 'main']) {
      console.log(
        `  ${of.padEnd(5)}: cold ${fmt(m('cold', of))}, warm ${fmt(m('warm', of))} ` +
          `(${((m('warm', of) / m('cold', of)) * 100).toFixed(0)}%), new period ${fmt(m('refresh', of))} ` +
          `(${((m('refresh', of) / m('cold', of)) * 100).toFixed(0)}%)`,
      );
    }
    const goal = GOALS[name];
    const ratio = m('warm', goal.of) / m('cold', goal.of);
    const ok = ratio <= goal.ratio;
    met &&= ok;
    console.log(
      `  goal: warm ${goal.of} ≤ ${goal.ratio * 100}% of cold: ${(ratio * 100).toFixed(0)}%, ${ok ? 'met' : 'NOT met'}`,
    );
    if (goal.refresh !== undefined) {
      const refresh = m('refresh', 'main') / m('cold', 'main');
      const fast = refresh <= goal.refresh;
      met &&= fast;
      console.log(
        `  goal: new period main ≤ ${goal.refresh * 100}% of cold: ${(refresh * 100).toFixed(0)}%, ${fast ? 'met' : 'NOT met'}`,
      );
    }
    console.log('');
  }
  console.log(`load average at end: ${load()}`);
  process.exitCode = met ? 0 : 1;
} finally {
  await service.stop();
  await azurite.stop();
  rmSync(base, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
}
