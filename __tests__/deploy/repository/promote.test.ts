import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ImageEntry, Manifest } from '../../../src/deploy/manifest.js';
import { blobOid, type TargetListing, type TargetState } from '../../../src/deploy/repository/plan.js';
import {
  missingSource,
  planPromote,
  promotedFiles,
  resolvePromoteSha,
  type PromoteRequest,
} from '../../../src/deploy/repository/promote.js';

const sha = (c: string) => c.repeat(40);
const oid = (n: number) => n.toString(16).padStart(40, '0');
const hex = (text: string) => createHash('sha256').update(text).digest('hex');

function entry(over: Partial<ImageEntry> = {}): ImageEntry {
  return {
    name: 'www',
    builtName: 'www',
    target: 'xen',
    sha256: '1'.repeat(64),
    size: 1,
    compression: 'bzip2',
    compressedSha256: '2'.repeat(64),
    compressedSize: 1,
    bootArgs: ['--ipv4=10.0.0.2/24'],
    configFile: 'config.ml',
    files: { 'config.ml': '3'.repeat(64), 'www.args': hex('--ipv4=10.0.0.2/24\n'), 'www.xl': '4'.repeat(64) },
    run: { url: '' },
    versions: { ocaml: '', opam: '', mirage: '' },
    builtAt: '2026-01-01T00:00:00Z',
    ...over,
  };
}

const manifest = (s: string, time: string): Manifest => ({
  schema: 2,
  source: { repository: 'o/r', sha: s, ref: 'refs/heads/main', commitTime: time },
  images: { 'www.xen.bz2': entry() },
});

/** A staged folder's files: name → blob id. */
const staged = new Map([
  ['www.xen.bz2', oid(1)],
  ['www.xl', oid(2)],
  ['www.args', oid(3)],
  ['config.ml', oid(4)],
  ['manifest.json', oid(5)],
  ['SHA256SUMS', oid(6)],
]);

const request: PromoteRequest = {
  from: 'staging',
  directory: 'prod',
  promoteSha: { kind: 'sha', sha: sha('a') },
  keep: 0,
  oidLength: 40,
  sourceRepository: 'o/r',
  runUrl: 'https://example.org/run',
  display: 'the repository',
};

function listing(folders: Record<string, ReadonlyMap<string, string>>, latestOid?: string): TargetListing {
  return { folders: new Map(Object.entries(folders)), ...(latestOid ? { latestOid } : {}) };
}

function destination(
  folders: Record<string, ReadonlyMap<string, string>>,
  latestSha?: string,
  times: Record<string, string> = {},
): TargetState {
  return {
    listing: listing(folders, latestSha ? oid(900) : undefined),
    ...(latestSha ? { latestSha } : {}),
    manifests: new Map(Object.entries(times).map(([s, t]) => [s, manifest(s, t)])),
    ancestry: 'unknown',
  };
}

const A_TIME = '2026-05-01T10:00:00Z';
const promoted = {
  ...promotedFiles(request, sha('a'), staged, manifest(sha('a'), A_TIME)),
  manifest: manifest(sha('a'), A_TIME),
};
const LATEST_OID = oid(777);

describe('resolvePromoteSha', () => {
  it('is the sha given, or the one the source folder`s latest names', () => {
    const source = { listing: listing({}), latestSha: sha('b') };
    expect(resolvePromoteSha(request, source)).toEqual({ sha: sha('a') });
    expect(resolvePromoteSha({ ...request, promoteSha: { kind: 'latest' } }, source)).toEqual({ sha: sha('b') });
  });

  it('says so when the source folder has no latest', () => {
    const r = resolvePromoteSha({ ...request, promoteSha: { kind: 'latest' } }, { listing: listing({}) });
    expect(r).toEqual({
      message:
        'input `promote-sha`: `staging/latest` names no deployed commit in the repository; give the sha to promote, or deploy to `promote-from` first',
    });
  });
});

describe('missingSource', () => {
  it('is undefined for a staged folder, else names promote-from and what is there', () => {
    expect(missingSource(request, sha('a'), listing({ [sha('a')]: staged }))).toBeUndefined();
    expect(missingSource(request, sha('c'), listing({ [sha('a')]: staged }))).toBe(
      `input \`promote-from\`: there is no staging/${sha('c')}/ in the repository to promote; deployed there: ${sha('a')}`,
    );
    expect(missingSource(request, sha('c'), listing({}))).toMatch(/; nothing is deployed in staging\/$/);
  });
});

