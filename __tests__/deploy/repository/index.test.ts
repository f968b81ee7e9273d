// The writer's branching with a stand-in for the git plumbing (the real one is exercised in
// __tests__/integration/deploy-repo*.test.ts): a push that lost the race is redone on the new tip,
// and a rollback checks the stored image's compressed sha256 before moving `latest`; keep-history's
// cut goes out with a lease on the tip it read.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImageEntry } from '../../../src/deploy/manifest.js';
import type { GitAccess } from '../../../src/deploy/credentials/plan.js';

const BRANCH = 'main';
const porcelain = (flag: string, summary: string) => `To x\n${flag}\tc:refs/heads/${BRANCH}\t${summary}\nDone\n`;

interface FakeRepo {
  tips: string[];
  pushes: Array<{ exitCode: number; stdout: string; stderr: string }>;
  parents: Array<string | undefined>;
  blobs: Map<string, string>;
  tree: Array<{ mode: string; type: string; oid: string; path: string }>;
  checkout: (dest: string) => void;
  blobsCheckedOut: string[];
  /** What each push leased (`keep-history`'s new root), undefined for a plain push. */
  leases: Array<string | undefined>;
  /** The commits each history count finds, in order. */
  counts: number[];
}

const emptyRepo = (): FakeRepo => ({
  tips: [],
  pushes: [],
  parents: [],
  blobs: new Map(),
  tree: [],
  checkout: () => undefined,
  blobsCheckedOut: [],
  leases: [],
  counts: [],
});

const fake: FakeRepo = emptyRepo();

vi.mock('../../../src/deploy/repository/git.js', () => {
  class RepositoryError extends Error {}
  let written = 0;
  const repo = {
    display: 'o/deployment',
    explain: () => undefined,
    timedOut: (c: string) => `${c} timed out`,
    writeFiles: async (paths: string[]) => paths.map(() => `f${++written}`),
    writeText: async (text: string) => {
      // git's own blob id: the writer checks the plan's ids of the manifest and SHA256SUMS against it.
      const data = Buffer.from(text);
      const oid = createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
      fake.blobs.set(oid, text);
      return oid;
    },
    fetchTip: async () => fake.tips.shift(),
    // `<directory>/`'s own entries: its blobs, and one tree per folder of the fake tree
    listDirectory: async (_commit: string, directory: string) => {
      const own = fake.tree.filter((e) => !e.path.slice(directory.length + 1).includes('/'));
      const folders = new Set(fake.tree.map((e) => e.path.split('/').slice(0, 2).join('/')));
      const trees = [...folders]
        .filter((p) => fake.tree.some((e) => e.path.startsWith(`${p}/`)))
        .map((p) => ({ mode: '040000', type: 'tree', oid: `tree:${p}`, path: p }));
      return [...own, ...trees];
    },
    listFolders: async (_directory: string, trees: Map<string, string>) =>
      fake.tree.filter((e) => [...trees.values()].some((oid) => e.path.startsWith(`${oid.slice(5)}/`))),
    fetchBlobs: async () => undefined,
    readText: async (oid: string) => fake.blobs.get(oid) ?? '',
    commit: async (parent: string | undefined) => {
      fake.parents.push(parent);
      return `commit-on-${parent}`;
    },
    push: async (_commit: string, _branch: string, lease?: string) => {
      fake.leases.push(lease);
      return fake.pushes.shift();
    },
    countCommits: async () => fake.counts.shift() ?? 1,
    rootCommit: async (tip: string) => `root-of-${tip}`,
    checkoutBlobs: async (entries: Array<{ name: string }>) => {
      fake.blobsCheckedOut.push(...entries.map((e) => e.name));
    },
    checkoutFolder: async (_c: string, _e: unknown, _p: string, dest: string) => {
      await mkdir(dest, { recursive: true });
      fake.checkout(dest);
    },
  };
  return {
    RepositoryError,
    DeploymentRepository: { open: async () => ({ repo, branch: BRANCH, tip: fake.tips.shift() }) },
  };
});

const { writeDeploy, writeRollback } = await import('../../../src/deploy/repository/index.js');

const access: GitAccess = { url: 'ssh://h/o/d.git', display: 'o/deployment', env: {} };
const SHA = 'b'.repeat(40);
const settings = (workDir: string) => ({
  directory: 'xen',
  sha: SHA,
  dryRun: false,
  author: { name: 'a', email: 'a@example.invalid' },
  sourceRepository: 'o/r',
  runUrl: '',
  workDir,
});

beforeEach(() => {
  Object.assign(fake, emptyRepo());
});

