import { describe, expect, it } from 'vitest';
import {
  manifestTime,
  ownedFiles,
  parseManifest,
  serializeManifest,
  type ImageEntry,
  type Manifest,
} from '../../src/deploy/manifest.js';

const entry: ImageEntry = {
  name: 'mir-mirage.io',
  builtName: 'www',
  target: 'xen',
  sha256: '1'.repeat(64),
  size: 100,
  compression: 'bzip2',
  compressedSha256: '2'.repeat(64),
  compressedSize: 50,
  bootArgs: ['--ipv4=46.43.42.147/25', '--ipv4-gateway=46.43.42.129'],
  configFile: 'config.ml',
  files: { 'config.ml': '3'.repeat(64), 'mir-mirage.io.xl': '4'.repeat(64), 'mir-mirage.io.args': '5'.repeat(64) },
  run: { url: 'https://github.com/mirage/mirage-www/actions/runs/1' },
  versions: { ocaml: '5.4.1', opam: '2.4.1', mirage: '4.11.1' },
  builtAt: '2026-01-01T00:05:00.000Z',
};

const manifest: Manifest = {
  schema: 2,
  source: {
    repository: 'mirage/mirage-www',
    sha: 'a'.repeat(40),
    ref: 'refs/heads/main',
    commitTime: '2026-01-01T00:00:00.000Z',
  },
  images: {
    'mir-mirage.io.xen.bz2': entry,
    'mir-openmirage.org.xen.bz2': { ...entry, name: 'mir-openmirage.org', builtAt: '2026-01-01T00:04:00.000Z' },
  },
};

/** What schema 1 (one image per folder) wrote. */
const schema1 = {
  schema: 1,
  source: manifest.source,
  run: entry.run,
  target: 'xen',
  image: {
    name: 'www',
    file: 'www.xen.bz2',
    sha256: entry.sha256,
    size: 100,
    compression: 'bzip2',
    compressedSha256: entry.compressedSha256,
    compressedSize: 50,
  },
  files: ['config.ml', 'www.xl'],
  versions: entry.versions,
  builtAt: entry.builtAt,
};

describe('manifest', () => {
  it('round-trips through its JSON text, which ends with a newline and lists images by name', () => {
    const text = serializeManifest({
      ...manifest,
      images: { b: entry, a: entry },
    });
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.indexOf('"a"')).toBeLessThan(text.indexOf('"b"'));
    expect(parseManifest(serializeManifest(manifest))).toEqual(manifest);
  });

  it('reads a schema 1 manifest as a folder of its one image, file hashes unknown', () => {
    const read = parseManifest(JSON.stringify(schema1));
    expect(read?.schema).toBe(2);
    expect(read?.source).toEqual(manifest.source);
    expect(read?.images).toEqual({
      'www.xen.bz2': {
        name: 'www',
        builtName: 'www',
        target: 'xen',
        sha256: entry.sha256,
        size: 100,
        compression: 'bzip2',
        compressedSha256: entry.compressedSha256,
        compressedSize: 50,
        bootArgs: [],
        configFile: 'config.ml',
        files: { 'config.ml': '', 'www.xl': '' },
        run: entry.run,
        versions: entry.versions,
        builtAt: entry.builtAt,
      },
    });
  });

  const withEntry = (over: Record<string, unknown>) => ({
    ...manifest,
    images: { 'mir-mirage.io.xen.bz2': { ...entry, ...over } },
  });

  it('round-trips an entry with the SBOM files it names, and believes none the entry does not own', () => {
    const sbom = {
      lockFile: 'www.opam.locked',
      switchExport: 'www.switch-export',
      cyclonedx: 'www.cdx.json',
      packages: 12,
    };
    const files = {
      ...entry.files,
      'www.opam.locked': '6'.repeat(64),
      'www.switch-export': '7'.repeat(64),
      'www.cdx.json': '8'.repeat(64),
    };
    const withSbom = { ...manifest, images: { 'mir-mirage.io.xen.bz2': { ...entry, files, sbom } } };
    expect(parseManifest(serializeManifest(withSbom))).toEqual(withSbom);
    expect(parseManifest(JSON.stringify(withEntry({ sbom })))).toBeUndefined();
    expect(parseManifest(JSON.stringify(withEntry({ files, sbom: { ...sbom, packages: '12' } })))).toBeUndefined();
  });
  const broken: Array<[string, unknown]> = [
    ['another schema', { ...manifest, schema: 3 }],
    ['no source sha', { ...manifest, source: { ...manifest.source, sha: 1 } }],
    ['no images', { ...manifest, images: undefined }],
    ['a short image sha256', withEntry({ sha256: 'abc' })],
    ['an unknown compression', withEntry({ compression: 'zstd' })],
    ['boot arguments that are not strings', withEntry({ bootArgs: [1] })],
    ['a file without its hash', withEntry({ files: { 'config.ml': '' } })],
    ['no versions', withEntry({ versions: undefined })],
    ['a schema 1 image without its file', { ...schema1, image: { ...schema1.image, file: undefined } }],
    ['an array', [manifest]],
  ];
  it.each(broken)('is not read with %s', (_name, value) => {
    expect(parseManifest(JSON.stringify(value))).toBeUndefined();
  });

  it('is not read when it is not JSON (a hand-edited or foreign file)', () => {
    expect(parseManifest('{ nope')).toBeUndefined();
  });

  it('orders folders by commit time only: never by an image build time, never by a time in the future', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    expect(manifestTime(manifest, now)).toBe('2026-01-01T00:00:00.000Z');
    const source = { repository: 'o/r', sha: 'a'.repeat(40), ref: 'refs/heads/main' };
    expect(manifestTime({ ...manifest, source }, now)).toBeUndefined();
    expect(
      manifestTime({ ...manifest, source: { ...source, commitTime: '2099-01-01T00:00:00Z' } }, now),
    ).toBeUndefined();
    expect(manifestTime({ ...manifest, source: { ...source, commitTime: '2026-06-01T00:30:00Z' } }, now)).toBe(
      '2026-06-01T00:30:00Z',
    );
    expect(manifestTime(undefined, now)).toBeUndefined();
  });

  it('an image owns its stored file and its other files', () => {
    expect(ownedFiles('mir-mirage.io.xen.bz2', entry)).toEqual([
      'mir-mirage.io.xen.bz2',
      'config.ml',
      'mir-mirage.io.xl',
      'mir-mirage.io.args',
    ]);
  });
});
