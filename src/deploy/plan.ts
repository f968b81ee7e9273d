/**
 * What one deploy or rollback changes in the deployment repository, decided from the listing of
 * `<target>/` at the branch tip and the few blobs read from it. Pure: the writer re-plans from
 * scratch on every new tip, so that a retried push never replays a stale decision.
 */
import { createHash } from 'node:crypto';
import {
  chooseToPrune,
  decideLatest,
  deployFolder,
  isSourceSha,
  LATEST_FILE,
  latestContent,
  latestPath,
  MANIFEST_FILE,
  type Ancestry,
  type BuildOrder,
  type LatestDecision,
} from './layout.js';
import { manifestTime, type Manifest } from './manifest.js';

/** One line of `git ls-tree -r -z`. */
export interface TreeEntry {
  readonly mode: string;
  readonly type: string;
  readonly oid: string;
  readonly path: string;
}

export function parseLsTree(output: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of output.split('\0')) {
    if (record === '') continue;
    const tab = record.indexOf('\t');
    const [mode, type, oid] = record.slice(0, tab).split(' ');
    if (tab < 0 || !mode || !type || !oid) throw new Error(`unexpected \`git ls-tree\` output: ${record}`);
    entries.push({ mode, type, oid, path: record.slice(tab + 1) });
  }
  return entries;
}

/** `<target>/` at one commit: the `latest` blob and each deploy folder's files (name → blob). */
export interface TargetListing {
  readonly latestOid?: string;
  readonly folders: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /**
   * Paths of symbolic links (mode 120000) where `latest` or a deploy folder's files would be: never
   * read as files. Checking out such a folder would make the link, and hashing it would read the
   * runner's file it names.
   */
  readonly symlinks?: readonly string[];
}

const SYMLINK_MODE = '120000';

/**
 * Refuses to read or write where the deployment repository holds a symbolic link: in `folder` (a
 * deploy folder, as `<target>/<sha>`) or at `latest`.
 */
export function refuseSymlinks(listing: TargetListing, target: string, folder: string): void {
  const found = (listing.symlinks ?? []).filter((p) => p === latestPath(target) || p.startsWith(`${folder}/`));
  if (found.length === 0) return;
  throw new Error(
    `the deployment repository holds symbolic links at ${found.join(', ')}; this action writes and reads only ` +
      'plain files there, and will not follow a link out of the repository: remove them in a commit, then re-run',
  );
}

export function listTarget(entries: readonly TreeEntry[], target: string): TargetListing {
  let latestOid: string | undefined;
  const folders = new Map<string, Map<string, string>>();
  const symlinks: string[] = [];
  const prefix = `${target}/`;
  for (const entry of entries) {
    if (!entry.path.startsWith(prefix)) continue;
    const rest = entry.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    const sha = rest.slice(0, slash);
    const isLatest = rest === LATEST_FILE;
    if (!isLatest && (slash < 0 || !isSourceSha(sha))) continue;
    if (entry.mode === SYMLINK_MODE) {
      symlinks.push(entry.path);
      continue;
    }
    // Submodules and anything else that is not a file are not this action's.
    if (entry.type !== 'blob') continue;
    if (isLatest) {
      latestOid = entry.oid;
      continue;
    }
    const files = folders.get(sha) ?? new Map<string, string>();
    files.set(rest.slice(slash + 1), entry.oid);
    folders.set(sha, files);
  }
  return {
    ...(latestOid === undefined ? {} : { latestOid }),
    folders,
    ...(symlinks.length === 0 ? {} : { symlinks }),
  };
}

/** The id git gives a blob with this content, in a repository whose ids have `oidLength` hex digits. */
export function blobOid(content: string, oidLength: number): string {
  const data = Buffer.from(content);
  const algorithm = oidLength === 64 ? 'sha256' : 'sha1';
  return createHash(algorithm).update(`blob ${data.length}\0`).update(data).digest('hex');
}

/**
 * The deploy folder `latest` names, found without downloading it: `latest` holds `<sha>\n`, so its
 * blob id is that of one folder's name and a newline. Undefined when it holds anything else.
 */
export function identifyLatest(listing: TargetListing): string | undefined {
  const oid = listing.latestOid;
  if (oid === undefined) return undefined;
  return [...listing.folders.keys()].find((sha) => blobOid(latestContent(sha), oid.length) === oid);
}

/** The manifests a plan needs: this sha's (a re-run?), `latest`'s (newer?), and all for `keep`. */
export function manifestsToRead(
  listing: TargetListing,
  ownSha: string,
  latestSha: string | undefined,
  keep: number,
): Map<string, string> {
  const wanted = keep > 0 ? [...listing.folders.keys()] : [ownSha, ...(latestSha ? [latestSha] : [])];
  const oids = new Map<string, string>();
  for (const sha of wanted) {
    const oid = listing.folders.get(sha)?.get(MANIFEST_FILE);
    if (oid !== undefined) oids.set(sha, oid);
  }
  return oids;
}

/** An index edit: the blob at `path`, or its removal when `oid` is absent. */
export interface IndexChange {
  readonly path: string;
  readonly oid?: string;
}

export interface NewFile {
  readonly name: string;
  readonly oid: string;
}

