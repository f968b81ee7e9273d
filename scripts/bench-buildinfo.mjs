#!/usr/bin/env node
// Benchmark: what the build record's `repositories` costs on a repository the size of
// opam-repository (scripts/make-large-opam-repo.mjs, 2500 packages by default): the sha256 of the
// files of opam's copy, as a folder (opam 2.0) and as `repo/<name>.tar.gz` (opam 2.1 and later),
// and a git copy's commit. Prints the median of the rounds; the target is under 10 s for each, so
// that the record adds seconds, not minutes, to a build.
//
// Usage: node scripts/bench-buildinfo.mjs [--rounds N] [--packages N]   (npm run bench:buildinfo)
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { NODE_ESM_BUNDLE } from './esbuild-node.mjs';
import { makeLargeOpamRepository } from './make-large-opam-repo.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, packages: { type: 'string', default: '2500' } },
});
const rounds = Number(values.rounds);

const out = join(ROOT, '.tmp', 'bench-buildinfo');
mkdirSync(out, { recursive: true });
await build({
  stdin: { contents: "export { repositoryState } from './src/buildinfo/index.ts';", resolveDir: ROOT, loader: 'ts' },
  outfile: join(out, 'bench.mjs'),
  ...NODE_ESM_BUNDLE,
});
const { repositoryState } = await import(pathToFileURL(join(out, 'bench.mjs')).href);

const root = mkdtempSync(join(tmpdir(), 'bench-buildinfo-'));
try {
  const made = await makeLargeOpamRepository(join(root, 'repo', 'folder'), { packages: Number(values.packages) });
  const files = execFileSync('sh', ['-c', 'find "$1" -type f | wc -l', 'sh', made.path], { encoding: 'utf8' }).trim();
  const bytes = execFileSync('du', ['-sb', made.path], { encoding: 'utf8' }).split('\t')[0];
  console.log(`repository: ${made.packages} packages, ${made.versions} versions, ${files} files, ${bytes} bytes`);
  execFileSync('tar', [
    '-czf',
    join(root, 'repo', 'packed.tar.gz'),
    '-C',
    join(root, 'repo'),
    '--transform',
    's/^folder/packed/',
    'folder',
  ]);
  execFileSync('cp', ['-r', made.path, join(root, 'repo', 'git')]);
  const git = (...args) =>
    execFileSync('git', ['-C', join(root, 'repo', 'git'), ...args], {
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'b',
        GIT_AUTHOR_EMAIL: 'b@b',
        GIT_COMMITTER_NAME: 'b',
        GIT_COMMITTER_EMAIL: 'b@b',
      },
    });
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'bench');

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cases = [
    ['folder (opam 2.0)', 'folder', 'file:///srv/opam-repository'],
    ['repo/<name>.tar.gz (opam 2.1+)', 'packed', 'https://opam.ocaml.org'],
    ['git copy', 'git', 'git+https://github.com/ocaml/opam-repository.git'],
  ];
  let failed = false;
  for (const [label, name, url] of cases) {
    const seconds = [];
    let state;
    for (let i = 0; i < rounds; i++) {
      const started = process.hrtime.bigint();
      state = await repositoryState(root, name, url);
      seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
    }
    const m = median(seconds);
    failed ||= m > 10;
    console.log(
      `${label}: median ${m.toFixed(2)} s of ${rounds} (${seconds.map((s) => s.toFixed(2)).join(', ')}) -> ${JSON.stringify(state).slice(0, 120)}`,
    );
  }
  if (failed) {
    console.log('FAIL: a case took more than 10 s');
    process.exitCode = 1;
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
