/**
 * Pure decisions of `promote-from`: which folder is promoted, what the destination folder holds
 * (the source folder's blobs as they are, or with new `.args` for `boot-args`), and the commit.
 * Nothing is built: the bytes tested in one folder are the bytes another serves.
 */
import { createHash } from 'node:crypto';
import { argsFileContent, argsFileName, deployFolder, latestPath } from '../plan.js';
import type { ImageEntry, Manifest } from '../manifest.js';
import {
  blobOid,
  commitMessage,
  describeChanges,
  folderNames,
  latestAndPrune,
  recordChange,
  folderFiles as manifestFiles,
  refuseSymlinks,
  type Conflict,
  type GeneratedFile,
  type IndexChange,
  type PlannedCommit,
  type TargetListing,
  type TargetState,
  type Unchanged,
} from './plan.js';

/** `promote-sha`: this run's commit (absent), the sha the source folder's `latest` names, or a sha. */
export type PromoteSha = { readonly kind: 'latest' } | { readonly kind: 'sha'; readonly sha: string };

export interface PromoteRequest {
  /** `promote-from`: the folder promoted from. */
  readonly from: string;
  /** `deploy-directory`: the folder promoted to. */
  readonly directory: string;
  readonly promoteSha: PromoteSha;
  /** `boot-args` when given: the promoted images' new `.args`; absent, theirs travel with them. */
  readonly bootArgs?: readonly string[];
  readonly keep: number;
  readonly oidLength: number;
  readonly subject?: string;
  /** The blob of `<directory>/latest.deployment` for this promote's record, written when `latest` moves. */
  readonly recordOid?: string;
  readonly sourceRepository: string;
  readonly runUrl: string;
  readonly display: string;
}

/** The sha promoted, or why there is none. */
export function resolvePromoteSha(
  request: Pick<PromoteRequest, 'from' | 'promoteSha' | 'display'>,
  source: Pick<TargetState, 'listing' | 'latestSha'>,
): { readonly sha: string } | { readonly message: string } {
  if (request.promoteSha.kind === 'sha') return { sha: request.promoteSha.sha };
  if (source.latestSha !== undefined) return { sha: source.latestSha };
  return {
    message:
      `input \`promote-sha\`: \`${latestPath(request.from)}\` names no deployed commit in ${request.display}; ` +
      'give the sha to promote, or deploy to `promote-from` first',
  };
}