describe('writeDeploy', () => {
  it('redoes the commit on the new tip when the branch moved, not on the tip it first saw', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'writer-test-'));
    fake.tips = ['T1', 'T2'];
    fake.pushes = [
      { exitCode: 1, stdout: porcelain('!', '[rejected] (fetch first)'), stderr: '' },
      { exitCode: 0, stdout: porcelain('*', '[new branch]'), stderr: '' },
    ];
    const entry = {
      name: 'hello',
      compressedSha256: '',
      sha256: '',
      compression: 'none',
      files: {},
      size: 10,
      versions: { ocaml: '5.4.1', opam: '2.4.1', mirage: '4.11.1' },
    } as unknown as ImageEntry;
    const result = await writeDeploy(access, settings(dir), {
      files: [],
      imageFile: 'hello.xen',
      entry,
      source: { repository: 'o/r', sha: SHA, ref: 'refs/heads/main', commitTime: '2026-01-01T00:00:00Z' },
      facts: { sha: SHA, ancestors: [], descendants: [] },
      keep: 0,
    });
    expect(fake.parents).toEqual(['T1', 'T2']);
    expect(result).toMatchObject({ status: 'pushed', commit: 'commit-on-T2', attempts: 2, diff: { first: true } });
  });

  it('keep-history: a cut pushed with a lease that another job broke is redone on the new tip, counted again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'writer-test-'));
    // the clone's tip, then each attempt's deeper read of the branch
    fake.tips = ['T0', 'T1', 'T2'];
    fake.counts = [3, 1];
    fake.pushes = [
      { exitCode: 1, stdout: porcelain('!', '[rejected] (stale info)'), stderr: '' },
      { exitCode: 0, stdout: porcelain(' ', 'T2..c'), stderr: '' },
    ];
    const versions = { ocaml: '', opam: '', mirage: '' };
    const entry = {
      name: 'hello',
      compressedSha256: '',
      sha256: '',
      compression: 'none',
      files: {},
      size: 1,
      versions,
    };
    const result = await writeDeploy(
      access,
      { ...settings(dir), keepHistory: 2 },
      {
        files: [],
        imageFile: 'hello.xen',
        entry: entry as unknown as ImageEntry,
        source: { repository: 'o/r', sha: SHA, ref: 'refs/heads/main', commitTime: '2026-01-01T00:00:00Z' },
        facts: { sha: SHA, ancestors: [], descendants: [] },
        keep: 0,
      },
    );
    // 3 commits > 2: a new root of T1's tree, leased on T1; then T2 holds 1 and is built on
    expect(fake.parents).toEqual(['root-of-T1', 'T2']);
    expect(fake.leases).toEqual(['T1', undefined]);
    expect(result).toMatchObject({ status: 'pushed', commit: 'commit-on-T2', attempts: 2 });
  });

  it('refuses a deploy folder holding a symbolic link before reading any of its blobs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'writer-test-'));
    // A schema 1 manifest whose side file has no recorded hash: the writer would fetch it to hash it.
    fake.blobs.set(
      'm1',
      JSON.stringify({
        schema: 1,
        source: { repository: 'o/r', sha: SHA, ref: 'refs/heads/main' },
        run: { url: '' },
        target: 'xen',
        image: {
          name: 'hello',
          file: 'hello.xen',
          sha256: '1'.repeat(64),
          size: 1,
          compression: 'none',
          compressedSha256: '1'.repeat(64),
          compressedSize: 1,
        },
        files: ['config.ml', 'hello.xl'],
        versions: { ocaml: '', opam: '', mirage: '' },
        builtAt: '2026-01-01T00:00:00Z',
      }),
    );
    fake.tree = [
      { mode: '100644', type: 'blob', oid: 'm1', path: `xen/${SHA}/manifest.json` },
      { mode: '100644', type: 'blob', oid: 'i1', path: `xen/${SHA}/hello.xen` },
      { mode: '100644', type: 'blob', oid: 'x1', path: `xen/${SHA}/hello.xl` },
      { mode: '120000', type: 'blob', oid: 'l1', path: `xen/${SHA}/config.ml` },
    ];
    fake.tips = ['T1'];
    const entry = { compressedSha256: '', sha256: '', compression: 'none', files: {} } as unknown as ImageEntry;
    await expect(
      writeDeploy(access, settings(dir), {
        files: [],
        imageFile: 'other.xen',
        entry,
        source: { repository: 'o/r', sha: SHA, ref: 'refs/heads/main' },
        facts: { sha: SHA, ancestors: [], descendants: [] },
        keep: 0,
      }),
    ).rejects.toThrow(new RegExp(`symbolic links at xen/${SHA}/config.ml`));
    expect(fake.blobsCheckedOut).toEqual([]);
    expect(fake.parents).toEqual([]);
  });
});

describe('writeRollback', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  function deployedFolder(stored: string, claimed: string) {
    const manifest = {
      schema: 1,
      source: { repository: 'o/r', sha: SHA, ref: 'refs/heads/main' },
      run: { url: '' },
      target: 'xen',
      image: {
        name: 'hello',
        file: 'hello.xen',
        sha256: sha256(stored),
        size: stored.length,
        compression: 'none',
        compressedSha256: claimed,
        compressedSize: stored.length,
      },
      files: [],
      versions: { ocaml: '', opam: '', mirage: '' },
      builtAt: '2026-01-01T00:00:00Z',
    };
    fake.blobs.set('m1', JSON.stringify(manifest));
    fake.tree = [
      { mode: '100644', type: 'blob', oid: 'm1', path: `xen/${SHA}/manifest.json` },
      { mode: '100644', type: 'blob', oid: 'i1', path: `xen/${SHA}/hello.xen` },
    ];
    fake.checkout = (dest) => writeFileSync(join(dest, 'hello.xen'), stored);
    fake.tips = ['T1'];
    fake.pushes = [{ exitCode: 0, stdout: porcelain(' ', 'a..b'), stderr: '' }];
  }

  it('refuses an image whose stored bytes no longer match the compressed sha256 of its manifest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'writer-test-'));
    deployedFolder('the image', sha256('another image'));
    await expect(writeRollback(access, settings(dir))).rejects.toThrow(
      new RegExp(
        `xen/${SHA}/hello.xen has sha256 ${sha256('the image')}, but its manifest says ${sha256('another image')}`,
      ),
    );
    expect(fake.parents).toEqual([]);
  });

  it('moves latest when both sha256 match', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'writer-test-'));
    deployedFolder('the image', sha256('the image'));
    await expect(writeRollback(access, settings(dir))).resolves.toMatchObject({ status: 'pushed' });
    expect(fake.parents).toEqual(['T1']);
  });
});
