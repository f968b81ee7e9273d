import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ImageEntry, type Manifest, parseManifest } from '../../../src/deploy/manifest.js';
import {
  type Ancestry,
  blobOid,
  type BuildOrder,
  chooseToPrune,
  decideLatest,
  commitMessage,
  type DeployRequest,
  describeChanges,
  identifyLatest,
  listTarget,
  manifestsToRead,
  parseLsTree,
  planDeploy,
  planRollback,
  folderNames,
  foldersToRead,
  type TargetState,
} from '../../../src/deploy/repository/plan.js';
import {
  classifyPush,
  historyDepth,
  historyRootMessage,
  isTransientFailure,
  MAX_PUSH_ATTEMPTS,
  MAX_STALLED_PUSHES,
  planStalledPush,
  remoteLines,
  splitProgress,
  type StalledPush,
  retryDelay,
  rewritesHistory,
} from '../../../src/deploy/repository/plan.js';

const sha = (c: string) => c.repeat(40);
const oid = (n: number) => n.toString(16).padStart(40, '0');

const CONFIG_SHA = '3'.repeat(64);

function entry(name: string, imageSha = '1'.repeat(64), over: Partial<ImageEntry> = {}): ImageEntry {
  return {
    name,
    builtName: 'www',
    target: 'xen',
    sha256: imageSha,
    size: 1,
    compression: 'bzip2',
    compressedSha256: '2'.repeat(64),
    compressedSize: 1,
    bootArgs: [],
    configFile: 'config.ml',
    files: { 'config.ml': CONFIG_SHA },
    run: { url: '' },
    versions: { ocaml: '', opam: '', mirage: '' },
    builtAt: '2026-01-01T00:00:00Z',
    ...over,
  };
}

function manifest(s: string, time: string, imageSha = '1'.repeat(64)): Manifest {
  return {
    schema: 2,
    source: { repository: 'o/r', sha: s, ref: 'refs/heads/main', commitTime: time },
    images: { 'www.xen.bz2': entry('www', imageSha) },
  };
}

/** ls-tree -r -z output for folders of one image (four files each), plus latest and a stray file. */
function lsTree(folders: string[], latest?: string): string {
  const lines = folders.flatMap((s, i) => [
    `100644 blob ${oid(i * 10 + 1)}\txen/${s}/config.ml`,
    `100644 blob ${oid(i * 10 + 2)}\txen/${s}/manifest.json`,
    `100644 blob ${oid(i * 10 + 3)}\txen/${s}/www.xen.bz2`,
    `100644 blob ${oid(i * 10 + 4)}\txen/${s}/SHA256SUMS`,
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
      ['SHA256SUMS', oid(14)],
    ]);
  });

  it('reads only the manifests it needs: own and latest, or all of them for keep', () => {
    const listing = listTarget(parseLsTree(lsTree([sha('a'), sha('b'), sha('c')])), 'xen');
    expect([...manifestsToRead(listing, sha('d'), sha('b'), 0).entries()]).toEqual([[sha('b'), oid(12)]]);
    expect([...manifestsToRead(listing, sha('a'), sha('b'), 0).keys()]).toEqual([sha('a'), sha('b')]);
    expect([...manifestsToRead(listing, sha('d'), undefined, 2).keys()]).toEqual([sha('a'), sha('b'), sha('c')]);
  });
});

