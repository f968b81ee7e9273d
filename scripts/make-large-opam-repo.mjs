// A generated opam repository the size of a real one, for the setup benchmark: thousands of
// packages and versions whose opam files look like opam-repository's (dune builds, version
// constraints, with-test/with-doc dependencies, url + checksums) and whose dependencies fan out
// the way a real repository's do (a few hubs that most packages need, long tails that few do).
// Nothing in it is ever built: it is what opam must load, index and solve over. The names never
// clash with the fixture's, which the benchmark ranks first, so every package the unikernel
// needs still comes from the fixture.
//
// Deterministic: the same `packages` and `seed` give the same bytes.
//
// Usage: node scripts/make-large-opam-repo.mjs DEST [PACKAGES]   (prints counts and the URL)
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** mulberry32: a small seeded PRNG, so the repository is the same on every machine. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = [
  'caml',
  'lib',
  'io',
  'net',
  'ppx',
  'json',
  'x',
  'uri',
  'tls',
  'dns',
  'git',
  'cstruct',
  'yaml',
  'zip',
  'irmin',
  'cohttp',
  'cmd',
  'log',
  'fs',
  'http',
  'async',
  'core',
  'stdx',
  'seq',
  'pp',
  'fmt',
  'ipaddr',
  'mtime',
  'ptime',
  'bos',
  'rresult',
  'angstrom',
  'sexp',
  'bin',
  'ctypes',
  'sqlite',
  'redis',
  'kafka',
  'arp',
  'tcp',
  'ssh',
  'xml',
  'csv',
];
const SUFFIXES = [
  '',
  '-unix',
  '-lwt',
  '-async',
  '-eio',
  '-ppx',
  '-test',
  '-cli',
  '-mirage',
  '-bench',
  '-utils',
  '-core',
];
const LICENSES = ['ISC', 'MIT', 'LGPL-2.1-only WITH OCaml-LGPL-linking-exception', 'BSD-3-Clause', 'Apache-2.0'];

/** Names for `count` packages, none of which the fixture has (it has no `-` + digit, nor these stems). */
function packageNames(count, rand) {
  const names = new Set(['dune', 'ocamlfind', 'alcotest', 'odoc', 'cmdliner', 'ppxlib', 'stdlib-shims', 'result']);
  while (names.size < count) {
    const first = Math.floor(rand() * SYLLABLES.length);
    const second = (first + 1 + Math.floor(rand() * (SYLLABLES.length - 1))) % SYLLABLES.length;
    const stem = `${SYLLABLES[first]}${SYLLABLES[second]}`;
    const suffix = SUFFIXES[Math.floor(rand() * SUFFIXES.length)];
    names.add(names.size % 7 === 0 ? `${stem}${suffix}${names.size}` : `${stem}${suffix}`);
  }
  return [...names].slice(0, count);
}

/** 1–12 versions, most packages having few, as in opam-repository (mean about 4). */
function versionsOf(rand) {
  const count = Math.min(12, 1 + Math.floor(-Math.log(1 - rand()) * 3));
  const versions = [];
  let [major, minor, patch] = [Math.floor(rand() * 3), Math.floor(rand() * 5), 0];
  for (let i = 0; i < count; i++) {
    versions.push(`${major}.${minor}.${patch}`);
    const step = rand();
    if (step < 0.6) patch++;
    else if (step < 0.9) [minor, patch] = [minor + 1, 0];
    else [major, minor, patch] = [major + 1, 0, 0];
  }
  return versions;
}

