import { describe, expect, it } from 'vitest';
import {
  chooseToPrune,
  decideLatest,
  deployFolder,
  isSourceSha,
  latestContent,
  latestPath,
  parseLatest,
  SIZE_LIMIT_BYTES,
  SIZE_WARN_BYTES,
  sizeVerdict,
  storedImageName,
  type Ancestry,
  type BuildOrder,
} from '../../src/deploy/layout.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('paths', () => {
  it.each([
    ['hello.xen', 'bzip2', 'hello.xen.bz2'],
    ['hello.hvt', 'xz', 'hello.hvt.xz'],
    ['hello', 'gzip', 'hello.gz'],
    ['hello.virtio', 'none', 'hello.virtio'],
  ] as const)('%s with %s is stored as %s', (file, compression, stored) => {
    expect(storedImageName(file, compression)).toBe(stored);
  });

  it('lays out <target>/<sha> and <target>/latest holding the sha and a newline, as in 2013', () => {
    expect(deployFolder('xen', A)).toBe(`xen/${A}`);
    expect(latestPath('xen')).toBe('xen/latest');
    expect(latestContent(A)).toBe(`${A}\n`);
  });

  it.each([
    [`${A}\n`, A],
    [`  ${A.toUpperCase()}\r\n`, A],
    [`${'c'.repeat(64)}\n`, 'c'.repeat(64)],
    ['not a sha\n', undefined],
    ['', undefined],
    [`${A} extra`, undefined],
  ])('parseLatest(%j) is %s', (text, sha) => {
    expect(parseLatest(text)).toBe(sha);
  });

  it.each([
    [A, true],
    ['c'.repeat(64), true],
    ['latest', false],
    ['A'.repeat(40), false],
    ['a'.repeat(39), false],
  ])('isSourceSha(%s) is %s', (name, expected) => {
    expect(isSourceSha(name)).toBe(expected);
  });
});

describe('sizeVerdict', () => {
  it('names the limits as GitHub does', () => {
    expect([SIZE_WARN_BYTES, SIZE_LIMIT_BYTES]).toEqual([52_428_800, 104_857_600]);
  });
  it.each([
    // Literal byte counts, not the constants under test: GitHub's limits are 50 MiB and 100 MiB.
    [0, 'bzip2', 'ok', undefined],
    [52_428_800, 'bzip2', 'ok', undefined],
    [52_428_801, 'bzip2', 'warn', /compression: xz/],
    [104_857_600, 'gzip', 'warn', /50 MiB/],
    [104_857_601, 'bzip2', 'fail', /hard limit of 100 MiB.*compression: xz/],
    [104_857_601, 'xz', 'fail', /make the image smaller/],
  ] as const)('%d bytes with %s: %s', (size, compression, level, message) => {
    const verdict = sizeVerdict(size, compression);
    expect(verdict.level).toBe(level);
    if (message) expect(verdict.level !== 'ok' && verdict.message).toMatch(message);
  });
});

describe('decideLatest', () => {
  const at = (sha: string, time?: string): BuildOrder => (time === undefined ? { sha } : { sha, time });
  const cases: Array<[string, BuildOrder, BuildOrder | undefined, Ancestry, boolean, RegExp | undefined]> = [
    ['no latest yet', at(A, '2026-01-01T00:00:00Z'), undefined, 'unknown', true, undefined],
    [
      'latest already names this sha',
      at(A, '2026-01-01T00:00:00Z'),
      at(A, '2026-01-01T00:00:00Z'),
      'unknown',
      false,
      undefined,
    ],
    ['a newer commit', at(A, '2026-01-02T00:00:00Z'), at(B, '2026-01-01T00:00:00Z'), 'unknown', true, undefined],
    [
      'an older commit finishing late',
      at(A, '2026-01-01T00:00:00Z'),
      at(B, '2026-01-02T00:00:00Z'),
      'unknown',
      false,
      /newer build/,
    ],
    [
      'offsets are compared as instants',
      at(A, '2026-01-01T12:00:00+02:00'),
      at(B, '2026-01-01T11:00:00Z'),
      'unknown',
      false,
      /newer build/,
    ],
    [
      'the same second: the build finishing now wins',
      at(A, '2026-01-01T00:00:00Z'),
      at(B, '2026-01-01T00:00:00Z'),
      'unknown',
      true,
      undefined,
    ],
    ['latest has no readable time', at(A, '2026-01-01T00:00:00Z'), at(B), 'unknown', true, undefined],
    [
      'our commit time is unknown: latest stays, saying why',
      at(A),
      at(B, '2026-01-01T00:00:00Z'),
      'unknown',
      false,
      /commit time of .* is unknown/,
    ],
    [
      'neither has a commit time (latest from before this action): ours is newer',
      at(A),
      at(B),
      'unknown',
      true,
      undefined,
    ],
    [
      'our commit time is unknown, but the history shows ours newer',
      at(A),
      at(B, '2026-01-01T00:00:00Z'),
      'ours-newer',
      true,
      undefined,
    ],
    [
      'ancestry beats a clock: latest is our ancestor',
      at(A, '2026-01-01T00:00:00Z'),
      at(B, '2026-01-02T00:00:00Z'),
      'ours-newer',
      true,
      undefined,
    ],
    [
      'ancestry beats a clock: we are its ancestor',
      at(A, '2026-01-03T00:00:00Z'),
      at(B, '2026-01-02T00:00:00Z'),
      'ours-older',
      false,
      /ancestor/,
    ],
  ];
  it.each(cases)('%s', (_name, ours, current, ancestry, move, reason) => {
    const decision = decideLatest(ours, current, ancestry);
    expect(decision.move).toBe(move);
    if (reason) expect(decision.reason).toMatch(reason);
    else expect(decision.reason).toBeUndefined();
  });
});

describe('chooseToPrune', () => {
  const f = (n: number, time?: string): BuildOrder =>
    time === undefined ? { sha: String(n).repeat(40) } : { sha: String(n).repeat(40), time };
  const folders = [
    f(1, '2026-01-01T00:00:00Z'),
    f(2, '2026-01-02T00:00:00Z'),
    f(3, '2026-01-03T00:00:00Z'),
    f(4, '2026-01-04T00:00:00Z'),
    f(5),
  ];
  it.each([
    ['keep 0 keeps everything', 0, [], []],
    ['keep 2: the two newest stay; no time sorts oldest', 2, [], [f(2).sha, f(1).sha, f(5).sha]],
    ['keep 2 never removes what latest names', 2, [f(1).sha], [f(2).sha, f(5).sha]],
    ['keep 10 removes nothing', 10, [], []],
    ['keep 1 with protected folders', 1, [f(3).sha, f(5).sha], [f(2).sha, f(1).sha]],
  ] as const)('%s', (_name, keep, protect, pruned) => {
    expect(chooseToPrune(folders, keep, protect)).toEqual(pruned);
  });
});
