import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/deploy/manifest.js';
import {
  blobOid,
  commitMessage,
  identifyLatest,
  describeChanges,
  listTarget,
  manifestsToRead,
  parseLsTree,
  planDeploy,
  planRollback,
  type DeployRequest,
  type TargetState,
} from '../../src/deploy/plan.js';

const sha = (c: string) => c.repeat(40);
const oid = (n: number) => n.toString(16).padStart(40, '0');

function manifest(s: string, time: string, imageSha = '1'.repeat(64)): Manifest {
  return {
    schema: 1,
    source: { repository: 'o/r', sha: s, ref: 'refs/heads/main', commitTime: time },
    run: { url: '' },
    target: 'xen',
    image: {
      name: 'www',
      file: 'www.xen.bz2',
      sha256: imageSha,
      size: 1,
      compression: 'bzip2',
      compressedSha256: '2'.repeat(64),
      compressedSize: 1,
    },
    files: ['config.ml'],
    versions: { ocaml: '', opam: '', mirage: '' },
    builtAt: time,
  };
}

/** ls-tree -r -z output for folders of three files each, plus latest and a stray file. */
function lsTree(folders: string[], latest?: string): string {
  const lines = folders.flatMap((s, i) => [
    `100644 blob ${oid(i * 10 + 1)}\txen/${s}/config.ml`,
    `100644 blob ${oid(i * 10 + 2)}\txen/${s}/manifest.json`,
    `100644 blob ${oid(i * 10 + 3)}\txen/${s}/www.xen.bz2`,
  ]);
  if (latest) lines.push(`100644 blob ${latest}\txen/latest`);
  lines.push(`100644 blob ${oid(999)}\txen/README.md`);
  return `${lines.join('\0')}\0`;
}

describe('listing', () => {
  it('parses ls-tree -z records, names with spaces and tabs included', () => {
    expect(parseLsTree(`100644 blob ${oid(1)}\ta b\tc\x00120000 blob ${oid(2)}\tlink\0`)).toEqual([
      { mode: '100644', type: 'blob', oid: oid(1), path: 'a b\tc' },
      { mode: '120000', type: 'blob', oid: oid(2), path: 'link' },
    ]);
    expect(() => parseLsTree('garbage\0')).toThrow(/ls-tree/);
  });

  it('groups <target>/<sha>/ folders and finds latest; other names are left alone', () => {
    const listing = listTarget(parseLsTree(lsTree([sha('a'), sha('b')], oid(500))), 'xen');
    expect(listing.latestOid).toBe(oid(500));
    expect([...listing.folders.keys()]).toEqual([sha('a'), sha('b')]);
    expect([...(listing.folders.get(sha('b'))?.entries() ?? [])]).toEqual([
      ['config.ml', oid(11)],
      ['manifest.json', oid(12)],
      ['www.xen.bz2', oid(13)],
    ]);
  });

  it('reads only the manifests it needs: own and latest, or all of them for keep', () => {
    const listing = listTarget(parseLsTree(lsTree([sha('a'), sha('b'), sha('c')])), 'xen');
    expect([...manifestsToRead(listing, sha('d'), sha('b'), 0).entries()]).toEqual([[sha('b'), oid(12)]]);
    expect([...manifestsToRead(listing, sha('a'), sha('b'), 0).keys()]).toEqual([sha('a'), sha('b')]);
    expect([...manifestsToRead(listing, sha('d'), undefined, 2).keys()]).toEqual([sha('a'), sha('b'), sha('c')]);
  });
});

describe('identifyLatest', () => {
  it('computes git blob ids, SHA-1 and SHA-256 repositories alike', () => {
    expect(blobOid('hello\n', 40)).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
    expect(blobOid('', 40)).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    expect(blobOid('', 64)).toBe('473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813');
  });

  it('finds the folder latest names from its blob id alone; undefined for other contents', () => {
    const folders = [sha('a'), sha('b')];
    const named = listTarget(parseLsTree(lsTree(folders, blobOid(`${sha('b')}\n`, 40))), 'xen');
    expect(identifyLatest(named)).toBe(sha('b'));
    const crlf = listTarget(parseLsTree(lsTree(folders, blobOid(`${sha('b')}\r\n`, 40))), 'xen');
    expect(identifyLatest(crlf)).toBeUndefined();
    expect(identifyLatest(listTarget(parseLsTree(lsTree(folders)), 'xen'))).toBeUndefined();
  });
});