function opamFile(name, version, deps, rand, versionsByName) {
  const owner = `${name.replace(/[^a-z]/g, '').slice(0, 8)}-dev`;
  const constraint = (dep) => {
    const known = versionsByName.get(dep) ?? ['1.0.0'];
    const low = known[Math.floor(rand() * known.length)];
    return rand() < 0.25 ? `{>= "${low}" & < "${Number(low.split('.')[0]) + 1}.0.0"}` : `{>= "${low}"}`;
  };
  const digest = createHash('sha256').update(`${name}.${version}`).digest('hex');
  return `opam-version: "2.0"
synopsis: "${name}: ${['bindings', 'a library', 'tools', 'combinators', 'a parser', 'helpers'][Math.floor(rand() * 6)]} for OCaml"
description: """
${name} is a generated package of the mirage-deploy setup benchmark. It stands for one of the
thousands of packages of a real opam repository: opam loads, indexes and solves over it, and
nothing ever builds it."""
maintainer: ["${owner} <${owner}@example.invalid>"]
authors: ["${owner} <${owner}@example.invalid>"]
license: "${LICENSES[Math.floor(rand() * LICENSES.length)]}"
tags: ["org:bench" "${name.split('-')[0]}"]
homepage: "https://example.invalid/${owner}/${name}"
doc: "https://example.invalid/${owner}/${name}/doc"
bug-reports: "https://example.invalid/${owner}/${name}/issues"
depends: [
  "ocaml" {>= "4.08.0"}
${name === 'dune' ? '' : `  "dune" {>= "3.${Math.floor(rand() * 16)}"}\n`}${deps.map((d) => `  "${d}" ${constraint(d)}\n`).join('')}  "alcotest" {with-test}
  "odoc" {with-doc}
]
build: [
  ["dune" "subst"] {dev}
  [
    "dune"
    "build"
    "-p"
    name
    "-j"
    jobs
    "@install"
    "@runtest" {with-test}
    "@doc" {with-doc}
  ]
]
dev-repo: "git+https://example.invalid/${owner}/${name}.git"
url {
  src: "https://example.invalid/${owner}/${name}/releases/download/${version}/${name}-${version}.tbz"
  checksum: [
    "sha256=${digest}"
    "sha512=${createHash('sha512').update(digest).digest('hex')}"
  ]
}
x-commit-hash: "${digest.slice(0, 40)}"
`;
}

/**
 * Writes the repository into `destDir` (its `repo` and `packages/` are replaced).
 * @param {string} destDir
 * @param {{ packages?: number, seed?: number }} [options]
 * @returns {Promise<{ url: string, path: string, packages: number, versions: number }>}
 */
export async function makeLargeOpamRepository(destDir, { packages = 2500, seed = 4596 } = {}) {
  const dest = path.resolve(destDir);
  const rand = random(seed);
  await rm(path.join(dest, 'packages'), { recursive: true, force: true });
  await mkdir(dest, { recursive: true });
  await writeFile(path.join(dest, 'repo'), 'opam-version: "2.0"\n');
  const names = packageNames(packages, rand);
  const versionsByName = new Map(names.map((n) => [n, versionsOf(rand)]));
  let versions = 0;
  for (const [index, name] of names.entries()) {
    for (const version of versionsByName.get(name) ?? []) {
      // Dependencies point to earlier packages only (no cycles), mostly to the first few: the hubs.
      const fanOut = index === 0 ? 0 : Math.min(index, Math.floor(-Math.log(1 - rand()) * 3.5));
      const deps = new Set();
      for (let i = 0; i < fanOut; i++) {
        const skew = rand() < 0.5 ? rand() ** 3 : rand();
        deps.add(names[Math.floor(skew * index)]);
      }
      deps.delete('dune');
      deps.delete('alcotest');
      deps.delete('odoc');
      const dir = path.join(dest, 'packages', name, `${name}.${version}`);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'opam'), opamFile(name, version, [...deps].sort(), rand, versionsByName));
      versions++;
    }
  }
  return { url: pathToFileURL(dest).href, path: dest, packages: names.length, versions };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dest, count] = process.argv.slice(2);
  if (!dest) {
    console.error('usage: node scripts/make-large-opam-repo.mjs DEST [PACKAGES]');
    process.exit(2);
  }
  const made = await makeLargeOpamRepository(dest, count ? { packages: Number(count) } : {});
  console.log(`${made.packages} packages, ${made.versions} versions: ${made.url}`);
}
