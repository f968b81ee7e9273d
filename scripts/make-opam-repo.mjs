#!/usr/bin/env node
// Materialize the offline opam repository fixture (__fixtures__/opam) into a
// directory, with absolute file:// source URLs and their checksums.
//
// opam insists on absolute `url { src: ... }`, so the fixture keeps its opam
// files without `url` sections and this script adds them: every package
// `packages/<name>/<name>.<version>/opam` whose sources live in
// `src/<name>/` gets a deterministic `archives/<name>.<version>.tar.gz`
// (sha256 + md5 checksums); files under `packages/.../files/` get
// `extra-files` checksums. The system compiler's packages (`ocaml-system.V`, and
// `ocaml.V` when the fixture has none) are generated from `system/` for the
// version `ocamlc -vnum` prints. Pure Node (fs, crypto, zlib) plus `tar` and `ocamlc`.
//
// Usage: node scripts/make-opam-repo.mjs DEST   (prints the repository URL)
// The same function is re-exported for tests by __tests__/support/opam-repo.ts.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const execFileAsync = promisify(execFile);

/** The fixture sources (__fixtures__/opam), next to this script's repository. */
export const FIXTURE_DIR = fileURLToPath(new URL('../__fixtures__/opam/', import.meta.url));

async function exists(p) {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

function digests(buf) {
  return {
    sha256: createHash('sha256').update(buf).digest('hex'),
    md5: createHash('md5').update(buf).digest('hex'),
  };
}

/** A reproducible .tar.gz of `src/<name>/` whose top directory is `<name>.<version>/`. */
async function archive(srcRoot, name, version) {
  const { stdout } = await execFileAsync(
    'tar',
    [
      '-C',
      srcRoot,
      '--dereference', // src/<pkg>/common.ml may be a symlink to src/shared/
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--format=gnu',
      `--transform=s,^${name},${name}.${version},`,
      '-cf',
      '-',
      name,
    ],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  return gzipSync(stdout, { level: 9 });
}

/** Writes one package into the repository: its opam file plus `extra-files` and `url` sections. */
async function writePackage(dest, srcRoot, name, version, opamText, filesDir) {
  const to = path.join(dest, 'packages', name, `${name}.${version}`);
  await mkdir(to, { recursive: true });
  let opam = opamText;
  if (/^url\s*\{/m.test(opam)) throw new Error(`${name}.${version}: the fixture opam file must not have a url section`);
  if (!opam.endsWith('\n')) opam += '\n';

  if (await exists(filesDir)) {
    const files = (await readdir(filesDir)).sort();
    await cp(filesDir, path.join(to, 'files'), { recursive: true });
    const entries = await Promise.all(
      files.map(async (f) => `  ["${f}" "sha256=${digests(await readFile(path.join(filesDir, f))).sha256}"]`),
    );
    opam += `extra-files: [\n${entries.join('\n')}\n]\n`;
  }

  if (await exists(path.join(srcRoot, name))) {
    const tgz = await archive(srcRoot, name, version);
    const file = path.join(dest, 'archives', `${name}.${version}.tar.gz`);
    await writeFile(file, tgz);
    const { sha256, md5 } = digests(tgz);
    opam +=
      `url {\n  src: "${pathToFileURL(file).href}"\n` +
      `  checksum: [\n    "sha256=${sha256}"\n    "md5=${md5}"\n  ]\n}\n`;
  }
  await writeFile(path.join(to, 'opam'), opam);
}

/** The version of the OCaml compiler on PATH (`ocamlc -vnum`), which opam calls `sys-ocaml-version`. */
export async function systemOcamlVersion() {
  const { stdout } = await execFileAsync('ocamlc', ['-vnum']);
  return stdout.trim();
}

/**
 * `ocaml-system.V` (and the virtual `ocaml.V` when the fixture has none) for the compiler that is
 * installed: the tests build on whatever OCaml the machine has (Debian 12: 4.13.1, Ubuntu 24.04:
 * 4.14.1), as opam-repository has an ocaml-system for every release.
 */
async function writeSystemCompiler(dest, srcRoot, version) {
  const parts = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!parts) throw new Error(`ocamlc -vnum printed ${JSON.stringify(version)}, not a version`);
  const next = `${parts[1]}.${parts[2]}.${Number(parts[3]) + 1}`;
  const systemDir = path.join(FIXTURE_DIR, 'system');
  const packages = ['ocaml-system'];
  if (!(await exists(path.join(FIXTURE_DIR, 'packages', 'ocaml', `ocaml.${version}`)))) packages.push('ocaml');
  for (const name of packages) {
    const template = await readFile(path.join(systemDir, name, 'opam'), 'utf8');
    const opam = template.replaceAll('@VERSION@', version).replaceAll('@NEXT@', next);
    await writePackage(dest, srcRoot, name, version, opam, path.join(systemDir, name, 'files'));
  }
}

/**
 * Materialize the fixture repository into `destDir` (created if needed; its
 * `repo`, `packages/` and `archives/` are replaced).
 * @param {string} destDir
 * @param {{ ocamlVersion?: string }} [options] `ocamlVersion`: the system compiler's version; default `ocamlc -vnum`.
 * @returns {Promise<{ url: string, path: string }>} `url` is the file:// URL to give `opam init` / `opam repository add`.
 */
export async function makeOpamRepository(destDir, options = {}) {
  const dest = path.resolve(destDir);
  const srcRoot = path.join(FIXTURE_DIR, 'src');
  await mkdir(dest, { recursive: true });
  await rm(path.join(dest, 'packages'), { recursive: true, force: true });
  await rm(path.join(dest, 'archives'), { recursive: true, force: true });
  await mkdir(path.join(dest, 'archives'), { recursive: true });
  await cp(path.join(FIXTURE_DIR, 'repo'), path.join(dest, 'repo'));

  const pkgRoot = path.join(FIXTURE_DIR, 'packages');
  const names = (await readdir(pkgRoot)).sort();
  await Promise.all(
    names.map(async (name) => {
      for (const nv of (await readdir(path.join(pkgRoot, name))).sort()) {
        if (!nv.startsWith(`${name}.`)) throw new Error(`${name}/${nv}: directory must be named ${name}.<version>`);
        const from = path.join(pkgRoot, name, nv);
        const opam = await readFile(path.join(from, 'opam'), 'utf8');
        await writePackage(dest, srcRoot, name, nv.slice(name.length + 1), opam, path.join(from, 'files'));
      }
    }),
  );
  await writeSystemCompiler(dest, srcRoot, options.ocamlVersion ?? (await systemOcamlVersion()));
  return { url: pathToFileURL(dest).href, path: dest };
}

const invokedAs = process.argv[1] ? pathToFileURL(path.resolve(process.argv[1])).href : '';
if (import.meta.url === invokedAs) {
  const dest = process.argv[2];
  if (!dest || process.argv.length > 3 || dest === '-h' || dest === '--help') {
    process.stderr.write('usage: node scripts/make-opam-repo.mjs DEST\n');
    process.exit(dest === '-h' || dest === '--help' ? 0 : 2);
  }
  makeOpamRepository(dest).then(
    (r) => process.stdout.write(`${r.url}\n`),
    (e) => {
      process.stderr.write(`make-opam-repo: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
