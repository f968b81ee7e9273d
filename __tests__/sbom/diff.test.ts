import { describe, expect, it } from 'vitest';
import {
  compareOpamVersions,
  deployDiff,
  diffLines,
  diffMarkdown,
  diffPackages,
  sizeChange,
} from '../../src/sbom/diff.js';

describe('compareOpamVersions', () => {
  it.each([
    ['1.0', '1.0', 0],
    ['1.0', '1.1', -1],
    ['1.10', '1.9', 1],
    ['1.0~beta', '1.0', -1],
    ['1.0', '1.0+dune', -1],
    ['0.9.0+dune', '0.9.1', -1],
    ['v0.16.0', 'v0.17.0', -1],
    ['4.11.1', '4.11.01', 0],
    ['2.0.0', '2.0.0~alpha1', 1],
    ['1.0a', '1.0-', -1],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareOpamVersions(a, b))).toBe(sign);
    expect(Math.sign(compareOpamVersions(b, a))).toBe(-sign || 0);
  });
});

describe('diffPackages', () => {
  const before = [
    { name: 'fmt', version: '0.9.0' },
    { name: 'lwt', version: '5.9.2' },
    { name: 'logs', version: '0.7.0' },
    { name: 'cstruct', version: '6.2.0' },
  ];
  it('sorts each change by name into added, removed, upgraded, downgraded', () => {
    const after = [
      { name: 'fmt', version: '0.9.1' },
      { name: 'lwt', version: '5.9.1' },
      { name: 'logs', version: '0.7.0' },
      { name: 'ptime', version: '1.2.0' },
    ];
    expect(diffPackages(before, after)).toEqual({
      added: [{ name: 'ptime', version: '1.2.0' }],
      removed: [{ name: 'cstruct', version: '6.2.0' }],
      upgraded: [{ name: 'fmt', from: '0.9.0', to: '0.9.1' }],
      downgraded: [{ name: 'lwt', from: '5.9.2', to: '5.9.1' }],
    });
  });
});

describe('deployDiff', () => {
  const current = { size: 1100, ocaml: '5.4.1', mirage: '4.11.1', packages: [{ name: 'fmt', version: '0.9.1' }] };

  it('says "first deploy" when nothing is deployed', () => {
    expect(deployDiff(undefined, undefined, current)).toEqual({ first: true });
    expect(diffLines({ first: true })).toEqual(['first deploy']);
    expect(diffMarkdown({ first: true }, 'hello')).toBe('**hello**: first deploy');
  });

  it('gives the size before and after with the change in percent, and only the versions that moved', () => {
    const previous = { size: 1000, ocaml: '5.4.0', mirage: '4.11.1', packages: [{ name: 'fmt', version: '0.9.0' }] };
    const diff = deployDiff('a'.repeat(40), previous, current);
    expect(diff).toEqual({
      first: false,
      previous: 'a'.repeat(40),
      size: { before: 1000, after: 1100, change: 100, percent: 10 },
      packages: { added: [], removed: [], upgraded: [{ name: 'fmt', from: '0.9.0', to: '0.9.1' }], downgraded: [] },
      versions: { ocaml: { name: 'ocaml', from: '5.4.0', to: '5.4.1' } },
    });
    expect(diffLines(diff)).toEqual([
      `changes since ${'a'.repeat(40)}:`,
      'image size: 1000 → 1100 bytes (+100, +10%)',
      'ocaml: 5.4.0 → 5.4.1',
      'upgraded fmt 0.9.0 → 0.9.1',
    ]);
  });

  it('says what it could not compare', () => {
    expect(diffLines(deployDiff('b'.repeat(40), undefined, current))).toEqual([
      `changes since ${'b'.repeat(40)}:`,
      'its manifest could not be read: no size or versions to compare',
    ]);
    const noLock = deployDiff('b'.repeat(40), { size: 1100, ocaml: '5.4.1', mirage: '4.11.1' }, current);
    expect(diffLines(noLock).slice(1)).toEqual([
      'image size: 1100 → 1100 bytes (0, 0%)',
      'packages: not compared (the deployed image has no lock file)',
    ]);
  });

  it('rounds the percentage to one decimal and leaves it out from an empty image', () => {
    expect(sizeChange(3, 2)).toEqual({ before: 3, after: 2, change: -1, percent: -33.3 });
    expect(sizeChange(0, 2)).toEqual({ before: 0, after: 2, change: 2 });
  });
});
