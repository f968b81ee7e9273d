import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tarEntries } from '../../src/buildinfo/tar.js';

const root = mkdtempSync(join(tmpdir(), 'tar-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// longer than ustar's 100-byte name and 155-byte prefix together, so GNU tar writes an `L` entry
const LONG = `packages/${'very-long-package-name-'.repeat(6)}/${'very-long-package-name-'.repeat(6)}.1.0.0/files/a-patch-with-a-long-name.patch`;

function makeTree(dir: string): void {
  mkdirSync(join(dir, LONG, '..'), { recursive: true });
  writeFileSync(join(dir, 'repo'), 'opam-version: "2.0"\n');
  writeFileSync(join(dir, LONG), Buffer.alloc(1500, 7));
  writeFileSync(join(dir, 'empty'), '');
  symlinkSync('repo', join(dir, 'link'));
}

describe('tarEntries', () => {
  it.each(['gnu', 'pax', 'ustar'])(
    'reads what GNU tar writes in %s format: long names, empty files, links',
    (format) => {
      const dir = join(root, format);
      makeTree(dir);
      const archive = join(root, `${format}.tar`);
      const names = format === 'ustar' ? ['repo', 'empty', 'link'] : ['.'];
      execFileSync('tar', [`--format=${format}`, '-cf', archive, '-C', dir, ...names]);
      const entries = tarEntries(readFileSync(archive));
      const byPath = new Map(entries.map((e) => [e.path.replace(/^\.\//, ''), e]));
      expect(byPath.get('repo')).toEqual({
        kind: 'file',
        path: expect.any(String),
        content: Buffer.from('opam-version: "2.0"\n'),
      });
      expect(byPath.get('empty')).toMatchObject({ kind: 'file', content: Buffer.alloc(0) });
      expect(byPath.get('link')).toMatchObject({ kind: 'link', target: 'repo' });
      if (format !== 'ustar') {
        expect(byPath.get(LONG)).toMatchObject({ kind: 'file', content: Buffer.alloc(1500, 7) });
        expect(entries.filter((e) => e.kind === 'file')).toHaveLength(3);
      }
    },
  );

  it('refuses a header whose size is not octal', () => {
    const header = Buffer.alloc(1024);
    header.write('x', 0);
    header.write('12z', 124);
    expect(() => tarEntries(header)).toThrow(/not octal/);
  });
});
