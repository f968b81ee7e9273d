import { describe, expect, it } from 'vitest';
import { manifestTime, parseManifest, serializeManifest, type Manifest } from '../../src/deploy/manifest.js';

const manifest: Manifest = {
  schema: 1,
  source: {
    repository: 'mirage/mirage-www',
    sha: 'a'.repeat(40),
    ref: 'refs/heads/main',
    commitTime: '2026-01-01T00:00:00.000Z',
  },
  run: { url: 'https://github.com/mirage/mirage-www/actions/runs/1' },
  target: 'xen',
  image: {
    name: 'www',
    file: 'www.xen.bz2',
    sha256: '1'.repeat(64),
    size: 100,
    compression: 'bzip2',
    compressedSha256: '2'.repeat(64),
    compressedSize: 50,
  },
  files: ['config.ml', 'www.xl'],
  versions: { ocaml: '5.4.1', opam: '2.4.1', mirage: '4.11.1' },
  builtAt: '2026-01-01T00:05:00.000Z',
};

describe('manifest', () => {
  it('round-trips through its JSON text, which ends with a newline', () => {
    const text = serializeManifest(manifest);
    expect(text.endsWith('}\n')).toBe(true);
    expect(parseManifest(text)).toEqual(manifest);
  });

  const broken: Array<[string, unknown]> = [
    ['another schema', { ...manifest, schema: 2 }],
    ['no source sha', { ...manifest, source: { ...manifest.source, sha: 1 } }],
    ['a short image sha256', { ...manifest, image: { ...manifest.image, sha256: 'abc' } }],
    ['an unknown compression', { ...manifest, image: { ...manifest.image, compression: 'zstd' } }],
    ['files that are not names', { ...manifest, files: [1] }],
    ['no versions', { ...manifest, versions: undefined }],
    ['an array', [manifest]],
  ];
  it.each(broken)('is not read with %s', (_name, value) => {
    expect(parseManifest(JSON.stringify(value))).toBeUndefined();
  });

  it('is not read when it is not JSON (a hand-edited or foreign file)', () => {
    expect(parseManifest('{ nope')).toBeUndefined();
  });

  it('orders builds by commit time only: never by build time, never by a time in the future', () => {
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
});
