import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressCommand, compressionHint } from '../../src/deploy/compress.js';
import { ancestryOf, readSourceFacts, utcTime } from '../../src/deploy/source.js';
import { serverGitEnv } from '../support/bare-repo.js';
import { testContext } from '../support/context.js';

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

describe('ancestryOf', () => {
  const facts = { sha: 'c', ancestors: ['c', 'b', 'a'], descendants: ['d', 'e'] };
  it.each([
    ['b', 'ours-newer'],
    ['a', 'ours-newer'],
    ['e', 'ours-older'],
    ['x', 'unknown'],
    ['c', 'unknown'],
  ] as const)('latest %s: %s', (latest, expected) => {
    expect(ancestryOf(facts, latest)).toBe(expected);
  });
  it('knows nothing without history (a shallow checkout, or none)', () => {
    expect(ancestryOf({ sha: 'c', ancestors: [], descendants: [] }, 'b')).toBe('unknown');
  });
});

describe('readSourceFacts', () => {
  /** A repository with a → b → c on main, and a side branch d from a; HEAD at b, as a checkout of b. */
  function history() {
    const dir = mkdtempSync(join(tmpdir(), 'source-facts-'));
    const git = (...args: string[]) => {
      const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8', env: serverGitEnv() });
      if (r.status !== 0) throw new Error(r.stderr);
      return r.stdout.trim();
    };
    git('init', '--quiet', '--initial-branch=main');
    const commit = (label: string, date: string) => {
      writeFileSync(join(dir, 'f'), label);
      git('add', 'f');
      spawnSync('git', ['commit', '--quiet', '-m', label], {
        cwd: dir,
        env: serverGitEnv({
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@example.invalid',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@example.invalid',
          GIT_COMMITTER_DATE: date,
          GIT_AUTHOR_DATE: date,
        }),
      });
      return git('rev-parse', 'HEAD');
    };
    const a = commit('a', '2026-01-01T00:00:00Z');
    const b = commit('b', '2026-01-02T00:00:00+02:00');
    const c = commit('c', '2026-01-03T00:00:00Z');
    git('checkout', '--quiet', '-b', 'side', a);
    const d = commit('d', '2026-01-04T00:00:00Z');
    git('checkout', '--quiet', '--detach', b);
    return { dir, a, b, c, d };
  }

  it('reads the commit time and the commits before and after this one, in a subfolder of the checkout', async () => {
    const { dir, a, b, c, d } = history();
    const ctx = testContext({ workspace: dir, runnerTemp: dir, eventName: 'workflow_dispatch', sha: b.toUpperCase() });
    mkdirSync(join(dir, 'unikernel'));
    const facts = await readSourceFacts(ctx, join(dir, 'unikernel'));
    expect(facts).toEqual({ sha: b, commitTime: '2026-01-01T22:00:00.000Z', ancestors: [b, a], descendants: [c] });
    expect([a, c, d].map((latest) => ancestryOf(facts, latest))).toEqual(['ours-newer', 'ours-older', 'unknown']);
  });

  it('knows only the payload time outside a repository, and refuses a GITHUB_SHA that is no commit sha', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'source-facts-none-'));
    const sha = 'e'.repeat(40);
    const payload = { head_commit: { id: sha, timestamp: '2026-02-01T10:00:00+01:00' } };
    const facts = await readSourceFacts(testContext({ workspace: dir, runnerTemp: dir, sha, payload }), dir);
    expect(facts).toEqual({ sha, commitTime: '2026-02-01T09:00:00.000Z', ancestors: [], descendants: [] });
    await expect(readSourceFacts(testContext({ workspace: dir, runnerTemp: dir, sha: 'main' }), dir)).rejects.toThrow(
      /GITHUB_SHA is `main`, not a full commit sha/,
    );
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
