// The gathering's two branches that the fixture build cannot reach: a git repository recorded by
// its commit (the fixture's is a local folder), and opam's switch export when `--freeze` works.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportSwitch, repositoryState } from '../../src/buildinfo/index.js';
import { CommandError } from '../../src/exec.js';

const root = mkdtempSync(join(tmpdir(), 'buildinfo-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  }).trim();

/** A repository copy with two files whose paths sort differently folder by folder and byte by byte. */
function writeRepo(dir: string): void {
  mkdirSync(join(dir, 'packages', 'a'), { recursive: true });
  mkdirSync(join(dir, 'packages', 'a-b'), { recursive: true });
  writeFileSync(join(dir, 'repo'), 'opam-version: "2.0"\n');
  writeFileSync(join(dir, 'packages', 'a', 'opam'), 'a\n');
  writeFileSync(join(dir, 'packages', 'a-b', 'opam'), 'a-b\n');
  // a path longer than a tar header holds: GNU tar writes it as a long-name entry
  const deep = join(dir, 'packages', 'x'.repeat(60), `${'x'.repeat(60)}.1.0`, 'files');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'fix.patch'), 'patch\n');
}

/** The same digest, by shell tools: `find | LC_ALL=C sort`, each file's sha256. */
function listingSha256(dir: string): string {
  const files = execFileSync('sh', ['-c', 'cd "$1" && find . -type f | sed "s|^\\./||" | LC_ALL=C sort', 'sh', dir], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f !== '');
  const sha = (f: string) => execFileSync('sha256sum', [join(dir, f)], { encoding: 'utf8' }).split(' ')[0];
  const listing = files.map((f) => `F ${f} ${sha(f)}\n`).join('');
  return createHash('sha256').update(listing).digest('hex');
}

describe('repositoryState', () => {
  it("records a git repository by the commit opam's copy is at", async () => {
    const dir = join(root, 'repo', 'overlay');
    mkdirSync(dir, { recursive: true });
    writeRepo(dir);
    git(dir, 'init', '-q');
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'x');
    const commit = git(dir, 'rev-parse', 'HEAD');
    expect(await repositoryState(root, 'overlay', 'git+https://example.org/overlay.git')).toEqual({
      name: 'overlay',
      url: 'git+https://example.org/overlay.git',
      commit,
    });
  });

  it("records a git repository opam 2.1+ keeps compressed by the commit inside the archive's .git", async () => {
    const dir = join(root, 'repo', 'zipped');
    mkdirSync(dir, { recursive: true });
    writeRepo(dir);
    git(dir, 'init', '-q');
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'x');
    git(dir, 'pack-refs', '--all');
    const commit = git(dir, 'rev-parse', 'HEAD');
    execFileSync('tar', ['-czf', `${dir}.tar.gz`, '-C', join(root, 'repo'), 'zipped']);
    rmSync(dir, { recursive: true });
    expect(await repositoryState(root, 'zipped', 'https://example.org/opam-repository.git')).toEqual({
      name: 'zipped',
      url: 'https://example.org/opam-repository.git',
      commit,
    });
    // the same archive of a repository that is not a git URL: its content, not a commit
    expect(await repositoryState(root, 'zipped', 'https://opam.ocaml.org')).toMatchObject({
      sha256: expect.any(String),
    });
  });

  it('records any other repository by the sha256 of its files, as a folder or as opam 2.1+ compresses it', async () => {
    const dir = join(root, 'repo', 'local');
    mkdirSync(dir, { recursive: true });
    writeRepo(dir);
    const expected = listingSha256(dir);
    expect(await repositoryState(root, 'local', 'file:///srv/local')).toEqual({
      name: 'local',
      url: 'file:///srv/local',
      sha256: expected,
    });
    execFileSync('tar', [
      '-czf',
      join(root, 'repo', 'packed.tar.gz'),
      '-C',
      join(root, 'repo'),
      '--transform',
      's/^local/packed/',
      'local',
    ]);
    expect(await repositoryState(root, 'packed', 'https://opam.ocaml.org')).toEqual({
      name: 'packed',
      url: 'https://opam.ocaml.org',
      sha256: expected,
    });
  });

  it('names both places when opam has no copy of the repository', async () => {
    await expect(repositoryState(root, 'absent', 'https://x.org')).rejects.toThrow(
      /neither .*absent nor .*absent\.tar\.gz/,
    );
  });
});

describe('exportSwitch', () => {
  it('asks opam for --full --freeze, and keeps what it gives', async () => {
    const asked: string[][] = [];
    const exported = await exportSwitch({
      root,
      runOpam: async (args) => {
        asked.push([...args]);
        return 'opam-version: "2.0"\n';
      },
    });
    expect(asked).toEqual([['switch', 'export', '--full', '--freeze', '-']]);
    expect(exported).toEqual({ text: 'opam-version: "2.0"\n' });
  });

  it("falls back to --full when opam refuses to freeze, with opam's reason", async () => {
    const asked: string[][] = [];
    const exported = await exportSwitch({
      root,
      runOpam: async (args) => {
        asked.push([...args]);
        if (args.includes('--freeze')) {
          throw new CommandError('opam switch export', {
            exitCode: 5,
            stdout: '',
            stderr:
              "[WARNING] Running as root is not recommended\n\x1b[31m[ERROR]\x1b[0m mirage is path pinned, it can't be exported with --freeze.\n",
          });
        }
        return 'unfrozen\n';
      },
    });
    expect(asked).toEqual([
      ['switch', 'export', '--full', '--freeze', '-'],
      ['switch', 'export', '--full', '-'],
    ]);
    expect(exported).toEqual({
      text: 'unfrozen\n',
      notFrozen: "mirage is path pinned, it can't be exported with --freeze.",
    });
  });
});
