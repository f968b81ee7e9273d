import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { compressCommand, compressionHint } from '../../src/deploy/compress.js';
import { ancestryFrom, utcTime } from '../../src/deploy/source.js';

describe('utcTime', () => {
  it.each([
    ['2013-12-25T10:00:00+01:00', '2013-12-25T09:00:00.000Z'],
    ['2026-03-01T10:00:00Z', '2026-03-01T10:00:00.000Z'],
    ['2026-03-01T10:00:00-05:00\n', '2026-03-01T15:00:00.000Z'],
    ['', undefined],
    ['yesterday', undefined],
    [undefined, undefined],
  ])('%j is %s', (text, utc) => {
    expect(utcTime(text)).toBe(utc);
  });
});

describe('ancestryFrom', () => {
  it.each([
    [0, 1, 'ours-newer'],
    [1, 0, 'ours-older'],
    [1, 1, 'unknown'],
    [128, 128, 'unknown'],
  ] as const)('merge-base exits %d and %d: %s', (forward, backward, expected) => {
    expect(ancestryFrom(forward, backward)).toBe(expected);
  });
});

describe('compressCommand', () => {
  it.each([
    ['bzip2', false, ['bzip2', '-9', 'f']],
    ['xz', false, ['xz', '-9', '-T1', 'f']],
    ['gzip', false, ['gzip', '-9', '-n', 'f']],
    ['bzip2', true, ['bzip2', '-d', '-k', 'f']],
    ['xz', true, ['xz', '-d', '-k', 'f']],
    ['gzip', true, ['gzip', '-d', '-k', 'f']],
  ] as const)('%s (decompress: %s)', (compression, decompress, argv) => {
    expect(compressCommand(compression, 'f', decompress)).toEqual(argv);
  });
});

describe('compressionHint', () => {
  it('says the disk is full when bzip2 could not write (its real message, writing to /dev/full), not to install it', () => {
    const bzip2 = spawnSync('sh', ['-c', 'head -c 200000 /dev/urandom | bzip2 -9 > /dev/full'], { encoding: 'utf8' });
    expect(bzip2.stderr).toMatch(/No space left on device/);
    const hint = compressionHint('bzip2', bzip2.stderr, 'other');
    expect(hint).toMatch(/^the disk holding RUNNER_TEMP is full/);
    expect(hint).not.toMatch(/install/);
    expect(compressionHint('bzip2', 'bzip2: Data integrity error', 'other')).toBe('other');
  });
});