export interface DeployRequest {
  readonly target: string;
  readonly sha: string;
  /** Every file of the new deploy folder, manifest included. */
  readonly files: readonly NewFile[];
  readonly manifest: Manifest;
  /** The blob holding `<sha>\n`. */
  readonly latestOid: string;
  readonly keep: number;
}

export interface TargetState {
  readonly listing: TargetListing;
  /** The sha `latest` names, when it names one. */
  readonly latestSha?: string;
  /** Manifests read, by sha; undefined for a folder whose manifest is missing or unreadable. */
  readonly manifests: ReadonlyMap<string, Manifest | undefined>;
  readonly ancestry: Ancestry;
}

export type Plan =
  | { readonly kind: 'unchanged'; readonly reason: string }
  | {
      readonly kind: 'commit';
      readonly changes: readonly IndexChange[];
      readonly latest: LatestDecision;
      readonly pruned: readonly string[];
    };

/**
 * Whether the folder already holds this build: every file we would write is there with the same
 * blob id, and a manifest. Blob ids, not the stored manifest's claims: the deployment repository is
 * anyone's to write, and an image replaced under an unchanged manifest is not this build.
 */
function sameBuild(files: readonly NewFile[], folder: ReadonlyMap<string, string>): boolean {
  return folder.has(MANIFEST_FILE) && files.every((f) => f.name === MANIFEST_FILE || folder.get(f.name) === f.oid);
}

function removals(target: string, sha: string, files: Iterable<string>): IndexChange[] {
  return [...files].map((name) => ({ path: `${deployFolder(target, sha)}/${name}` }));
}

export function planDeploy(request: DeployRequest, state: TargetState): Plan {
  const { target, sha } = request;
  refuseSymlinks(state.listing, target, deployFolder(target, sha));
  const existing = state.listing.folders.get(sha);
  if (existing !== undefined && sameBuild(request.files, existing)) {
    return { kind: 'unchanged', reason: `${deployFolder(target, sha)} already holds this image` };
  }
  const ours: BuildOrder = { sha, time: manifestTime(request.manifest) };
  const current: BuildOrder | undefined =
    state.latestSha === undefined
      ? undefined
      : { sha: state.latestSha, time: manifestTime(state.manifests.get(state.latestSha)) };
  const latest = decideLatest(ours, current, state.ancestry);

  const folder = deployFolder(target, sha);
  const names = new Set(request.files.map((f) => f.name));
  const changes: IndexChange[] = [
    ...removals(
      target,
      sha,
      [...(existing?.keys() ?? [])].filter((name) => !names.has(name)),
    ),
    ...request.files.map((f) => ({ path: `${folder}/${f.name}`, oid: f.oid })),
  ];
  if (latest.move) changes.push({ path: latestPath(target), oid: request.latestOid });

  const folders: BuildOrder[] = [...state.listing.folders.keys()]
    .filter((s) => s !== sha)
    .map((s) => ({ sha: s, time: manifestTime(state.manifests.get(s)) }));
  folders.push(ours);
  const namedByLatest = latest.move ? sha : state.latestSha;
  const pruned = chooseToPrune(folders, request.keep, [sha, ...(namedByLatest ? [namedByLatest] : [])]);
  for (const gone of pruned) changes.push(...removals(target, gone, state.listing.folders.get(gone)?.keys() ?? []));
  return { kind: 'commit', changes, latest, pruned };
}

export type RollbackPlan =
  | { readonly kind: 'missing'; readonly deployed: readonly string[] }
  | { readonly kind: 'unchanged'; readonly reason: string }
  | { readonly kind: 'commit'; readonly changes: readonly IndexChange[] };

export function planRollback(
  target: string,
  sha: string,
  state: Pick<TargetState, 'listing' | 'latestSha'>,
  latestOid: string,
): RollbackPlan {
  refuseSymlinks(state.listing, target, deployFolder(target, sha));
  if (!state.listing.folders.has(sha)) return { kind: 'missing', deployed: [...state.listing.folders.keys()] };
  if (state.latestSha === sha) return { kind: 'unchanged', reason: `\`${latestPath(target)}\` already names ${sha}` };
  return { kind: 'commit', changes: [{ path: latestPath(target), oid: latestOid }] };
}

export interface MessageParts {
  readonly subject: string;
  readonly repository: string;
  readonly sha: string;
  readonly runUrl: string;
  readonly notes: readonly string[];
}

export function commitMessage(parts: MessageParts): string {
  const source = parts.repository ? `${parts.repository}@${parts.sha}` : parts.sha;
  const body = [source, ...(parts.runUrl ? [parts.runUrl] : []), ...parts.notes];
  return `${parts.subject}\n\n${body.join('\n')}\n`;
}

/** The dry-run list: one line per path, sizes where known. */
export function describeChanges(
  changes: readonly IndexChange[],
  sizes: ReadonlyMap<string, number>,
  latest: { readonly path: string; readonly sha: string } | undefined,
): string[] {
  return changes.map((change) => {
    if (change.oid === undefined) return `remove ${change.path}`;
    if (latest !== undefined && change.path === latest.path) return `write ${change.path} (${latest.sha})`;
    const size = sizes.get(change.oid);
    return size === undefined ? `write ${change.path}` : `write ${change.path} (${size} bytes)`;
  });
}
