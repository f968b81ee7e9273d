import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLockFile } from '../../src/sbom/lock.js';
import { parseOpamFile } from '../../src/sbom/opam-file.js';
import { parseSwitchExport } from '../../src/sbom/switch-export.js';
import { FIXTURES } from '../support/harness.js';

const lockText = readFileSync(join(FIXTURES, 'sbom/hello-hvt.opam.locked'), 'utf8');

describe('parseLockFile', () => {
  const lock = parseLockFile(lockText);

  it('reads every package of `depends` with its version, vendored or from the switch', () => {
    expect(lock.formatVersion).toBe('0.3');
    expect(lock.rootPackages).toEqual(['hello-hvt']);
    expect(lock.packages).toHaveLength(17);
    expect(lock.packages.filter((p) => p.vendored)).toHaveLength(13);
    expect(lock.packages.find((p) => p.name === 'ocaml')).toEqual({ name: 'ocaml', version: '5.4.1', vendored: false });
  });

  it('joins pin-depends and x-opam-monorepo-duniverse-dirs: url, folder and hashes per vendored package', () => {
    const runtime = lock.packages.find((p) => p.name === 'mirage-runtime');
    expect(runtime?.version).toBe('4.11.1');
    expect(runtime?.source?.url).toBe('https://github.com/mirage/mirage/releases/download/v4.11.1/mirage-4.11.1.tbz');
    expect(runtime?.source?.dir).toBe('mirage');
    expect(runtime?.source?.hashes.map((h) => h.algorithm)).toEqual(['sha256', 'sha512']);
    expect(runtime?.source?.hashes[0]?.value).toMatch(/^[0-9a-f]{64}$/);
    expect(lock.packages.filter((p) => p.vendored).every((p) => p.source !== undefined)).toBe(true);
  });

  it('gives packages of one archive (one duniverse folder) the same source', () => {
    const crypto = lock.packages.filter((p) => p.name.startsWith('mirage-crypto'));
    expect(crypto.map((p) => p.name)).toEqual(['mirage-crypto', 'mirage-crypto-rng']);
    expect(crypto[0]?.source).toEqual(crypto[1]?.source);
    expect(crypto[0]?.source?.dir).toBe('mirage-crypto');
  });

  it('a lock file without pin-depends still lists every package, without sources', () => {
    const text = [
      'opam-version: "2.0"',
      'depends: [',
      '  "fmt" {= "0.9.0" & ?vendor}',
      '  "ocaml" {= "4.13.1"}',
      ']',
      'x-opam-monorepo-duniverse-dirs: [',
      '  [',
      '    "file:///tmp/archives/fmt.0.9.0.tar.gz"',
      '    "fmt"',
      '    [',
      '      "sha256=' + 'a'.repeat(64) + '"',
      '      "md5=' + 'b'.repeat(32) + '"',
      '    ]',
      '  ]',
      ']',
      'x-opam-monorepo-version: "0.3"',
    ].join('\n');
    const parsed = parseLockFile(text);
    expect(parsed.packages.map((p) => `${p.name}.${p.version}`)).toEqual(['fmt.0.9.0', 'ocaml.4.13.1']);
    expect(parsed.packages.every((p) => p.source === undefined)).toBe(true);
  });

  it.each([
    ['no depends', 'opam-version: "2.0"\n', /no `depends` field/],
    ['a bare name', 'depends: [ "fmt" ]\n', /not `"name" \{= "version"\}`/],
    ['a range, not a version', 'depends: [ "fmt" {>= "1.0"} ]\n', /`fmt` has no `\{= "version"\}`/],
    ['an odd hash', 'depends: []\nx-opam-monorepo-duniverse-dirs: [ ["u" "d" ["crc=1"]] ]\n', /`crc=1` is not a hash/],
    ['an unclosed list', 'depends: [ "fmt" {= "1"}\n', /end of file: expected `\]`/],
    ['an unterminated string', 'depends: [ "fmt {= "1"} ]\n', /unterminated string starting on line 1/],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseLockFile(text)).toThrow(message);
  });
});

describe('parseOpamFile', () => {
  it('reads sections, comments, triple-quoted strings and filters', () => {
    const items = parseOpamFile(
      '# comment\nopam-version: "2.0"\n(* block\n comment *)\ndescription: """a "quoted"\ntext"""\n' +
        'build: [["dune" "build" "-p" name] {with-test & os != "win32"}]\nurl { src: "https://x/y.tbz" }\n',
    );
    expect(items.map((i) => i.name)).toEqual(['opam-version', 'description', 'build', 'url']);
    expect(items[1]).toEqual({
      kind: 'field',
      name: 'description',
      value: { kind: 'string', value: 'a "quoted"\ntext' },
    });
    expect(items[3]).toMatchObject({ kind: 'section', items: [{ name: 'src' }] });
  });
});

describe('parseSwitchExport', () => {
  it('lists the installed packages, marking the compiler and the roots', () => {
    const packages = parseSwitchExport(readFileSync(join(FIXTURES, 'sbom/build-switch.export'), 'utf8'));
    expect(packages).toHaveLength(17);
    expect(packages.find((p) => p.name === 'mirage')).toEqual({
      name: 'mirage',
      version: '4.11.1',
      compiler: false,
      root: true,
    });
    expect(packages.find((p) => p.name === 'ocaml-solo5')).toEqual({
      name: 'ocaml-solo5',
      version: '1.2.0',
      compiler: false,
      root: false,
    });
    expect(packages.filter((p) => p.compiler).map((p) => p.name)).toContain('ocaml-base-compiler');
  });

  it('refuses what is not an export', () => {
    expect(() => parseSwitchExport('opam-version: "2.0"\n')).toThrow(/no `installed` field/);
    expect(() => parseSwitchExport('installed: ["mirage"]\n')).toThrow(/`installed` holds something other/);
  });
});
