import { describe, expect, it } from 'vitest';
import { firstDifference, judge, leftOutOfCopy } from '../../src/mirage/reproducible.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('firstDifference', () => {
  it.each<[Uint8Array, Uint8Array, number | undefined]>([
    [bytes(1, 2, 3), bytes(1, 2, 3), undefined],
    [bytes(1, 2, 3), bytes(1, 9, 3), 1],
    [bytes(9), bytes(1), 0],
    [bytes(1, 2), bytes(1, 2, 3), 2],
    [bytes(), bytes(), undefined],
  ])('%j vs %j → %s', (a, b, offset) => {
    expect(firstDifference(a, b)).toBe(offset);
  });
});

describe('leftOutOfCopy', () => {
  it.each<[string, boolean]>([
    ['_build', true],
    ['_build/default/main.ml', true],
    ['dist/hello.hvt', true],
    ['_buildx', false],
    ['dist', false],
    ['dist/dune', false],
    ['dist/hello.hvt.old', false],
    ['duniverse/fmt/fmt.ml', false],
    ['mirage/hello-hvt.opam.locked', false],
    ['', false],
  ])('%j: %s', (path, out) => {
    expect(leftOutOfCopy(path, 'dist/hello.hvt')).toBe(out);
  });
});

describe('judge', () => {
  const same = { sha256: 'a'.repeat(64), size: 10 };
  const other = { sha256: 'b'.repeat(64), size: 12 };

  it('passes identical images in both modes', () => {
    for (const mode of ['check', 'strict'] as const) {
      expect(judge(mode, 'dist/hello.hvt', { first: same, second: same })).toEqual({
        reproducible: true,
        row: 'yes: a second build in another folder, from a clean state, gave the same sha256',
      });
    }
  });

  it('reports the first differing byte; strict names the input, the fix and that nothing was deployed', () => {
    const check = judge('check', 'dist/hello.hvt', { first: same, second: other, offset: 10 });
    expect(check.reproducible).toBe(false);
    expect(check.row).toBe('no: first difference at byte offset 10 (sizes 10 and 12 bytes)');
    expect(check.problem).toMatch(
      /^dist\/hello\.hvt is not reproducible: a second build in another folder .*first difference at byte offset 10/,
    );
    const strict = judge('strict', 'dist/hello.hvt', { first: same, second: other, offset: 10 });
    expect(strict.problem).toMatch(
      /^input `reproducible`: dist\/hello\.hvt is not reproducible: .*; nothing was deployed\./,
    );
    expect(strict.problem).toContain('set `reproducible: check` to deploy anyway');
  });
});