describe('planDeploy', () => {
  const files = [
    { name: 'www.xen.bz2', oid: oid(100) },
    { name: 'config.ml', oid: oid(101) },
    { name: 'manifest.json', oid: oid(102) },
  ];
  const request = (s: string, time: string, keep = 0, imageSha?: string): DeployRequest => ({
    target: 'xen',
    sha: s,
    files,
    manifest: manifest(s, time, imageSha),
    latestOid: oid(200),
    keep,
  });
  const state = (folders: Record<string, string>, latestSha?: string): TargetState => {
    const listing = listTarget(parseLsTree(lsTree(Object.keys(folders), latestSha ? oid(500) : undefined)), 'xen');
    return {
      listing,
      ...(latestSha ? { latestSha } : {}),
      manifests: new Map(Object.entries(folders).map(([s, t]) => [s, manifest(s, t)])),
      ancestry: 'unknown',
    };
  };

  it('into an empty repository: the folder and latest', () => {
    const plan = planDeploy(request(sha('a'), '2026-01-01T00:00:00Z'), state({}));
    expect(plan).toEqual({
      kind: 'commit',
      changes: [
        { path: `xen/${sha('a')}/www.xen.bz2`, oid: oid(100) },
        { path: `xen/${sha('a')}/config.ml`, oid: oid(101) },
        { path: `xen/${sha('a')}/manifest.json`, oid: oid(102) },
        { path: 'xen/latest', oid: oid(200) },
      ],
      latest: { move: true },
      pruned: [],
    });
  });

  /** A state whose folder `sha('a')` holds exactly these blobs (name → oid). */
  const holding = (blobs: Record<string, string>, mode = '100644'): TargetState => {
    const records = Object.entries(blobs).map(
      ([name, o]) => `${name === 'www.xen.bz2' ? mode : '100644'} blob ${o}\txen/${sha('a')}/${name}`,
    );
    return {
      listing: listTarget(parseLsTree(`${records.join('\0')}\0`), 'xen'),
      manifests: new Map([[sha('a'), manifest(sha('a'), '2026-01-01T00:00:00Z')]]),
      ancestry: 'unknown',
    };
  };

  it('the same sha with the same image blobs: unchanged', () => {
    const plan = planDeploy(
      request(sha('a'), '2026-01-01T00:00:00Z'),
      holding({ 'www.xen.bz2': oid(100), 'config.ml': oid(101), 'manifest.json': oid(55) }),
    );
    expect(plan.kind).toBe('unchanged');
  });

  it('an image blob replaced under an unchanged manifest is not the same build: the folder is rewritten', () => {
    const plan = planDeploy(
      request(sha('a'), '2026-01-01T00:00:00Z'),
      holding({ 'www.xen.bz2': oid(66), 'config.ml': oid(101), 'manifest.json': oid(55) }),
    );
    expect(plan.kind === 'commit' && plan.changes).toContainEqual({
      path: `xen/${sha('a')}/www.xen.bz2`,
      oid: oid(100),
    });
    const noManifest = planDeploy(
      request(sha('a'), '2026-01-01T00:00:00Z'),
      holding({ 'www.xen.bz2': oid(100), 'config.ml': oid(101) }),
    );
    expect(noManifest.kind).toBe('commit');
  });

  it('refuses to write into a folder, or past a latest, that holds a symbolic link; ignores links elsewhere', () => {
    const linked = holding({ 'www.xen.bz2': oid(100), 'config.ml': oid(101), 'manifest.json': oid(55) }, '120000');
    expect(linked.listing.folders.get(sha('a'))?.has('www.xen.bz2')).toBe(false);
    expect(() => planDeploy(request(sha('a'), '2026-01-01T00:00:00Z'), linked)).toThrow(
      new RegExp(`symbolic links at xen/${sha('a')}/www.xen.bz2`),
    );
    const latestLink = listTarget(parseLsTree(`120000 blob ${oid(1)}\txen/latest\0`), 'xen');
    expect(latestLink.latestOid).toBeUndefined();
    expect(() =>
      planDeploy(request(sha('b'), '2026-01-01T00:00:00Z'), {
        listing: latestLink,
        manifests: new Map(),
        ancestry: 'unknown',
      }),
    ).toThrow(/symbolic links at xen\/latest/);
    const elsewhere = listTarget(
      parseLsTree(`120000 blob ${oid(1)}\txen/${sha('c')}/www.xen.bz2\x00120000 blob ${oid(2)}\txen/README\0`),
      'xen',
    );
    expect(
      planDeploy(request(sha('b'), '2026-01-01T00:00:00Z'), {
        listing: elsewhere,
        manifests: new Map(),
        ancestry: 'unknown',
      }).kind,
    ).toBe('commit');
    expect(() => planRollback('xen', sha('a'), { listing: linked.listing }, oid(7))).toThrow(/symbolic links/);
  });

  it('a manifest claiming a commit time in the future neither pins latest nor steers keep', () => {
    const plan = planDeploy(
      request(sha('d'), '2026-01-04T00:00:00Z', 2),
      state(
        { [sha('a')]: '2099-01-01T00:00:00Z', [sha('b')]: '2026-01-02T00:00:00Z', [sha('c')]: '2026-01-03T00:00:00Z' },
        sha('a'),
      ),
    );
    expect(plan.kind === 'commit' && plan.latest.move).toBe(true);
    expect(plan.kind === 'commit' && plan.pruned).toEqual([sha('b'), sha('a')]);
  });

  it('the same sha with another image: rewrites the folder, dropping files it no longer has', () => {
    const s = state({ [sha('a')]: '2026-01-01T00:00:00Z' }, sha('a'));
    const changed = { ...request(sha('a'), '2026-01-01T00:00:00Z', 0, '9'.repeat(64)), files: files.slice(1) };
    const plan = planDeploy(changed, s);
    expect(plan.kind === 'commit' && plan.changes).toEqual([
      { path: `xen/${sha('a')}/www.xen.bz2` },
      { path: `xen/${sha('a')}/config.ml`, oid: oid(101) },
      { path: `xen/${sha('a')}/manifest.json`, oid: oid(102) },
    ]);
  });

  it('an older build: stores the folder, leaves latest', () => {
    const plan = planDeploy(
      request(sha('a'), '2026-01-01T00:00:00Z'),
      state({ [sha('b')]: '2026-01-02T00:00:00Z' }, sha('b')),
    );
    expect(plan.kind === 'commit' && plan.latest.move).toBe(false);
    expect(plan.kind === 'commit' && plan.changes.map((c) => c.path)).not.toContain('xen/latest');
  });

  it('keep 2: prunes every file of the oldest folders, keeping the new one and latest', () => {
    const plan = planDeploy(
      request(sha('d'), '2026-01-04T00:00:00Z', 2),
      state(
        { [sha('a')]: '2026-01-01T00:00:00Z', [sha('b')]: '2026-01-02T00:00:00Z', [sha('c')]: '2026-01-03T00:00:00Z' },
        sha('c'),
      ),
    );
    expect(plan.kind === 'commit' && plan.pruned).toEqual([sha('b'), sha('a')]);
    expect(plan.kind === 'commit' && plan.changes.filter((c) => c.oid === undefined).map((c) => c.path)).toEqual([
      `xen/${sha('b')}/config.ml`,
      `xen/${sha('b')}/manifest.json`,
      `xen/${sha('b')}/www.xen.bz2`,
      `xen/${sha('a')}/config.ml`,
      `xen/${sha('a')}/manifest.json`,
      `xen/${sha('a')}/www.xen.bz2`,
    ]);
  });

  it('keep 1 with a late older build keeps latest and the folder being written', () => {
    const plan = planDeploy(
      request(sha('a'), '2026-01-01T00:00:00Z', 1),
      state({ [sha('b')]: '2026-01-02T00:00:00Z', [sha('c')]: '2026-01-03T00:00:00Z' }, sha('c')),
    );
    expect(plan.kind === 'commit' && plan.pruned).toEqual([sha('b')]);
  });

  it('keep 1 when latest names the oldest folder (after a rollback) and an older build arrives: latest stays, its folder too', () => {
    const plan = planDeploy(
      request(sha('z'), '2025-12-01T00:00:00Z', 1),
      state(
        { [sha('a')]: '2026-01-01T00:00:00Z', [sha('b')]: '2026-01-02T00:00:00Z', [sha('c')]: '2026-01-03T00:00:00Z' },
        sha('a'),
      ),
    );
    expect(plan.kind === 'commit' && plan.latest.move).toBe(false);
    expect(plan.kind === 'commit' && plan.pruned).toEqual([sha('b')]);
    expect(plan.kind === 'commit' && plan.changes.map((c) => c.path).filter((p) => p.includes(sha('a')))).toEqual([]);
  });
});

