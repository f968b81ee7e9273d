#!/usr/bin/env node
// Benchmark: README's quick start as a new user runs it, timed. A fresh clone of this repository
// (its committed HEAD, in a temporary folder, nothing beside it) runs `bash example/run.sh` twice:
// the first run installs the npm dependencies and Node 24 (tools/node24) from the registry, the
// second finds them; then `npm run test:unit`, and with --full `npm test`. The Debian/Ubuntu
// packages must already be installed (scripts/install-system-packages.sh): apt's time depends on
// the mirror, not on this project.
//
// --load N runs N busy loops (plain CPU hogs, one core each) for the whole benchmark: the defined
// load to compare with an idle machine; the machine's load average before
// and after is printed so that a run on a shared machine says how idle it really was.
//
// Usage: node scripts/bench-quickstart.mjs [--load N] [--full]   (npm run bench:quickstart)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { load: { type: 'string', default: '0' }, full: { type: 'boolean' } } });
const load = Number(values.load);
if (!Number.isInteger(load) || load < 0) throw new Error('--load: a number of busy loops, 0 or more');

const hogs = Array.from({ length: load }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
const clone = mkdtempSync(join(tmpdir(), 'bench-quickstart-'));

/** Runs a command in the clone, its output kept quiet unless it fails; returns its wall time. */
function timed(label, command, args) {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd: join(clone, 'repo'), encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) {
    process.stdout.write(`${result.stdout}\n${result.stderr}\n`);
    throw new Error(`${label}: exit ${result.status}`);
  }
  console.log(`${label.padEnd(44)} ${seconds.toFixed(1).padStart(7)} s`);
  return seconds;
}

try {
  console.log(
    `${cpus().length} cores, ${load} busy loops, load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  spawnSync('git', ['clone', '--quiet', ROOT, join(clone, 'repo')], { stdio: 'inherit' });
  timed('bash example/run.sh (first: npm installs)', 'bash', ['example/run.sh']);
  timed('bash example/run.sh (again)', 'bash', ['example/run.sh']);
  timed('npm run test:unit', 'npm', ['run', 'test:unit']);
  if (values.full) timed('npm test', 'npm', ['test']);
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  for (const hog of hogs) hog.kill('SIGKILL');
  rmSync(clone, { recursive: true, force: true });
}