/** Why `<from>/<sha>/` cannot be promoted, or undefined when it is there. */
export function missingSource(request: Pick<PromoteRequest, 'from' | 'display'>, sha: string, listing: TargetListing) {
  refuseSymlinks(listing, request.from, deployFolder(request.from, sha));
  if (listing.folders.has(sha)) return undefined;
  const deployed = folderNames(listing).slice(0, 10).join(', ');
  return (
    `input \`promote-from\`: there is no ${deployFolder(request.from, sha)}/ in ${request.display} to promote` +
    (deployed ? `; deployed there: ${deployed}` : `; nothing is deployed in ${request.from}/`)
  );
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The destination folder's files, name → blob id: the source folder's, with, for `boot-args`,
 * each image's new `.args` and the manifest and SHA256SUMS that record them (generated here).
 */
export function promotedFiles(
  request: Pick<PromoteRequest, 'directory' | 'bootArgs' | 'oidLength'>,
  sha: string,
  source: ReadonlyMap<string, string>,
  manifest: Manifest,
): { readonly files: ReadonlyMap<string, string>; readonly generated: readonly GeneratedFile[] } {
  if (request.bootArgs === undefined) return { files: source, generated: [] };
  const folder = deployFolder(request.directory, sha);
  const argsText = argsFileContent(request.bootArgs);
  const images: Record<string, ImageEntry> = {};
  const generated: GeneratedFile[] = [];
  for (const [file, entry] of Object.entries(manifest.images)) {
    const args = argsFileName(entry.name);
    images[file] = { ...entry, bootArgs: request.bootArgs, files: { ...entry.files, [args]: sha256(argsText) } };
    generated.push({ path: `${folder}/${args}`, oid: blobOid(argsText, request.oidLength), text: argsText });
  }
  const { manifestText, sumsText } = manifestFiles({ ...manifest, images });
  generated.push(
    { path: `${folder}/manifest.json`, oid: blobOid(manifestText, request.oidLength), text: manifestText },
    { path: `${folder}/SHA256SUMS`, oid: blobOid(sumsText, request.oidLength), text: sumsText },
  );
  const files = new Map(source);
  for (const g of generated) files.set(g.path.slice(folder.length + 1), g.oid);
  return { files, generated };
}

/** `latestMoved`: whether `latest` of the destination moves to the promoted sha. */
export type PromotePlan = Unchanged | Conflict | (PlannedCommit & { readonly generated: readonly GeneratedFile[] });

const sameFiles = (a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>) =>
  a.size === b.size && [...a].every(([name, oid]) => b.get(name) === oid);

/**
 * Every decision of one promote attempt, on the destination as read at the tip: the folder
 * copied by blob id (or found already there), `latest` moved as a deploy moves it (never
 * backwards), `keep` applied to the destination.
 */
export function planPromote(
  request: PromoteRequest,
  sha: string,
  latestOid: string,
  promoted: ReturnType<typeof promotedFiles> & { readonly manifest: Manifest },
  destination: TargetState,
): PromotePlan {
  const { directory } = request;
  const folder = deployFolder(directory, sha);
  refuseSymlinks(destination.listing, directory, folder);
  const existing = destination.listing.folders.get(sha);
  if (existing !== undefined && !sameFiles(existing, promoted.files)) {
    return {
      kind: 'conflict',
      message:
        `input \`promote-from\`: ${folder}/ already exists in ${request.display} with other files or bytes than ` +
        `${deployFolder(request.from, sha)}/${request.bootArgs === undefined ? '' : ' with these `boot-args`'}; ` +
        'not replacing it: remove it from the deployment repository first, or promote another sha',
    };
  }
  const { latest, pruned } = latestAndPrune({ sha, keep: request.keep }, destination, promoted.manifest);
  if (existing !== undefined && (!latest.move || destination.latestSha === sha) && pruned.length === 0) {
    return { kind: 'unchanged', reason: `${folder}/ is already there, with the same bytes` };
  }
  const changes: IndexChange[] =
    existing === undefined ? [...promoted.files].map(([name, oid]) => ({ path: `${folder}/${name}`, oid })) : [];
  const moves = latest.move && destination.latestSha !== sha;
  // The record of this move (`latest.deployment`) goes with it, as with a deploy's.
  if (moves) changes.push({ path: latestPath(directory), oid: latestOid }, ...recordChange(request));
  for (const gone of pruned) {
    const files = destination.listing.folders.get(gone)?.keys() ?? [];
    changes.push(...[...files].map((name) => ({ path: `${deployFolder(directory, gone)}/${name}` })));
  }
  const notes = [
    ...(existing === undefined ? [] : [`${folder}/ was already there, with the same bytes`]),
    ...(latest.move ? [] : [`${latest.reason}: the folder is promoted, \`latest\` is left as it is`]),
    ...(pruned.length > 0
      ? [`keep ${request.keep}: removed ${pruned.map((s) => deployFolder(directory, s)).join(', ')}`]
      : []),
  ];
  return {
    kind: 'commit',
    changes,
    generated: promoted.generated,
    message: commitMessage({
      subject: request.subject ?? `promoting ${deployFolder(request.from, sha)} to ${directory}`,
      repository: request.sourceRepository,
      sha,
      runUrl: request.runUrl,
      notes,
    }),
    notes,
    listing: describeChanges(changes, new Map(), moves ? { path: latestPath(directory), sha } : undefined),
    latestMoved: moves,
  };
}
