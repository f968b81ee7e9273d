/**
 * The writer's pure decisions. What one deploy or rollback changes in the deployment repository,
 * decided from the listing of `<directory>/` at the branch tip and the few blobs read from it: the
 * writer re-plans from scratch on every new tip, so that a retried push never replays a stale
 * decision. And how a push or another git command ended, read from `git push --porcelain` and
 * git's messages: did the branch move under us (fetch the new tip and try again), did the
 * transport fail (try the same command again), or did the server refuse for good?
 */
import { createHash } from 'node:crypto';
import {
  checksumList,
  FOLDER_FILES,
  deployFolder,
  isSourceSha,
  LATEST_FILE,
  latestContent,
  latestPath,
  recordPath,
  MANIFEST_FILE,
  SUMS_FILE,
  type ChecksumImage,
} from '../plan.js';
import {
  MANIFEST_SCHEMA,
  manifestTime,
  ownedFiles,
  serializeManifest,
  type ImageEntry,
  type Manifest,
  type ManifestSource,
} from '../manifest.js';
import { defined } from '../../defined.js';
import { deployDiff, diffLines, type DeployDiff, type DeployedState, type PackageVersion } from '../../sbom/diff.js';

/** How one build of the source compares with another, as far as the evidence goes. */
export interface BuildOrder {
  readonly sha: string;
  /**
   * The source commit time (ISO 8601), when known. Never a build time: a build of an old commit
   * can finish after a build of a newer one, so the two kinds of time cannot be compared.
   */
  readonly time?: string;
}

/**
 * What git knows about the two commits when the workspace holds their history: `ours-newer` when
 * `latest`'s commit is an ancestor of ours, `ours-older` the other way round.
 */
export type Ancestry = 'ours-newer' | 'ours-older' | 'unknown';

export interface LatestDecision {
  readonly move: boolean;
  /** Why `latest` stays, for a notice; absent when it moves or already names this build. */
  readonly reason?: string;
}

function instant(time: string | undefined): number {
  return time === undefined ? Number.NaN : Date.parse(time);
}

/**
 * Whether `latest` moves to this build. It never moves backwards: ancestry decides when the
 * history shows it; otherwise the source commit times do, and a tie goes to the build finishing
 * now (two commits in the same second cannot be ordered better without history). A `latest`
 * without a commit time (a folder from before this action) is older than any build; a build whose
 * own commit time is unknown cannot show it is newer, so it leaves `latest` alone.
 */
export function decideLatest(ours: BuildOrder, current: BuildOrder | undefined, ancestry: Ancestry): LatestDecision {
  if (current === undefined) return { move: true };
  if (current.sha === ours.sha) return { move: false };
  const keep = `\`latest\` names ${current.sha}, a newer build of the source`;
  if (ancestry === 'ours-newer') return { move: true };
  if (ancestry === 'ours-older') return { move: false, reason: `${keep} (${ours.sha} is its ancestor)` };
  const ourTime = instant(ours.time);
  const theirTime = instant(current.time);
  if (Number.isNaN(theirTime)) return { move: true };
  if (Number.isNaN(ourTime)) {
    return {
      move: false,
      reason:
        `the commit time of ${ours.sha} is unknown (no push event and no checkout holding it), so it cannot be ` +
        `shown newer than ${current.sha}, which \`latest\` names (committed ${current.time})`,
    };
  }
  if (ourTime >= theirTime) return { move: true };
  return { move: false, reason: `${keep} (committed ${current.time}, this one ${ours.time})` };
}

/**
 * The deploy folders `keep: N` removes: all but the N newest, never the one `latest` names and
 * never the one being written (a late older build stores its image in the same commit that would
 * otherwise drop it). Folders without a commit time sort oldest.
 */
