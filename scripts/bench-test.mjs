#!/usr/bin/env node
// Benchmark: how long `npm test` takes on this machine, idle and under a defined load (N processes
// each spinning one core: `node -e 'for(;;){}'`, default 2, i.e. a 2-core runner fully busy with
// something else). Each run is `node scripts/test.mjs` (what `npm test` runs), timed from start to
// exit; vitest's JSON report gives the counts and each file's own time. A full run then times the
// slow group (`npm run test:slow`) once, idle, for the table (the target is `npm test`'s). Integration tests run the
// bundle: `npm run bundle` first.
//
// The full run writes its table into docs/benchmarks.md (between the bench:test markers) and exits
// non-zero when the idle run misses the target or a test failed. With --filter (arguments for
// vitest, e.g. a file) it runs only that subset and prints, writing nothing: a quick check that the
// script works (--write writes its table all the same, to check that part).
//
// Usage: node scripts/bench-test.mjs [--load N] [--only idle|load|both] [--filter <vitest arg>]... [--write]
//        (npm run bench:test; npm run bench:test -- --filter __tests__/log.test.ts)
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOC = join(ROOT, 'docs', 'benchmarks.md');
const BEGIN = '<!-- bench:test:begin -->';
const END = '<!-- bench:test:end -->';
/** The round's target for the whole suite on an idle 2-core machine. */
const TARGET_SECONDS = 600;

const { values } = parseArgs({
  options: {
    load: { type: 'string', default: '2' },
    only: { type: 'string', default: 'both' },
    filter: { type: 'string', multiple: true, default: [] },
    write: { type: 'boolean', default: false },
  },
});
const loops = Number(values.load);
if (!Number.isInteger(loops) || loops < 1) throw new Error('--load: a number of busy processes, 1 or more');
if (!['idle', 'load', 'both'].includes(values.only)) throw new Error('--only: use idle, load or both');
const subset = values.filter.length > 0;
if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('no dist/index.js: run `npm run bundle` first');

const out = join(ROOT, '.tmp', 'bench-test');
mkdirSync(out, { recursive: true });

/** Starts `count` processes that each keep one core busy; returns a function that stops them. */
function busyLoops(count) {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  return () => {
    for (const child of children) child.kill('SIGKILL');
  };
}

/**
 * One `npm test` (scripts/test.mjs; `slow`: `npm run test:slow`) with its output in a log file;
 * resolves with its time, the CPU time of the processes it waited for (bash's `times`: vitest, the
 * bundle's steps and what they ran, not the servers' own forks) and vitest's report.
 */
function runSuite(label, slow = false) {
  const log = join(out, `${label}.log`);
  const started = process.hrtime.bigint();
  const load = loadavg()[0];
  return new Promise((resolve, reject) => {
    const test = ['scripts/test.mjs', ...(slow ? ['--slow'] : []), ...values.filter];
    const script = `"$0" "$@"; code=$?; times >&2; exit $code`;
    const child = spawn('bash', ['-c', script, process.execPath, ...test], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const text = Buffer.concat(chunks);
      writeFileSync(log, text);
      const results = join(ROOT, '.tmp', slow ? 'vitest-slow-results.json' : 'vitest-results.json');
      const report = existsSync(results) ? JSON.parse(readFileSync(results, 'utf8')) : undefined;
      if (report) copyFileSync(results, join(out, `${label}.json`));
      resolve({ label, slow, code, seconds, cpu: childrenCpu(text.toString()), load, log, report });
    });
  });
}

