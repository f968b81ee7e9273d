import { describe, expect, it } from 'vitest';
import { readLatestImage, type ImageRecord } from '../../../src/deploy/repository/changes.js';
import { diffWithLatest } from '../../../src/deploy/repository/plan.js';
import type { ImageEntry, Manifest } from '../../../src/deploy/manifest.js';
import type { DeploymentRepository } from '../../../src/deploy/repository/git.js';

const LOCK = 'depends: [\n  "fmt" {= "0.9.0" & ?vendor}\n  "lwt" {= "5.9.2" & ?vendor}\n]\n';
const SHA = 'a'.repeat(40);

/** A repository of blobs by id that records which ids were fetched. */
function blobs(content: Record<string, string>) {
  const fetched: string[] = [];
  const repo = {
    fetchBlobs: async (oids: Iterable<string>) => void fetched.push(...oids),
    readText: async (oid: string) => content[oid] ?? '',
  } as unknown as DeploymentRepository;
  return { repo, fetched };
}

const sbom = { lockFile: 'www.opam.locked', switchExport: 'www.switch-export', cyclonedx: 'www.cdx.json', packages: 2 };
/** `latest`'s folder: the image `www` (with its lock file) and another image, `blog`. */
function latestWith(www: Partial<ImageEntry>): Manifest {
  const entry = { name: 'www', size: 200, versions: { ocaml: '5.4.0', opam: '2.4.1', mirage: '4.11.1' }, sbom };
  return {
    schema: 2,
    source: { repository: 'o/r', sha: SHA, ref: 'refs/heads/main' },
    images: {
      'blog.xen.bz2': { ...entry, name: 'blog', size: 999 } as unknown as ImageEntry,
      'www.xen.bz2': { ...entry, ...www } as unknown as ImageEntry,
    },
  };
}
const current: ImageRecord = { name: 'www', size: 150, versions: { ocaml: '5.4.1', opam: '2.4.1', mirage: '4.11.1' } };
const folder = new Map([
  ['www.xen.bz2', 'image-oid'],
  ['www.opam.locked', 'lock-oid'],
  ['blog.opam.locked', 'blog-lock-oid'],
]);
const now = [
  { name: 'fmt', version: '0.9.1' },
  { name: 'lwt', version: '5.9.2' },
];

/** What the writer does: read the image `latest` names, then the plan's pure diff. */
async function compareWithLatest(
  repo: DeploymentRepository,
  latestSha: string | undefined,
  latestFolder: ReadonlyMap<string, string> | undefined,
  latest: Manifest | undefined,
  image: ImageRecord,
  packages: ReadonlyArray<{ name: string; version: string }>,
) {
  return diffWithLatest(await readLatestImage(repo, latestSha, latestFolder, latest, image.name), image, packages);
}

describe('readLatestImage, then diffWithLatest', () => {
  it("compares with the image of the same name in latest's folder, reading only its lock file by blob id", async () => {
    const { repo, fetched } = blobs({ 'lock-oid': LOCK });
    const diff = await compareWithLatest(repo, SHA, folder, latestWith({}), current, now);
    expect(fetched).toEqual(['lock-oid']);
    expect(diff).toEqual({
      first: false,
      previous: SHA,
      size: { before: 200, after: 150, change: -50, percent: -25 },
      packages: { added: [], removed: [], upgraded: [{ name: 'fmt', from: '0.9.0', to: '0.9.1' }], downgraded: [] },
      versions: { ocaml: { name: 'ocaml', from: '5.4.0', to: '5.4.1' } },
    });
  });

  it('compares no packages when that image has no lock file or an unreadable one, and fetches nothing without one', async () => {
    const none = blobs({});
    const withoutLock = await compareWithLatest(none.repo, SHA, folder, latestWith({ sbom: undefined }), current, now);
    expect(none.fetched).toEqual([]);
    expect(withoutLock).toMatchObject({ first: false, size: { before: 200 } });
    expect(withoutLock).not.toHaveProperty('packages');
    const broken = blobs({ 'lock-oid': 'depends: [ "fmt" ]\n' });
    expect(await compareWithLatest(broken.repo, SHA, folder, latestWith({}), current, now)).not.toHaveProperty(
      'packages',
    );
  });

  it("is a first deploy without latest, or when latest's folder has no image of that name", async () => {
    const { repo, fetched } = blobs({});
    expect(await compareWithLatest(repo, undefined, undefined, undefined, current, now)).toEqual({ first: true });
    const other = { ...current, name: 'docs' };
    expect(await compareWithLatest(repo, SHA, folder, latestWith({}), other, now)).toEqual({ first: true });
    expect(fetched).toEqual([]);
  });

  it("says so when latest's manifest cannot be read", async () => {
    const { repo } = blobs({});
    expect(await compareWithLatest(repo, SHA, folder, undefined, current, now)).toEqual({
      first: false,
      previous: SHA,
      versions: {},
    });
  });
});