export function chooseToPrune(folders: readonly BuildOrder[], keep: number, protect: readonly string[]): string[] {
  if (keep <= 0) return [];
  const time = (f: BuildOrder) => {
    const t = instant(f.time);
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  const newestFirst = [...folders].sort((a, b) => time(b) - time(a) || b.sha.localeCompare(a.sha));
  return newestFirst
    .slice(keep)
    .map((f) => f.sha)
    .filter((sha) => !protect.includes(sha));
}

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

/**
 * `<directory>/` at one commit: the `latest` blob, every deploy folder's tree, and the files
 * (name → blob) of the folders read.
 */
export interface TargetListing {
  readonly latestOid?: string;
  /** The files of each deploy folder read (not every folder is: see `trees`). */
  readonly folders: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Every deploy folder of `<directory>/`, read or not: its name (the sha) → its tree id. */
  readonly trees?: ReadonlyMap<string, string>;
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
 * deploy folder, as `<directory>/<sha>`) or at `<directory>/latest`.
 */
export function refuseSymlinks(listing: TargetListing, directory: string, folder: string): void {
  const found = (listing.symlinks ?? []).filter((p) => p === latestPath(directory) || p.startsWith(`${folder}/`));
  if (found.length === 0) return;
  throw new Error(
    `the deployment repository holds symbolic links at ${found.join(', ')}; this action writes and reads only ` +
      'plain files there, and will not follow a link out of the repository: remove them in a commit, then re-run',
  );
}

/** Every deploy folder of the listing, read or not. */
export function folderNames(listing: TargetListing): string[] {
  return [...new Set([...(listing.trees?.keys() ?? []), ...listing.folders.keys()])];
}

/**
 * The listing from `<directory>/`'s own entries (`latest`, the folders' trees) and the files of the
 * folders read (`<directory>/<sha>/<name>`).
 */
export function listTarget(entries: readonly TreeEntry[], target: string): TargetListing {
  let latestOid: string | undefined;
  const folders = new Map<string, Map<string, string>>();
  const trees = new Map<string, string>();
  const symlinks: string[] = [];
  const prefix = `${target}/`;
  for (const entry of entries) {
    if (!entry.path.startsWith(prefix)) continue;
    const rest = entry.path.slice(prefix.length);
    if (entry.type === 'tree' && isSourceSha(rest)) trees.set(rest, entry.oid);
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
    ...defined({ latestOid }),
    folders,
    ...(trees.size === 0 ? {} : { trees }),
    ...(symlinks.length === 0 ? {} : { symlinks }),
  };
}

/**
 * The deploy folders a deploy reads the files of: its own (a re-run, or another image of it), the
 * one `latest` names (is it newer? what changed?), and, for `keep`, every one (their commit times).
 */
export function foldersToRead(
  listing: TargetListing,
  ownSha: string,
  latestSha: string | undefined,
  keep: number,
): Map<string, string> {
  const trees = listing.trees ?? new Map<string, string>();
  const wanted = keep > 0 ? [...trees.keys()] : [ownSha, ...(latestSha ? [latestSha] : [])];
  return new Map(wanted.flatMap((sha) => (trees.has(sha) ? [[sha, trees.get(sha) ?? '']] : [])));
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
  return folderNames(listing).find((sha) => blobOid(latestContent(sha), oid.length) === oid);
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
  readonly directory: string;
  readonly sha: string;
  /** The stored image's file name: its key in the manifest's `images`. */
  readonly imageFile: string;
  readonly entry: ImageEntry;
  readonly source: ManifestSource;
  /** This image's files in the folder (image, config file, side files, `.args`), with their blob ids. */
  readonly files: readonly NewFile[];
  /** The blob holding `<sha>\n`. */
  readonly latestOid: string;
  /** The blob of `<directory>/latest.deployment` for this move's record, written only when `latest` moves. */
  readonly recordOid?: string;
  readonly keep: number;
  /** Hex digits of the repository's object ids (40, or 64 for a SHA-256 repository). */
  readonly oidLength: number;
}

export interface TargetState {
  readonly listing: TargetListing;
  /** The sha `latest` names, when it names one. */
  readonly latestSha?: string;
  /**
   * Manifests read, by sha; undefined for a folder whose manifest is missing or unreadable. The
   * writer has filled in the hashes a schema 1 manifest did not record.
   */
  readonly manifests: ReadonlyMap<string, Manifest | undefined>;
  readonly ancestry: Ancestry;
}

/** A file the plan generated (manifest, SHA256SUMS): the writer stores `text` as blob `oid`. */
export interface GeneratedFile {
  readonly path: string;
  readonly oid: string;
  readonly text: string;
}

/** A plan's two outcomes without a commit: nothing to do, or a folder that holds other bytes. */
export type Unchanged = { readonly kind: 'unchanged'; readonly reason: string };
export type Conflict = { readonly kind: 'conflict'; readonly message: string };

/** What every planned commit carries (deploy, promote, rollback): the tree change and its words. */
export interface PlannedCommit {
  readonly kind: 'commit';
  readonly changes: readonly IndexChange[];
  readonly message: string;
  /** For the log and the summary. */
  readonly notes: readonly string[];
  /** The dry-run list of paths. */
  readonly listing: readonly string[];
  /** Whether the commit moves `latest`. */
  readonly latestMoved: boolean;
}

export type Plan =
  | Unchanged
  | Conflict
  | {
      readonly kind: 'commit';
      readonly changes: readonly IndexChange[];
      readonly generated: readonly GeneratedFile[];
      readonly latest: LatestDecision;
      readonly pruned: readonly string[];
      /** The other images of the folder, kept as they are. */
      readonly others: readonly string[];
    };

function removals(directory: string, sha: string, files: Iterable<string>): IndexChange[] {
  return [...files].map((name) => ({ path: `${deployFolder(directory, sha)}/${name}` }));
}

function sameEntry(a: ImageEntry, b: ImageEntry): boolean {
  const files = (e: ImageEntry) => JSON.stringify(Object.entries(e.files).sort());
  return (
    a.sha256 === b.sha256 &&
    a.compressedSha256 === b.compressedSha256 &&
    a.compression === b.compression &&
    a.configFile === b.configFile &&
    JSON.stringify(a.bootArgs) === JSON.stringify(b.bootArgs) &&
    files(a) === files(b)
  );
}

/**
 * The other images of the folder that stay: those whose image file is still there. Undefined
 * with a message when one of this image's files would overwrite one of theirs with other bytes.
 */
function otherImages(
  request: DeployRequest,
  prior: Manifest | undefined,
  folder: ReadonlyMap<string, string>,
): { readonly kept: Record<string, ImageEntry> } | { readonly message: string } {
  const kept: Record<string, ImageEntry> = {};
  const ours = new Map(request.files.map((f) => [f.name, f.oid]));
  for (const [name] of ours) {
    if (FOLDER_FILES.includes(name)) {
      return {
        message:
          `input \`deploy-image-name\`: this image would store a file named \`${name}\`, the name of the deploy ` +
          "folder's own file; choose another image name",
      };
    }
  }
  for (const [file, entry] of Object.entries(prior?.images ?? {})) {
    if (file === request.imageFile || !folder.has(file)) continue;
    for (const name of ownedFiles(file, entry)) {
      const oid = ours.get(name);
      if (oid === undefined || oid === folder.get(name)) continue;
      const where = `${deployFolder(request.directory, request.sha)}/${name}`;
      const theirs = name === file ? 'is the image' : `belongs to the image \`${file}\``;
      return {
        message:
          name === entry.configFile && name === request.entry.configFile
            ? `input \`config-file\`: \`${where}\` holds the config file of the image \`${file}\`, with other ` +
              "bytes than this unikernel's; images of one folder share a config file name only when it is the same " +
              'file: give this config file another name (input `config-file`), or deploy into another `deploy-directory`'
            : `input \`deploy-image-name\`: \`${where}\` ${theirs} with other bytes; give this image another ` +
              '`deploy-image-name`, or deploy into another `deploy-directory`',
      };
    }
    kept[file] = entry;
  }
  return { kept };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The folder's manifest and SHA256SUMS once this image is in, from the entries alone. */
export function folderFiles(manifest: Manifest): { manifestText: string; sumsText: string } {
  const manifestText = serializeManifest(manifest);
  const hashes = new Map<string, string>([[MANIFEST_FILE, sha256(manifestText)]]);
  const images: ChecksumImage[] = [];
  for (const [file, entry] of Object.entries(manifest.images)) {
    hashes.set(file, entry.compressedSha256);
    for (const [name, hash] of Object.entries(entry.files)) hashes.set(name, hash);
    images.push({ file, compression: entry.compression, sha256: entry.sha256 });
  }
  return { manifestText, sumsText: checksumList(hashes, images) };
}

/** Whether the folder already holds exactly this image and the folder's own files. */
function alreadyThere(request: DeployRequest, state: TargetState): boolean {
  const existing = state.listing.folders.get(request.sha) ?? new Map<string, string>();
  const priorEntry = state.manifests.get(request.sha)?.images[request.imageFile];
  return (
    priorEntry !== undefined &&
    sameEntry(priorEntry, request.entry) &&
    request.files.every((f) => existing.get(f.name) === f.oid) &&
    FOLDER_FILES.every((name) => existing.has(name))
  );
}

/** The folder's manifest once this image is in, beside the images kept. */
function nextManifest(request: DeployRequest, prior: Manifest | undefined, kept: Record<string, ImageEntry>): Manifest {
  // An earlier image of this sha may have known the commit time; one in the future is not carried on.
  const priorTime = manifestTime(prior);
  return {
    schema: MANIFEST_SCHEMA,
    source: {
      ...request.source,
      ...(priorTime !== undefined && !request.source.commitTime ? { commitTime: priorTime } : {}),
    },
    images: { ...kept, [request.imageFile]: request.entry },
  };
}

/** Where `latest` points after this deploy, and which folders `keep` removes. */
export function latestAndPrune(request: Pick<DeployRequest, 'sha' | 'keep'>, state: TargetState, manifest: Manifest) {
  const { sha } = request;
  const ours: BuildOrder = { sha, time: manifestTime(manifest) };
  const current: BuildOrder | undefined =
    state.latestSha === undefined
      ? undefined
      : { sha: state.latestSha, time: manifestTime(state.manifests.get(state.latestSha)) };
  const latest = decideLatest(ours, current, state.ancestry);
  const folders: BuildOrder[] = [...state.listing.folders.keys()]
    .filter((s) => s !== sha)
    .map((s) => ({ sha: s, time: manifestTime(state.manifests.get(s)) }));
  folders.push(ours);
  const namedByLatest = latest.move ? sha : state.latestSha;
  const pruned = chooseToPrune(folders, request.keep, [sha, ...(namedByLatest ? [namedByLatest] : [])]);
  return { latest, pruned };
}

export function planDeploy(request: DeployRequest, state: TargetState): Plan {
  const { directory, sha } = request;
  const folder = deployFolder(directory, sha);
  refuseSymlinks(state.listing, directory, folder);
  if (alreadyThere(request, state)) {
    return { kind: 'unchanged', reason: `${folder} already holds this image (${request.imageFile})` };
  }
  const existing = state.listing.folders.get(sha) ?? new Map<string, string>();
  const prior = state.manifests.get(sha);
  const others = otherImages(request, prior, existing);
  if ('message' in others) return { kind: 'conflict', message: others.message };

  const manifest = nextManifest(request, prior, others.kept);
  const { manifestText, sumsText } = folderFiles(manifest);
  const generated: GeneratedFile[] = [
    { path: `${folder}/${MANIFEST_FILE}`, oid: blobOid(manifestText, request.oidLength), text: manifestText },
    { path: `${folder}/${SUMS_FILE}`, oid: blobOid(sumsText, request.oidLength), text: sumsText },
  ];
  const wanted = new Set([
    ...FOLDER_FILES,
    ...Object.entries(manifest.images).flatMap(([file, entry]) => ownedFiles(file, entry)),
  ]);
  const { latest, pruned } = latestAndPrune(request, state, manifest);
  const changes: IndexChange[] = [
    ...removals(
      directory,
      sha,
      [...existing.keys()].filter((name) => !wanted.has(name)),
    ),
    ...request.files.map((f) => ({ path: `${folder}/${f.name}`, oid: f.oid })),
    ...generated.map(({ path, oid }) => ({ path, oid })),
  ];
  if (latest.move) changes.push({ path: latestPath(directory), oid: request.latestOid }, ...recordChange(request));
  for (const gone of pruned) changes.push(...removals(directory, gone, state.listing.folders.get(gone)?.keys() ?? []));
  return { kind: 'commit', changes, generated, latest, pruned, others: Object.keys(others.kept).sort() };
}

/**
 * The image of the same deployed name in the folder `latest` names, as read for what changed:
 * `against` is that folder's sha (absent for a first deploy of the name), `before` what its
 * manifest entry and lock file say (absent when its manifest is unreadable).
 */
export interface LatestImage {
  readonly against?: string;
  readonly before?: DeployedState;
}

/** What changed since the image `latest` names, for the log, the summary and the `diff` output. */
export function diffWithLatest(
  latest: LatestImage,
  current: Pick<ImageEntry, 'size' | 'versions'>,
  packages: readonly PackageVersion[] | undefined,
): DeployDiff {
  return deployDiff(latest.against, latest.before, {
    size: current.size,
    ocaml: current.versions.ocaml,
    mirage: current.versions.mirage,
    ...defined({ packages }),
  });
}

/** Everything one attempt of the writer read from the deployment repository at the tip. */
export interface DeploySnapshot extends TargetState {
  /** The tip read; absent when the branch has no commit yet. */
  readonly tip?: string;
  readonly previous: LatestImage;
}

/** What the writer asks of one attempt: the folder's request, and what the commit and log say. */
export interface WriteRequest extends DeployRequest {
  /** `commit-message`; a default when absent. */
  readonly subject?: string;
  readonly sourceRepository: string;
  readonly runUrl: string;
  /** Sizes of this image's files by blob id, for the dry-run listing. */
  readonly sizes: ReadonlyMap<string, number>;
  /** The image's locked packages, compared with those of the image `latest` names. */
  readonly packages?: readonly PackageVersion[];
}

/** Every decision of one attempt: what to write, keep, move, remove, and the words for each. */
export type WritePlan =
  | Unchanged
  | Conflict
  | (PlannedCommit & {
      readonly generated: readonly GeneratedFile[];
      /** Why `latest` stays, said as a notice (also one of the notes). */
      readonly notice?: string;
      readonly diff: DeployDiff;
    });

function deployNotes(request: WriteRequest, plan: Extract<Plan, { kind: 'commit' }>) {
  const notes: string[] = [];
  if (plan.others.length > 0) notes.push(`kept the folder's other images: ${plan.others.join(', ')}`);
  const notice =
    !plan.latest.move && plan.latest.reason
      ? `${plan.latest.reason}: the image is stored, \`latest\` is left as it is`
      : undefined;
  if (notice !== undefined) notes.push(notice);
  if (plan.pruned.length > 0) {
    const removed = plan.pruned.map((s) => deployFolder(request.directory, s)).join(', ');
    notes.push(`keep ${request.keep}: removed ${removed}`);
  }
  return { notes, notice };
}

/** The one plan of a deploy attempt, from what was read at the tip. */
export function planWrite(request: WriteRequest, snapshot: DeploySnapshot): WritePlan {
  const plan = planDeploy(request, snapshot);
  if (plan.kind !== 'commit') return plan;
  const { directory, sha } = request;
  const { notes, notice } = deployNotes(request, plan);
  const diff = diffWithLatest(snapshot.previous, request.entry, request.packages);
  const sizes = new Map(request.sizes);
  for (const g of plan.generated) sizes.set(g.oid, Buffer.byteLength(g.text));
  return {
    kind: 'commit',
    changes: plan.changes,
    generated: plan.generated,
    message: commitMessage({
      subject: request.subject ?? `adding ${sha} for ${directory}`,
      repository: request.sourceRepository,
      sha,
      runUrl: request.runUrl,
      notes: [`image: ${request.imageFile}`, ...notes, '', ...diffLines(diff)],
    }),
    notes,
    ...defined({ notice }),
    listing: describeChanges(plan.changes, sizes, plan.latest.move ? { path: latestPath(directory), sha } : undefined),
    diff,
    latestMoved: plan.latest.move,
  };
}

export interface RollbackRequest {
  readonly directory: string;
  /** The sha `latest` moves back to (`rollback-to`). */
  readonly sha: string;
  /** The blob holding `<sha>\n`. */
  readonly latestOid: string;
  /** The blob of `<directory>/latest.deployment` for this rollback's record. */
  readonly recordOid?: string;
  /** `commit-message`; a default when absent. */
  readonly subject?: string;
  readonly sourceRepository: string;
  readonly runUrl: string;
  /** The deployment repository, as messages name it. */
  readonly display: string;
}

export type RollbackPlan =
  { readonly kind: 'missing'; readonly message: string } | Unchanged | (PlannedCommit & { readonly latestMoved: true });

/** `<directory>/latest.deployment` beside `latest`, when this move has a deployment record. */
export function recordChange(request: { readonly directory: string; readonly recordOid?: string }): IndexChange[] {
  return request.recordOid === undefined ? [] : [{ path: recordPath(request.directory), oid: request.recordOid }];
}

/** Every decision of a rollback attempt; the images of the folder are verified before it commits. */
export function planRollback(
  request: RollbackRequest,
  state: Pick<TargetState, 'listing' | 'latestSha'>,
): RollbackPlan {
  const { directory, sha } = request;
  refuseSymlinks(state.listing, directory, deployFolder(directory, sha));
  if (!state.listing.folders.has(sha)) {
    const deployed = folderNames(state.listing);
    const listed = deployed.slice(0, 10).join(', ');
    return {
      kind: 'missing',
      message:
        `input \`rollback-to\`: ${sha} is not deployed for target ${directory} in ${request.display}: there is no ` +
        `${deployFolder(directory, sha)}/ on its branch` +
        (listed
          ? `; deployed there: ${listed}${deployed.length > 10 ? ', …' : ''}`
          : '; nothing is deployed for that target'),
    };
  }
  if (state.latestSha === sha)
    return { kind: 'unchanged', reason: `\`${latestPath(directory)}\` already names ${sha}` };
  const notes = state.latestSha ? [`\`latest\` named ${state.latestSha} before`] : [];
  return {
    kind: 'commit',
    changes: [{ path: latestPath(directory), oid: request.latestOid }, ...recordChange(request)],
    message: commitMessage({
      subject: request.subject ?? `rolling back ${directory} to ${sha}`,
      repository: request.sourceRepository,
      sha,
      runUrl: request.runUrl,
      notes,
    }),
    notes,
    listing: [`write ${latestPath(directory)} (${sha})`, ...recordChange(request).map((c) => `write ${c.path}`)],
    latestMoved: true,
  };
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

export type PushVerdict =
  | { readonly kind: 'pushed' }
  /** The branch moved or a concurrent push held its lock: regenerate on the new tip. */
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'refused'; readonly reason: string; readonly hint?: string };

/** Summaries of porcelain lines (`[rejected] (fetch first)`) that mean another push won the race. */
const MOVED = ['fetch first', 'non-fast-forward', 'stale info'];
/** Server messages that mean a concurrent receive-pack held the ref. */
const LOCKED = /cannot lock ref|failed to lock|Unable to create '[^']*\.lock'|incorrect old value provided/i;

/** The server's own words: its `remote:` lines, without git's framing. */
export function remoteLines(stderr: string): string[] {
  return stderr
    .split(/\r?\n/)
    .filter((l) => l.startsWith('remote:'))
    .map((l) => l.replace(/^remote:\s?/, '').trimEnd())
    .filter((l) => l.trim() !== '');
}

/** A line of git's progress meter, on this side or the server's (`remote:`). */
const PROGRESS =
  /^(?:remote: ?)?(?:(?:Enumerating|Counting|Compressing|Writing|Unpacking|Receiving) objects|Resolving deltas|Delta compression using|Total \d+ \(delta )/;

/**
 * `git push --progress`'s stderr without its progress meter (each line redrawn after `\r`), so that
 * messages quote what git and the server said; and the meter's last line, which tells how far a
 * stalled push got.
 */
export function splitProgress(stderr: string): { readonly text: string; readonly last?: string } {
  const kept: string[] = [];
  let last: string | undefined;
  for (const line of stderr.split('\n')) {
    const shown = (
      line
        .split('\r')
        .filter((part) => part.trim() !== '')
        .pop() ?? ''
    ).trimEnd();
    if (PROGRESS.test(shown)) last = shown;
    else kept.push(line);
  }
  return last === undefined ? { text: kept.join('\n') } : { text: kept.join('\n'), last };
}

/** How many push attempts may stall (no progress for PUSH_STALL_MS) before the deploy fails. */
export const MAX_STALLED_PUSHES = 2;

/** A push stopped for showing no progress, and what the branch said when read again. */
export interface StalledPush {
  /** Attempts that stalled so far, this one included (1, 2, …). */
  readonly stalls: number;
  /** Whether the branch, read again, is at the pushed commit. */
  readonly landed: boolean;
  readonly display: string;
  readonly branch: string;
  /** The pushed commit, shortened for messages. */
  readonly commit: string;
  /** The progress deadline, in seconds. */
  readonly stallSeconds: number;
  /** git's last progress line before it stalled. */
  readonly lastProgress?: string;
}

export type StallVerdict =
  | { readonly kind: 'landed'; readonly said: string }
  | { readonly kind: 'retry'; readonly said: string }
  | { readonly kind: 'fail'; readonly message: string };

/**
 * After a push stalled: the first may have landed before the server stopped answering (the branch
 * says so); if not, it is tried once more; a second stall ends the deploy, the branch left as it was.
 */
export function planStalledPush(p: StalledPush): StallVerdict {
  const stalled = `\`git push\` to ${p.display} showed no progress for ${p.stallSeconds} s (the push progress deadline) and was stopped`;
  const got = p.lastProgress === undefined ? '' : `\ngit's last progress line: ${p.lastProgress}`;
  if (p.landed) return { kind: 'landed', said: `${stalled}, but \`${p.branch}\` is at ${p.commit}: it landed${got}` };
  if (p.stalls < MAX_STALLED_PUSHES) {
    return { kind: 'retry', said: `${stalled}; \`${p.branch}\` is not at ${p.commit}: pushing again, once${got}` };
  }
  return {
    kind: 'fail',
    message:
      `${stalled}, ${p.stalls} times: the server kept the connection open but stopped taking or answering the ` +
      `push. \`${p.branch}\` is not at ${p.commit}: nothing was pushed. Check the host of \`deploy-repository\` ` +
      `(its status page, for GitHub) and the network between this runner and it, then re-run the job${got}`,
  };
}

/** A refused forced push (`keep-history`'s new root): the protection that refused it and the way out. */
function forcedHint(text: string, branch: string): string | undefined {
  if (!/GH006|protected branch|force.?push|non-fast-forward|denyNonFastForwards/i.test(text)) return undefined;
  return (
    `branch \`${branch}\` of the deployment repository does not take force pushes (branch protection, or ` +
    '`receive.denyNonFastForwards`), and input `keep-history` replaces its history with a new root: allow ' +
    'force pushes of this deploy key or token to the branch, or remove `keep-history`'
  );
}

function hintFor(text: string, branch: string, forced: boolean): string | undefined {
  const refusedForce = forced ? forcedHint(text, branch) : undefined;
  if (refusedForce !== undefined) return refusedForce;
  if (/GH006|protected branch/i.test(text)) {
    return (
      `branch \`${branch}\` of the deployment repository is protected: let the deploy key or token bypass ` +
      'the protection, or set input `deploy-repository-branch` to an unprotected branch'
    );
  }
  if (/GH001|large files detected|exceeds GitHub's file size limit/i.test(text)) {
    return "a file is over GitHub's 100 MiB limit: set input `compression: xz`, or make the image smaller";
  }
  if (/pre-receive hook declined|hook declined/i.test(text)) {
    return 'a server-side hook of the deployment repository refused the push; its message above says why';
  }
  return undefined;
}

/**
 * Classifies the push of `refs/heads/<branch>`. Returns undefined when git printed no status for
 * the ref (it could not reach the server or authenticate): the caller explains that failure.
 */
export function classifyPush(
  result: { exitCode: number; stdout: string; stderr: string },
  branch: string,
  forced = false,
): PushVerdict | undefined {
  const ref = `refs/heads/${branch}`;
  const line = result.stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .find((fields) => fields.length >= 3 && fields[1]?.endsWith(`:${ref}`));
  if (line === undefined) return undefined;
  const flag = line[0] ?? '';
  const summary = line[2] ?? '';
  if (flag !== '!') return { kind: 'pushed' };
  const reason = /\(([^)]*)\)/.exec(summary)?.[1] ?? summary;
  const server = remoteLines(result.stderr);
  if (summary.startsWith('[rejected]') && MOVED.includes(reason)) return { kind: 'retry', reason };
  if (LOCKED.test(result.stderr) || LOCKED.test(reason)) return { kind: 'retry', reason: 'the ref was locked' };
  const said = server.length ? `${summary}: ${server.join(' ')}` : summary;
  const hint = hintFor(`${summary}\n${result.stderr}`, branch, forced);
  return hint === undefined ? { kind: 'refused', reason: said } : { kind: 'refused', reason: said, hint };
}

export const MAX_PUSH_ATTEMPTS = 12;

/**
 * How deep a deploy reads the branch's history for `keep-history: N`: N + 1 commits tell "more
 * than N" without fetching the rest (and no trees: the count needs commits only).
 */
export function historyDepth(keepHistory: number | undefined): number {
  return keepHistory === undefined ? 1 : keepHistory + 1;
}

/**
 * Whether this attempt's commit starts a new root: `keep-history` is set and the branch, read
 * `historyDepth` deep, holds more than it allows. A branch that does not exist yet has nothing to cut.
 */
export function rewritesHistory(counted: number, keepHistory: number | undefined): boolean {
  return keepHistory !== undefined && counted > keepHistory;
}

/**
 * The new root's message: it holds the tip's tree unchanged, and names the tip it replaces so that
 * an archive (a tag pushed before) can be matched to it.
 */
export function historyRootMessage(tip: string, keepHistory: number): string {
  return (
    `history cut by keep-history ${keepHistory}\n\n` +
    `This root holds the tree of ${tip}, the tip it replaces; every folder is unchanged.\n` +
    'The commits before it are no longer on this branch.\n'
  );
}

/** How many times one git command is tried when the transport, not the server's verdict, failed. */
export const MAX_TRANSPORT_ATTEMPTS = 4;

/**
 * Failures of the connection or of the server's front end that a later try can get past: an HTTP
 * 5xx, a reset or dropped connection, sshd refusing a connection over its MaxStartups. A refusal
 * (authentication, permissions, a missing repository, a host key) never is; nor is a command
 * killed at its deadline, which would only hang again.
 */
const TRANSIENT =
  /returned error: 5\d\d|kex_exchange_identification|Connection reset by peer|Connection closed by (remote host|\S+ port \d+)|the remote end hung up unexpectedly|early EOF|RPC failed|unexpected disconnect while reading sideband packet|gnutls_handshake\(\) failed|SSL_ERROR_SYSCALL|Empty reply from server/i;
const PERMANENT =
  /Permission denied|Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|returned error: 40\d|Repository not found|not found|Authentication failed|Could not resolve host/i;

export function isTransientFailure(result: {
  exitCode: number;
  stderr: string;
  timedOut?: boolean;
  stalled?: boolean;
}): boolean {
  return (
    result.exitCode !== 0 &&
    result.timedOut !== true &&
    result.stalled !== true &&
    TRANSIENT.test(result.stderr) &&
    !PERMANENT.test(result.stderr)
  );
}

/**
 * Milliseconds to wait before attempt `attempt` (2, 3, …): exponential with "equal jitter", so
 * that a matrix of jobs that lost the same race spread out instead of colliding again.
 */
export function retryDelay(attempt: number, random: () => number): number {
  const ceiling = Math.min(8_000, 250 * 2 ** Math.max(0, attempt - 2));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
