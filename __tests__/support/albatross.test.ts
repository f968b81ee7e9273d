// Where the albatross tests find their binaries, and when they may be reported as not run.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAlbatross } from './albatross.js';

const REAL = findAlbatross().found;
let base: string;
/** A folder with every binary, whose albatross-client does not run (as without libev4). */
let broken: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'albatross-find-'));
  broken = join(base, 'broken');
  mkdirSync(join(broken, 'bin'), { recursive: true });
  for (const b of ['albatrossd', 'albatross-console', 'albatross-tls-endpoint', 'albatross-client', 'solo5-spt']) {
    writeFileSync(join(broken, 'bin', b), '#!/bin/sh\nexit 127\n', { mode: 0o755 });
  }
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('findAlbatross', () => {
  it('reports nothing found, naming the install command, outside CI', () => {
    const none = join(base, 'none');
    const result = findAlbatross({ env: {}, shared: none, installed: broken });
    expect(result.found).toBeUndefined();
    expect(result.missing).toMatch(/no albatross binaries in .*none, .*broken; run `npm run albatross:install`/);
  });

  it('throws in CI when the shared folder is there but does not run', () => {
    expect(() => findAlbatross({ env: { CI: 'true' }, shared: broken, installed: join(base, 'none') })).toThrow(
      /CI must run the albatross tests/,
    );
  });

  it('may report not run in CI when there is no shared folder', () => {
    const result = findAlbatross({ env: { CI: 'true' }, shared: join(base, 'none'), installed: join(base, 'none') });
    expect(result.missing).toMatch(/npm run albatross:install/);
  });

  it.skipIf(REAL === undefined)('takes ALBATROSS_BIN as the bin folder itself, before a broken shared folder', () => {
    const bin = join(base, 'bin-link');
    symlinkSync(REAL?.bin ?? '', bin);
    const result = findAlbatross({ env: { ALBATROSS_BIN: bin, CI: 'true' }, shared: broken, installed: broken });
    expect(result.found?.bin).toBe(bin);
    expect(existsSync(join(result.found?.images ?? '', 'test_hello.spt'))).toBe(true);
  });
});