describe('promotedFiles', () => {
  it('without boot-args: the source folder`s blobs, nothing generated', () => {
    expect(promoted.files).toBe(staged);
    expect(promoted.generated).toEqual([]);
  });

  it('with boot-args: a new .args, the manifest recording them and SHA256SUMS; every other blob as staged', () => {
    const args = ['--ipv4=192.0.2.7/24'];
    const out = promotedFiles({ ...request, bootArgs: args }, sha('a'), staged, manifest(sha('a'), A_TIME));
    const byPath = new Map(out.generated.map((g) => [g.path, g]));
    const argsFile = byPath.get(`prod/${sha('a')}/www.args`);
    expect(argsFile?.text).toBe('--ipv4=192.0.2.7/24\n');
    expect(argsFile?.oid).toBe(blobOid('--ipv4=192.0.2.7/24\n', 40));
    const written = JSON.parse(byPath.get(`prod/${sha('a')}/manifest.json`)?.text ?? '{}');
    expect(written.images['www.xen.bz2'].bootArgs).toEqual(args);
    expect(written.images['www.xen.bz2'].files['www.args']).toBe(hex('--ipv4=192.0.2.7/24\n'));
    const sums = byPath.get(`prod/${sha('a')}/SHA256SUMS`)?.text ?? '';
    expect(sums).toContain(`${hex('--ipv4=192.0.2.7/24\n')}  www.args\n`);
    expect(sums).toContain(`${'2'.repeat(64)}  www.xen.bz2\n`);
    expect(sums).toContain(`# unpacked: ${'1'.repeat(64)}  www.xen\n`);
    for (const name of ['www.xen.bz2', 'www.xl', 'config.ml']) expect(out.files.get(name)).toBe(staged.get(name));
    for (const name of ['www.args', 'manifest.json', 'SHA256SUMS'])
      expect(out.files.get(name)).not.toBe(staged.get(name));
  });
});

describe('planPromote', () => {
  it('a first promote writes the folder by blob id and latest', () => {
    const plan = planPromote(request, sha('a'), LATEST_OID, promoted, destination({}));
    expect(plan.kind === 'commit' && plan.changes).toEqual([
      ...[...staged].map(([name, id]) => ({ path: `prod/${sha('a')}/${name}`, oid: id })),
      { path: 'prod/latest', oid: LATEST_OID },
    ]);
    expect(plan.kind === 'commit' && plan.latestMoved).toBe(true);
    expect(plan.kind === 'commit' && plan.message).toMatch(new RegExp(`^promoting staging/${sha('a')} to prod\\n`));
  });

  it('writes the record of the move (latest.deployment) beside latest, and only when latest moves', () => {
    const RECORD_OID = oid(77);
    const moved = planPromote({ ...request, recordOid: RECORD_OID }, sha('a'), LATEST_OID, promoted, destination({}));
    expect(moved.kind === 'commit' && moved.changes.slice(-2)).toEqual([
      { path: 'prod/latest', oid: LATEST_OID },
      { path: 'prod/latest.deployment', oid: RECORD_OID },
    ]);
    const state = destination({ [sha('n')]: staged }, sha('n'), { [sha('n')]: '2026-05-02T00:00:00Z' });
    const kept = planPromote({ ...request, recordOid: RECORD_OID }, sha('a'), LATEST_OID, promoted, state);
    expect(kept.kind === 'commit' && kept.changes.some((c) => c.path === 'prod/latest.deployment')).toBe(false);
  });

  it('the same bytes already there, latest naming them: unchanged', () => {
    const plan = planPromote(
      request,
      sha('a'),
      LATEST_OID,
      promoted,
      destination({ [sha('a')]: staged }, sha('a'), { [sha('a')]: A_TIME }),
    );
    expect(plan).toEqual({ kind: 'unchanged', reason: `prod/${sha('a')}/ is already there, with the same bytes` });
  });

  it('other bytes in the destination folder: refused, naming promote-from', () => {
    const other = new Map([...staged, ['www.xen.bz2', oid(99)]]);
    const plan = planPromote(request, sha('a'), LATEST_OID, promoted, destination({ [sha('a')]: other }));
    expect(plan.kind).toBe('conflict');
    expect(plan.kind === 'conflict' && plan.message).toMatch(
      new RegExp(
        `^input \`promote-from\`: prod/${sha('a')}/ already exists in the repository with other files or bytes`,
      ),
    );
  });

  it('never moves latest backwards: a newer build named there stays, the folder is still written', () => {
    const state = destination({ [sha('n')]: staged }, sha('n'), { [sha('n')]: '2026-05-02T00:00:00Z' });
    const plan = planPromote(request, sha('a'), LATEST_OID, promoted, state);
    expect(plan.kind === 'commit' && plan.latestMoved).toBe(false);
    expect(plan.kind === 'commit' && plan.changes.some((c) => c.path === 'prod/latest')).toBe(false);
    expect(plan.kind === 'commit' && plan.notes.join('\n')).toMatch(/`latest` is left as it is/);
  });

  it('keep applies to the destination, never to the folder latest names', () => {
    const times = { [sha('1')]: '2026-01-01T00:00:00Z', [sha('2')]: '2026-02-01T00:00:00Z' };
    const state = destination({ [sha('1')]: staged, [sha('2')]: staged }, sha('2'), times);
    const plan = planPromote({ ...request, keep: 2 }, sha('a'), LATEST_OID, promoted, state);
    expect(plan.kind === 'commit' && plan.changes.filter((c) => c.oid === undefined).map((c) => c.path)).toEqual(
      [...staged.keys()].map((name) => `prod/${sha('1')}/${name}`),
    );
    expect(plan.kind === 'commit' && plan.notes).toContain(`keep 2: removed prod/${sha('1')}`);
  });
});