/** The children's user + system seconds from the last line of bash's `times` (`0m1.5s 0m0.2s`). */
function childrenCpu(output) {
  const last = output.trim().split('\n').at(-1) ?? '';
  const parts = [...last.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return parts.length === 2 ? parts[0] + parts[1] : undefined;
}

function fileTimes(report) {
  return (report?.testResults ?? [])
    .map((f) => ({ file: f.name.replace(`${ROOT}`, '').replace(/^\//, ''), seconds: (f.endTime - f.startTime) / 1000 }))
    .sort((a, b) => b.seconds - a.seconds);
}

const fmt = (s) => `${s.toFixed(1)} s`;
const minutes = (s) => `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;

function row(run) {
  const r = run.report;
  const counts = r
    ? `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`
    : 'no report';
  const what = run.label === 'load' ? `under load (${loops} busy ${loops === 1 ? 'loop' : 'loops'})` : 'idle';
  const cpu =
    run.cpu === undefined ? '?' : `${fmt(run.cpu)} (${Math.round((100 * run.cpu) / run.seconds)}% of one core)`;
  return `| ${run.slow ? '`npm run test:slow`' : '`npm test`'} | ${what} | ${minutes(run.seconds)} (${fmt(run.seconds)}) | ${cpu} | ${r?.testResults?.length ?? '?'} | ${counts} | ${run.load.toFixed(2)} |`;
}

const runs = [];
const cores = cpus().length;
console.log(
  `bench:test: ${cores} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}${subset ? `, subset: ${values.filter.join(' ')}` : ''}`,
);
if (loadavg()[0] > cores / 2) {
  console.log(
    `warning: the machine is not idle (load average ${loadavg()[0].toFixed(2)}): the idle numbers will be high`,
  );
}
if (values.only !== 'load') {
  runs.push(await runSuite('idle'));
  console.log(`idle: ${fmt(runs.at(-1).seconds)} (log ${runs.at(-1).log})`);
}
if (values.only !== 'idle') {
  const stop = busyLoops(loops);
  try {
    runs.push(await runSuite('load'));
  } finally {
    stop();
  }
  console.log(`under load: ${fmt(runs.at(-1).seconds)} (log ${runs.at(-1).log})`);
}
if (values.only !== 'load' && !subset) {
  runs.push(await runSuite('slow', true));
  console.log(`slow group, idle: ${fmt(runs.at(-1).seconds)} (log ${runs.at(-1).log})`);
}

const slowest = fileTimes(runs[0]?.report).slice(0, 10);
const table = [
  '| group | condition | wall time | CPU time (waited processes) | files | tests | load average at start |',
  '|---|---|---|---|---|---|---|',
  ...runs.map(row),
].join('\n');
const slowTable = [
  `Slowest files of \`npm test\` (${runs[0]?.label ?? ''}; a file's own time, four files at a time):`,
  '',
  '| file | time |',
  '|---|---|',
  ...slowest.map((f) => `| \`${f.file}\` | ${fmt(f.seconds)} |`),
].join('\n');
console.log(`\n${table}\n\n${slowTable}`);

const idle = runs.find((r) => r.label === 'idle');
const failed = runs.some((r) => r.code !== 0);
const missed = idle !== undefined && idle.seconds > TARGET_SECONDS;
if (!subset || values.write) {
  const doc = readFileSync(DOC, 'utf8');
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`docs/benchmarks.md has no ${BEGIN} … ${END} section`);
  const measured =
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cores} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ` +
    `Node ${process.versions.node}${subset ? `, only ${values.filter.join(' ')}` : ''}. Target: idle at most ${minutes(TARGET_SECONDS)}: ` +
    `${idle === undefined ? 'not measured' : missed ? `**missed** (${minutes(idle.seconds)})` : 'met'}.`;
  const body = `${BEGIN}\n${measured}\n\n${table}\n\n${slowTable}\n${END}`;
  writeFileSync(DOC, doc.slice(0, begin) + body + doc.slice(end + END.length));
  // The tables as `npm run lint` wants them (aligned columns).
  spawnSync(process.execPath, [join(ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--write', DOC], {
    stdio: 'inherit',
  });
  console.log('\nwritten to docs/benchmarks.md');
}
if (failed) console.log('a run had failing tests: see its log');
if (!subset && missed) console.log(`idle run over the target of ${minutes(TARGET_SECONDS)}`);
process.exit(failed || (!subset && missed) ? 1 : 0);
