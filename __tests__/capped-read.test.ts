import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCapped } from '../src/capped-read.js';

describe('readCapped: a file someone else wrote', () => {
  const dir = mkdtempSync(join(tmpdir(), 'capped-read-'));
  writeFileSync(join(dir, 'small'), 'abc');
  writeFileSync(join(dir, 'large'), 'x'.repeat(11));
  symlinkSync(join(dir, 'small'), join(dir, 'link'));
  mkdirSync(join(dir, 'folder'));

  it.each([
    ['small', { kind: 'read', text: 'abc', size: 3 }],
    ['large', { kind: 'too-large', size: 11 }],
    ['link', { kind: 'not-file' }],
    ['folder', { kind: 'not-file' }],
    ['absent', { kind: 'missing' }],
  ])('%s', async (name, expected) => {
    expect(await readCapped(join(dir, name), 10)).toEqual(expected);
  });
});