describe('planRollback', () => {
  const listing = listTarget(parseLsTree(lsTree([sha('a'), sha('b')], oid(500))), 'xen');
  it.each([
    ['a deployed sha', sha('a'), sha('b'), { kind: 'commit', changes: [{ path: 'xen/latest', oid: oid(7) }] }],
    ['the sha latest already names', sha('b'), sha('b'), { kind: 'unchanged' }],
    ['a sha never deployed', sha('c'), sha('b'), { kind: 'missing', deployed: [sha('a'), sha('b')] }],
  ])('%s', (_name, target, latest, expected) => {
    expect(planRollback('xen', target, { listing, latestSha: latest }, oid(7))).toMatchObject(expected);
  });
});

describe('messages', () => {
  it('puts the source and run in the body', () => {
    expect(
      commitMessage({ subject: 'adding x for xen', repository: 'o/r', sha: 'x', runUrl: 'https://r/1', notes: ['n'] }),
    ).toBe('adding x for xen\n\no/r@x\nhttps://r/1\nn\n');
    expect(commitMessage({ subject: 's', repository: '', sha: 'x', runUrl: '', notes: [] })).toBe('s\n\nx\n');
  });

  it('lists what a dry run would commit', () => {
    expect(
      describeChanges(
        [
          { path: 'xen/a/www.xen.bz2', oid: oid(1) },
          { path: 'xen/latest', oid: oid(2) },
          { path: 'xen/b/www.xen.bz2' },
        ],
        new Map([[oid(1), 1234]]),
        { path: 'xen/latest', sha: 'a' },
      ),
    ).toEqual(['write xen/a/www.xen.bz2 (1234 bytes)', 'write xen/latest (a)', 'remove xen/b/www.xen.bz2']);
  });
});