describe('a listing read tree by tree', () => {
  /** `xen/`'s own entries as the writer reads them first: latest, one tree per folder, a stray file. */
  const directory = (folders: string[], latest?: string) =>
    parseLsTree(
      [
        ...folders.map((s, i) => `040000 tree ${oid(700 + i)}\txen/${s}`),
        ...(latest ? [`100644 blob ${latest}\txen/latest`] : []),
        `040000 tree ${oid(800)}\txen/not-a-sha`,
        '',
      ].join('\0'),
    );

  it('knows every folder by its tree, and the files of those read only', () => {
    const top = listTarget(directory([sha('a'), sha('b')], blobOid(`${sha('b')}\n`, 40)), 'xen');
    expect([...(top.trees ?? new Map())]).toEqual([
      [sha('a'), oid(700)],
      [sha('b'), oid(701)],
    ]);
    expect(top.folders.size).toBe(0);
    expect(identifyLatest(top)).toBe(sha('b'));
    const files = parseLsTree(lsTree([sha('a'), sha('b')])).filter((e) => e.path.startsWith(`xen/${sha('b')}/`));
    const read = listTarget([...directory([sha('a'), sha('b')]), ...files], 'xen');
    expect([...read.folders.keys()]).toEqual([sha('b')]);
    expect(folderNames(read)).toEqual([sha('a'), sha('b')]);
  });

  it("reads its own folder and latest's, or every folder for keep; never one that is not there", () => {
    const top = listTarget(directory([sha('a'), sha('b'), sha('c')]), 'xen');
    expect([...foldersToRead(top, sha('a'), sha('b'), 0)]).toEqual([
      [sha('a'), oid(700)],
      [sha('b'), oid(701)],
    ]);
    expect([...foldersToRead(top, sha('d'), undefined, 0)]).toEqual([]);
    expect([...foldersToRead(top, sha('d'), sha('b'), 1).keys()]).toEqual([sha('a'), sha('b'), sha('c')]);
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

/** A rollback of `xen` to `target`, as the writer asks it. */
const rollbackTo = (target: string) => ({
  directory: 'xen',
  sha: target,
  latestOid: oid(7),
  sourceRepository: 'o/r',
  runUrl: '',
  display: 'o/deployment',
});

describe('planDeploy', () => {
  const files = [
    { name: 'www.xen.bz2', oid: oid(3) },
    { name: 'config.ml', oid: oid(1) },
  ];
  const source = (s: string, time: string) => ({
    repository: 'o/r',
    sha: s,
    ref: 'refs/heads/main',
    commitTime: time,
  });
  const request = (s: string, time: string, keep = 0, imageSha?: string): DeployRequest => ({
    directory: 'xen',
    sha: s,
    imageFile: 'www.xen.bz2',
    entry: entry('www', imageSha),
    source: source(s, time),
    files,
    latestOid: oid(200),
    keep,
    oidLength: 40,
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
  const generated = (plan: ReturnType<typeof planDeploy>, name: string) =>
    plan.kind === 'commit' ? plan.generated.find((g) => g.path.endsWith(`/${name}`))?.text : undefined;

  it('into an empty repository: the image, its files, the manifest, SHA256SUMS and latest', () => {
    const plan = planDeploy(request(sha('a'), '2026-01-01T00:00:00Z'), state({}));
    if (plan.kind !== 'commit') throw new Error(plan.kind);
    const manifestText = generated(plan, 'manifest.json') ?? '';
    const sumsText = generated(plan, 'SHA256SUMS') ?? '';
    expect(plan.changes).toEqual([
      { path: `xen/${sha('a')}/www.xen.bz2`, oid: oid(3) },
      { path: `xen/${sha('a')}/config.ml`, oid: oid(1) },
      { path: `xen/${sha('a')}/manifest.json`, oid: blobOid(manifestText, 40) },
      { path: `xen/${sha('a')}/SHA256SUMS`, oid: blobOid(sumsText, 40) },
      { path: 'xen/latest', oid: oid(200) },
    ]);
    expect(plan.latest).toEqual({ move: true });
    expect(parseManifest(manifestText)?.images).toEqual({ 'www.xen.bz2': entry('www') });
    const manifestSha = createHash('sha256').update(manifestText).digest('hex');
    expect(sumsText).toBe(
      [
        `${'3'.repeat(64)}  config.ml`,
        `${manifestSha}  manifest.json`,
        `${'2'.repeat(64)}  www.xen.bz2`,
        `# unpacked: ${'1'.repeat(64)}  www.xen`,
        '',
      ].join('\n'),
    );
  });

  it('writes latest.deployment beside latest only in a commit that moves latest', () => {
    const record = { ...request(sha('b'), '2026-01-02T00:00:00Z'), recordOid: oid(300) };
    const moves = planDeploy(record, state({ [sha('a')]: '2026-01-01T00:00:00Z' }, sha('a')));
    if (moves.kind !== 'commit') throw new Error(moves.kind);
    expect(moves.changes.slice(-2)).toEqual([
      { path: 'xen/latest', oid: oid(200) },
      { path: 'xen/latest.deployment', oid: oid(300) },
    ]);
    const older = { ...request(sha('b'), '2025-01-01T00:00:00Z'), recordOid: oid(300) };
    const stays = planDeploy(older, state({ [sha('a')]: '2026-01-01T00:00:00Z' }, sha('a')));
    if (stays.kind !== 'commit') throw new Error(stays.kind);
    expect(stays.latest.move).toBe(false);
    expect(stays.changes.map((c) => c.path)).not.toContain('xen/latest.deployment');
  });

  it('a rollback writes its record beside latest', () => {
    const listing = listTarget(parseLsTree(lsTree([sha('a'), sha('b')])), 'xen');
    const plan = planRollback({ ...rollbackTo(sha('a')), recordOid: oid(301) }, { listing, latestSha: sha('b') });
    expect(plan).toMatchObject({
      kind: 'commit',
      changes: [
        { path: 'xen/latest', oid: oid(7) },
        { path: 'xen/latest.deployment', oid: oid(301) },
      ],
      latestMoved: true,
    });
  });

  /** A state whose folder `sha('a')` holds exactly these blobs (name → oid), its manifest read as `manifest()`. */
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
  /** This image's blobs as `request` writes them, and the folder's own files. */
  const same = { 'www.xen.bz2': oid(3), 'config.ml': oid(1), 'manifest.json': oid(55), SHA256SUMS: oid(56) };

  it('the same sha with the same image and files: unchanged', () => {
    const plan = planDeploy(
      request(sha('a'), '2026-01-01T00:00:00Z'),
      state({ [sha('a')]: '2026-01-01T00:00:00Z' }, sha('a')),
    );
    expect(plan.kind).toBe('unchanged');
    expect(planDeploy(request(sha('a'), '2026-01-01T00:00:00Z'), holding(same)).kind).toBe('unchanged');
  });

  it('an image blob replaced under an unchanged manifest is not the same build: the folder is rewritten', () => {
    const plan = planDeploy(request(sha('a'), '2026-01-01T00:00:00Z'), holding({ ...same, 'www.xen.bz2': oid(66) }));
    expect(plan.kind === 'commit' && plan.changes).toContainEqual({
      path: `xen/${sha('a')}/www.xen.bz2`,
      oid: oid(3),
    });
    const noManifestBlobs = Object.fromEntries(Object.entries(same).filter(([name]) => name !== 'manifest.json'));
    const noManifest = planDeploy(request(sha('a'), '2026-01-01T00:00:00Z'), holding(noManifestBlobs));
    expect(noManifest.kind).toBe('commit');
  });

  it('refuses to write into a folder, or past a latest, that holds a symbolic link; ignores links elsewhere', () => {
    const linked = holding(same, '120000');
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
    expect(() => planRollback(rollbackTo(sha('a')), { listing: linked.listing })).toThrow(/symbolic links/);
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

  it("a build without a commit time takes its folder's earlier one, but not one in the future", () => {
    const noTime = { repository: 'o/r', sha: sha('a'), ref: 'refs/heads/main' };
    const r = {
      ...request(sha('a'), '2026-01-01T00:00:00Z'),
      source: noTime,
      files: [{ name: 'www.xen.bz2', oid: oid(300) }],
    };
    const sourceOf = (folderTime: string) => {
      const plan = planDeploy(r, state({ [sha('a')]: folderTime }));
      return parseManifest(generated(plan, 'manifest.json') ?? '')?.source;
    };
    expect(sourceOf('2025-12-01T00:00:00Z')?.commitTime).toBe('2025-12-01T00:00:00Z');
    expect(sourceOf('2099-01-01T00:00:00Z')).toEqual(noTime);
  });

  it('the same image with other boot arguments is not a re-run', () => {
    const r = request(sha('a'), '2026-01-01T00:00:00Z');
    const plan = planDeploy(
      { ...r, entry: { ...r.entry, bootArgs: ['--ipv4=10.0.0.2/24'] } },
      state({ [sha('a')]: '2026-01-01T00:00:00Z' }, sha('a')),
    );
    expect(plan.kind).toBe('commit');
  });

  it('the same sha with another image: replaces it, dropping files the image no longer has', () => {
    const s = state({ [sha('a')]: '2026-01-01T00:00:00Z' }, sha('a'));
    const changed = {
      ...request(sha('a'), '2026-01-01T00:00:00Z', 0, '9'.repeat(64)),
      files: [{ name: 'www.xen.bz2', oid: oid(300) }],
      entry: entry('www', '9'.repeat(64), { configFile: 'config.ml', files: {} }),
    };
    const plan = planDeploy(changed, s);
    expect(plan.kind === 'commit' && plan.changes.map((c) => [c.path, c.oid !== undefined])).toEqual([
      [`xen/${sha('a')}/config.ml`, false],
      [`xen/${sha('a')}/www.xen.bz2`, true],
      [`xen/${sha('a')}/manifest.json`, true],
      [`xen/${sha('a')}/SHA256SUMS`, true],
    ]);
  });

  describe('a second image in the folder', () => {
    const second = (config = oid(1)): DeployRequest => ({
      ...request(sha('a'), '2026-01-01T00:00:00Z'),
      imageFile: 'mir-mirage.io.xen.bz2',
      entry: entry('mir-mirage.io', '5'.repeat(64), {
        compressedSha256: '6'.repeat(64),
        bootArgs: ['--ipv4=10.0.0.2/24'],
        files: { 'config.ml': CONFIG_SHA, 'mir-mirage.io.args': '7'.repeat(64) },
      }),
      files: [
        { name: 'mir-mirage.io.xen.bz2', oid: oid(400) },
        { name: 'config.ml', oid: config },
        { name: 'mir-mirage.io.args', oid: oid(401) },
      ],
    });

    it('keeps the other image and its files, and adds its entry to the manifest and SHA256SUMS', () => {
      const plan = planDeploy(second(), state({ [sha('a')]: '2026-01-01T00:00:00Z' }, sha('a')));
      if (plan.kind !== 'commit') throw new Error(plan.kind);
      expect(plan.changes.filter((c) => c.oid === undefined)).toEqual([]);
      expect(plan.others).toEqual(['www.xen.bz2']);
      expect(plan.latest.move).toBe(false);
      expect(Object.keys(parseManifest(generated(plan, 'manifest.json') ?? '')?.images ?? {})).toEqual([
        'mir-mirage.io.xen.bz2',
        'www.xen.bz2',
      ]);
      const sums = (generated(plan, 'SHA256SUMS') ?? '').split('\n');
      expect(sums.map((l) => l.replace(/^(# unpacked: )?[0-9a-f]{64} {2}/, '$1'))).toEqual([
        'config.ml',
        'manifest.json',
        'mir-mirage.io.args',
        'mir-mirage.io.xen.bz2',
        'www.xen.bz2',
        '# unpacked: mir-mirage.io.xen',
        '# unpacked: www.xen',
        '',
      ]);
    });

    it('a config file of the same name with other bytes is a conflict naming `config-file`', () => {
      const plan = planDeploy(second(oid(402)), state({ [sha('a')]: '2026-01-01T00:00:00Z' }, sha('a')));
      expect(plan.kind).toBe('conflict');
      expect(plan.kind === 'conflict' && plan.message).toMatch(
        /^input `config-file`: `xen\/a{40}\/config.ml` holds the config file of the image `www.xen.bz2`, with other bytes/,
      );
    });

    it('a side file of another image with other bytes is a conflict naming `deploy-image-name`', () => {
      const r = second();
      const clash = { ...r, files: [...r.files, { name: 'www.xen.bz2', oid: oid(403) }] };
      const plan = planDeploy(clash, state({ [sha('a')]: '2026-01-01T00:00:00Z' }, sha('a')));
      expect(plan.kind === 'conflict' && plan.message).toMatch(
        /^input `deploy-image-name`: .* is the image with other bytes/,
      );
    });

    it("a file named like the folder's own files is refused", () => {
      const r = second();
      const plan = planDeploy({ ...r, files: [...r.files, { name: 'SHA256SUMS', oid: oid(404) }] }, state({}));
      expect(plan.kind === 'conflict' && plan.message).toMatch(/^input `deploy-image-name`: .*`SHA256SUMS`/);
    });
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
      `xen/${sha('b')}/SHA256SUMS`,
      `xen/${sha('a')}/config.ml`,
      `xen/${sha('a')}/manifest.json`,
      `xen/${sha('a')}/www.xen.bz2`,
      `xen/${sha('a')}/SHA256SUMS`,
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
    [
      'a deployed sha',
      sha('a'),
      sha('b'),
      {
        kind: 'commit',
        changes: [{ path: 'xen/latest', oid: oid(7) }],
        notes: [`\`latest\` named ${sha('b')} before`],
        listing: [`write xen/latest (${sha('a')})`],
        message: `rolling back xen to ${sha('a')}\n\no/r@${sha('a')}\n\`latest\` named ${sha('b')} before\n`,
      },
    ],
    ['the sha latest already names', sha('b'), sha('b'), { kind: 'unchanged' }],
    [
      'a sha never deployed',
      sha('c'),
      sha('b'),
      {
        kind: 'missing',
        message:
          `input \`rollback-to\`: ${sha('c')} is not deployed for target xen in o/deployment: there is no ` +
          `xen/${sha('c')}/ on its branch; deployed there: ${sha('a')}, ${sha('b')}`,
      },
    ],
  ])('%s', (_name, target, latest, expected) => {
    expect(planRollback(rollbackTo(target), { listing, latestSha: latest })).toMatchObject(expected);
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

const C = 'c'.repeat(40);
const porcelain = (flag: string, summary: string) =>
  `To ssh://host/repo.git\n${flag}\t${C}:refs/heads/main\t${summary}\nDone\n`;

describe('keep-history', () => {
  it('reads one commit more than it keeps, or the tip alone without keep-history', () => {
    expect(historyDepth(undefined)).toBe(1);
    expect(historyDepth(4)).toBe(5);
  });

  it.each([
    [1, undefined, false],
    [5, undefined, false],
    [4, 4, false],
    [5, 4, true],
    [1, 1, false],
    [2, 1, true],
  ] as const)('%i commits counted with keep-history %s: a new root is %s', (counted, keep, cut) => {
    expect(rewritesHistory(counted, keep)).toBe(cut);
  });

  it('names the tip the root replaces, whose tree it holds', () => {
    const tip = 'a'.repeat(40);
    expect(historyRootMessage(tip, 4)).toMatch(
      new RegExp(`^history cut by keep-history 4\n\nThis root holds the tree of ${tip}, the tip it replaces`),
    );
  });

  it.each([
    [
      'a plain server',
      '[remote rejected] (non-fast-forward)',
      'remote: error: denying non-fast-forward refs/heads/main (you should fetch first)',
    ],
    [
      'GitHub',
      '[remote rejected] (protected branch hook declined)',
      'remote: error: GH006: Protected branch update failed for refs/heads/main.\nremote: error: Cannot force-push to this branch',
    ],
  ])('a forced push refused by %s names the protection and keep-history', (_name, summary, stderr) => {
    const verdict = classifyPush({ exitCode: 1, stdout: porcelain('!', summary), stderr }, 'main', true);
    expect(verdict?.kind).toBe('refused');
    expect(verdict?.kind === 'refused' && verdict.hint).toMatch(/does not take force pushes .* remove `keep-history`/s);
  });

  it('a broken lease (another job pushed since the tip was read) is a retry on the new tip', () => {
    const stdout = porcelain('!', '[rejected] (stale info)');
    expect(classifyPush({ exitCode: 1, stdout, stderr: '' }, 'main', true)).toEqual({
      kind: 'retry',
      reason: 'stale info',
    });
  });

  it('the same refusal of an ordinary push keeps its own hint', () => {
    const stdout = porcelain('!', '[remote rejected] (pre-receive hook declined)');
    const stderr = 'remote: error: GH006: Protected branch update failed for refs/heads/main.';
    const verdict = classifyPush({ exitCode: 1, stdout, stderr }, 'main');
    expect(verdict?.kind === 'refused' && verdict.hint).toMatch(/deploy-repository-branch/);
  });
});

describe('classifyPush', () => {
  const cases: Array<[string, number, string, string, string | undefined, RegExp | undefined]> = [
    ['a fast-forward', 0, porcelain(' ', 'aaaaaaa..bbbbbbb'), '', 'pushed', undefined],
    ['a new branch', 0, porcelain('*', '[new branch]'), '', 'pushed', undefined],
    [
      'the branch moved',
      1,
      porcelain('!', '[rejected] (fetch first)'),
      'hint: Updates were rejected',
      'retry',
      /fetch first/,
    ],
    ['not a fast-forward', 1, porcelain('!', '[rejected] (non-fast-forward)'), '', 'retry', /non-fast-forward/],
    [
      'a concurrent push held the lock',
      1,
      porcelain('!', '[remote rejected] (failed to update ref)'),
      "remote: error: cannot lock ref 'refs/heads/main': Unable to create '/r/refs/heads/main.lock': File exists.",
      'retry',
      /locked/,
    ],
    [
      'a protected branch',
      1,
      porcelain('!', '[remote rejected] (pre-receive hook declined)'),
      'remote: error: GH006: Protected branch update failed for refs/heads/main.\nremote: error: Changes must be made through a pull request.',
      'refused',
      /GH006: Protected branch update failed .* Changes must be made through a pull request\./,
    ],
    [
      'a file over the limit',
      1,
      porcelain('!', '[remote rejected] (pre-receive hook declined)'),
      'remote: error: GH001: Large files detected.',
      'refused',
      /GH001/,
    ],
  ];
  it.each(cases)('%s', (_name, exitCode, stdout, stderr, kind, reason) => {
    const verdict = classifyPush({ exitCode, stdout, stderr }, 'main');
    expect(verdict?.kind).toBe(kind);
    if (reason && verdict && verdict.kind !== 'pushed') expect(verdict.reason).toMatch(reason);
  });

  it.each([
    ['GH006: Protected branch', /deploy-repository-branch/],
    ['GH001: Large files detected', /compression: xz/],
    ['some policy', /server-side hook/],
  ])('a refusal for %s carries a hint', (said, hint) => {
    const verdict = classifyPush(
      {
        exitCode: 1,
        stdout: porcelain('!', '[remote rejected] (pre-receive hook declined)'),
        stderr: `remote: ${said}`,
      },
      'main',
    );
    expect(verdict?.kind === 'refused' && verdict.hint).toMatch(hint);
  });

  it('is undefined when git printed no status for the ref (no connection, no access)', () => {
    expect(
      classifyPush({ exitCode: 128, stdout: '', stderr: 'fatal: Could not read from remote repository.' }, 'main'),
    ).toBeUndefined();
    expect(
      classifyPush({ exitCode: 1, stdout: porcelain('!', '[rejected] (fetch first)'), stderr: '' }, 'other'),
    ).toBeUndefined();
  });

  it("keeps only the server's own lines", () => {
    expect(remoteLines('remote: error: GH006: x\nremote: \nTo host\nremote:y\n')).toEqual(['error: GH006: x', 'y']);
  });
});

describe('retryDelay', () => {
  it('grows from a quarter second to a ceiling of 8 s, jittered into the upper half', () => {
    const ceilings = Array.from({ length: MAX_PUSH_ATTEMPTS }, (_, i) => retryDelay(i + 2, () => 1));
    expect(ceilings.slice(0, 7)).toEqual([250, 500, 1000, 2000, 4000, 8000, 8000]);
    expect(retryDelay(3, () => 0)).toBe(250);
    expect(retryDelay(3, () => 0.5)).toBe(375);
  });

  it('spreads jobs that lost the same race', () => {
    const seen = new Set([0, 0.2, 0.4, 0.6, 0.8].map((r) => retryDelay(6, () => r)));
    expect(seen.size).toBe(5);
  });
});

describe('isTransientFailure', () => {
  it.each([
    [
      'a 502 from receive-pack',
      'error: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502\nsend-pack: unexpected disconnect while reading sideband packet',
      true,
    ],
    [
      'a 503 on the ref advertisement',
      "fatal: unable to access 'https://h/r.git/': The requested URL returned error: 503",
      true,
    ],
    [
      'sshd over MaxStartups',
      'kex_exchange_identification: Connection closed by remote host\nConnection closed by 127.0.0.1 port 2222\nfatal: Could not read from remote repository.',
      true,
    ],
    [
      'a reset connection',
      'kex_exchange_identification: read: Connection reset by peer\nfatal: Could not read from remote repository.',
      true,
    ],
    ['an answer lost on the way', 'fatal: the remote end hung up unexpectedly', true],
    [
      'a 403',
      "remote: Permission to o/r.git denied to x.\nfatal: unable to access 'https://h/r.git/': The requested URL returned error: 403",
      false,
    ],
    ['a 401', "fatal: Authentication failed for 'https://h/r.git/'", false],
    ['an unknown key', 'git@h: Permission denied (publickey).\nfatal: the remote end hung up unexpectedly', false],
    ['a changed host key', 'Host key verification failed.\nfatal: the remote end hung up unexpectedly', false],
    ['a missing repository', 'ERROR: Repository not found.\nfatal: the remote end hung up unexpectedly', false],
    ['a hook refusing the push', 'remote: error: hook declined\nerror: failed to push some refs', false],
  ])('%s: %s', (_name, stderr, transient) => {
    expect(isTransientFailure({ exitCode: 128, stderr })).toBe(transient);
  });

  it('never a command killed at its deadline or for stalling, nor a success', () => {
    expect(
      isTransientFailure({ exitCode: 137, stderr: 'fatal: the remote end hung up unexpectedly', timedOut: true }),
    ).toBe(false);
    expect(
      isTransientFailure({ exitCode: 137, stderr: 'fatal: the remote end hung up unexpectedly', stalled: true }),
    ).toBe(false);
    expect(isTransientFailure({ exitCode: 0, stderr: 'fatal: the remote end hung up unexpectedly' })).toBe(false);
  });
});

describe('splitProgress', () => {
  it.each<[string, string, { text: string; last?: string }]>([
    ['nothing', '', { text: '' }],
    [
      "the push's own meter, each line redrawn after a carriage return",
      'Enumerating objects: 5, done.\nCounting objects:  50% (1/2)\rCounting objects: 100% (2/2), done.\n' +
        'Delta compression using up to 2 threads\nWriting objects:  50% (1/2)\rWriting objects: 100% (2/2), 1.2 KiB | 1.2 MiB/s, done.\n' +
        'Total 2 (delta 0), reused 0 (delta 0), pack-reused 0\n',
      { text: '', last: 'Total 2 (delta 0), reused 0 (delta 0), pack-reused 0' },
    ],
    [
      'a stall mid-write: the last redraw',
      'Enumerating objects: 5, done.\nWriting objects:  20% (1/5)\rWriting objects:  40% (2/5), 1.00 MiB | 512.00 KiB/s',
      { text: '', last: 'Writing objects:  40% (2/5), 1.00 MiB | 512.00 KiB/s' },
    ],
    [
      "the server's meter goes, its words and git's stay",
      "Writing objects: 100% (3/3), done.\nremote: Resolving deltas: 100% (1/1), done.\nremote: error: hook declined\nerror: failed to push some refs to 'x'",
      {
        text: "remote: error: hook declined\nerror: failed to push some refs to 'x'",
        last: 'remote: Resolving deltas: 100% (1/1), done.',
      },
    ],
    [
      'a failure with no meter at all',
      'git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.',
      { text: 'git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.' },
    ],
  ])('%s', (_name, stderr, expected) => {
    expect(splitProgress(stderr)).toEqual(expected);
  });
});

describe('planStalledPush', () => {
  const stall = (over: Partial<StalledPush>): StalledPush => ({
    stalls: 1,
    landed: false,
    display: 'ssh://git@h/o/d.git',
    branch: 'main',
    commit: 'abcdef012345',
    stallSeconds: 120,
    ...over,
  });

  it('tries twice in all', () => {
    expect(MAX_STALLED_PUSHES).toBe(2);
  });

  it.each<[string, Partial<StalledPush>, 'landed' | 'retry' | 'fail']>([
    ['the first stalled after it landed', { stalls: 1, landed: true }, 'landed'],
    ['the first stalled, not landed', { stalls: 1, landed: false }, 'retry'],
    ['the second stalled after it landed', { stalls: 2, landed: true }, 'landed'],
    ['the second stalled, not landed', { stalls: 2, landed: false }, 'fail'],
  ])('%s: %s', (_name, over, kind) => {
    expect(planStalledPush(stall(over)).kind).toBe(kind);
  });

  it('says it landed, naming the progress deadline and the branch', () => {
    expect(planStalledPush(stall({ landed: true, lastProgress: 'Writing objects: 100% (3/3), done.' }))).toEqual({
      kind: 'landed',
      said:
        '`git push` to ssh://git@h/o/d.git showed no progress for 120 s (the push progress deadline) and was ' +
        "stopped, but `main` is at abcdef012345: it landed\ngit's last progress line: Writing objects: 100% (3/3), done.",
    });
  });

  it('pushes again once, saying why', () => {
    expect(planStalledPush(stall({}))).toEqual({
      kind: 'retry',
      said:
        '`git push` to ssh://git@h/o/d.git showed no progress for 120 s (the push progress deadline) and was ' +
        'stopped; `main` is not at abcdef012345: pushing again, once',
    });
  });

  it('fails the second time, naming the deadline, what was left, and what to check', () => {
    const verdict = planStalledPush(stall({ stalls: 2, stallSeconds: 3 }));
    expect(verdict.kind).toBe('fail');
    expect(verdict.kind === 'fail' && verdict.message).toBe(
      '`git push` to ssh://git@h/o/d.git showed no progress for 3 s (the push progress deadline) and was ' +
        'stopped, 2 times: the server kept the connection open but stopped taking or answering the push. ' +
        '`main` is not at abcdef012345: nothing was pushed. Check the host of `deploy-repository` (its status ' +
        'page, for GitHub) and the network between this runner and it, then re-run the job',
    );
  });
});

describe('latest and keep', () => {
  const A = 'a'.repeat(40);
  const B = 'b'.repeat(40);

  describe('decideLatest', () => {
    const at = (sha: string, time?: string): BuildOrder => (time === undefined ? { sha } : { sha, time });
    const cases: Array<[string, BuildOrder, BuildOrder | undefined, Ancestry, boolean, RegExp | undefined]> = [
      ['no latest yet', at(A, '2026-01-01T00:00:00Z'), undefined, 'unknown', true, undefined],
      [
        'latest already names this sha',
        at(A, '2026-01-01T00:00:00Z'),
        at(A, '2026-01-01T00:00:00Z'),
        'unknown',
        false,
        undefined,
      ],
      ['a newer commit', at(A, '2026-01-02T00:00:00Z'), at(B, '2026-01-01T00:00:00Z'), 'unknown', true, undefined],
      [
        'an older commit finishing late',
        at(A, '2026-01-01T00:00:00Z'),
        at(B, '2026-01-02T00:00:00Z'),
        'unknown',
        false,
        /newer build/,
      ],
      [
        'offsets are compared as instants',
        at(A, '2026-01-01T12:00:00+02:00'),
        at(B, '2026-01-01T11:00:00Z'),
        'unknown',
        false,
        /newer build/,
      ],
      [
        'the same second: the build finishing now wins',
        at(A, '2026-01-01T00:00:00Z'),
        at(B, '2026-01-01T00:00:00Z'),
        'unknown',
        true,
        undefined,
      ],
      ['latest has no readable time', at(A, '2026-01-01T00:00:00Z'), at(B), 'unknown', true, undefined],
      [
        'our commit time is unknown: latest stays, saying why',
        at(A),
        at(B, '2026-01-01T00:00:00Z'),
        'unknown',
        false,
        /commit time of .* is unknown/,
      ],
      [
        'neither has a commit time (latest from before this action): ours is newer',
        at(A),
        at(B),
        'unknown',
        true,
        undefined,
      ],
      [
        'our commit time is unknown, but the history shows ours newer',
        at(A),
        at(B, '2026-01-01T00:00:00Z'),
        'ours-newer',
        true,
        undefined,
      ],
      [
        'ancestry beats a clock: latest is our ancestor',
        at(A, '2026-01-01T00:00:00Z'),
        at(B, '2026-01-02T00:00:00Z'),
        'ours-newer',
        true,
        undefined,
      ],
      [
        'ancestry beats a clock: we are its ancestor',
        at(A, '2026-01-03T00:00:00Z'),
        at(B, '2026-01-02T00:00:00Z'),
        'ours-older',
        false,
        /ancestor/,
      ],
    ];
    it.each(cases)('%s', (_name, ours, current, ancestry, move, reason) => {
      const decision = decideLatest(ours, current, ancestry);
      expect(decision.move).toBe(move);
      if (reason) expect(decision.reason).toMatch(reason);
      else expect(decision.reason).toBeUndefined();
    });
  });

  describe('chooseToPrune', () => {
    const f = (n: number, time?: string): BuildOrder =>
      time === undefined ? { sha: String(n).repeat(40) } : { sha: String(n).repeat(40), time };
    const folders = [
      f(1, '2026-01-01T00:00:00Z'),
      f(2, '2026-01-02T00:00:00Z'),
      f(3, '2026-01-03T00:00:00Z'),
      f(4, '2026-01-04T00:00:00Z'),
      f(5),
    ];
    it.each([
      ['keep 0 keeps everything', 0, [], []],
      ['keep 2: the two newest stay; no time sorts oldest', 2, [], [f(2).sha, f(1).sha, f(5).sha]],
      ['keep 2 never removes what latest names', 2, [f(1).sha], [f(2).sha, f(5).sha]],
      ['keep 10 removes nothing', 10, [], []],
      ['keep 1 with protected folders', 1, [f(3).sha, f(5).sha], [f(2).sha, f(1).sha]],
    ] as const)('%s', (_name, keep, protect, pruned) => {
      expect(chooseToPrune(folders, keep, protect)).toEqual(pruned);
    });
  });
});
