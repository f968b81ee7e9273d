import { describe, expect, it } from 'vitest';
import { compressCommand } from '../../src/deploy/compress.js';
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
