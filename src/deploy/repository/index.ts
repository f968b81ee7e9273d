/**
 * One commit on the deployment branch, made safe for a matrix of jobs pushing at once. Each
 * attempt reads what it needs at the tip (`readSnapshot`), asks one pure plan (`planWrite`), then
 * acts (blobs, commit, push); when the branch moved, it does it all again on the new tip
 * (re-planning rather than rebasing, since jobs of one target all write `latest`).
 */
import * as core from '@actions/core';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileDigest } from '../../hash.js';
import { decompressImage } from '../compress.js';
import { deployFolder, latestContent, latestPath, MANIFEST_FILE, parseLatest } from '../plan.js';
import { parseManifest, type ImageEntry, type Manifest, type ManifestSource } from '../manifest.js';
import {
  classifyPush,
  foldersToRead,
  historyDepth,
  historyRootMessage,
  identifyLatest,
  listTarget,
  manifestsToRead,
  MAX_PUSH_ATTEMPTS,
  planRollback,
  planStalledPush,
  planWrite,
  refuseSymlinks,
  retryDelay,
  rewritesHistory,
  type DeploySnapshot,
  type PlannedCommit,
  type RollbackRequest,
  type TargetListing,
  type Unchanged,
  type WriteRequest,
} from './plan.js';
import { DeploymentRepository, RepositoryError, type Author, type PushResult } from './git.js';
import { deadline, PUSH_STALL_MS, seconds } from '../../deadlines.js';
import { ancestryOf, type SourceFacts } from '../source.js';
import type { GitAccess } from '../credentials/plan.js';
import { readLatestImage } from './changes.js';
import {
  missingSource,
  planPromote,
  promotedFiles,
  resolvePromoteSha,
  type PromoteRequest,
  type PromoteSha,
} from './promote.js';
import type { DeployDiff, PackageVersion } from '../../sbom/diff.js';
import { defined } from '../../defined.js';

export interface WriteSettings {
  /** The deploy folder of the repository (`deploy-directory`). */
  readonly directory: string;
  readonly sha: string;
  /** `deploy-repository-branch`; the remote's default branch (or `main`) when absent. */
  readonly branch?: string;
  readonly dryRun: boolean;
  readonly author: Author;
  /** `commit-message`; a default per operation when absent. */
  readonly subject?: string;
  readonly sourceRepository: string;
  readonly runUrl: string;
  /** `keep-history`: past this many commits, the commit starts a new root; absent, history is kept. */
  readonly keepHistory?: number;
  /** Private, empty folder for the local repository; the caller removes it. */
  readonly workDir: string;
  /** `<directory>/latest.deployment`, written in the commit that moves `latest`; absent: left as it is. */
  readonly record?: string;
}

export interface DeployFiles {
  /** Local files of this image in the folder (image, config file, side files, `.args`). */
  readonly files: ReadonlyArray<{ readonly name: string; readonly path: string; readonly size: number }>;
  /** The stored image's file name: its key in the manifest. */
  readonly imageFile: string;
  readonly entry: ImageEntry;
  readonly source: ManifestSource;
  /** What the source checkout showed before the build: orders this build against `latest`'s. */
  readonly facts: SourceFacts;
  readonly keep: number;
  /** The image's locked packages, compared with those of the image `latest` names. */
  readonly packages?: readonly PackageVersion[];
}

export interface WriteResult {
  readonly status: 'pushed' | 'unchanged' | 'dry-run';
  readonly branch: string;
  /** The pushed commit, the tip already holding the deploy, or (dry run) the commit not pushed. */
  readonly commit?: string;
  /** Lines for the log and the summary: what `latest` did, what was pruned, what a dry run would write. */
  readonly notes: readonly string[];
  readonly attempts: number;
  /** What changed since the image `latest` named, when a commit was made (pushed or dry run). */
  readonly diff?: DeployDiff;
  /** Whether the commit moved `latest` (and wrote `settings.record` beside it). */
  readonly latestMoved?: boolean;
}

/** What one attempt decided and prepared: nothing to do, or a commit ready to make. */
type Step = Unchanged | (PlannedCommit & { readonly diff?: DeployDiff });

/** `<directory>/` at the tip: its listing and the sha `latest` names. */
interface TargetSnapshot {
  readonly tip?: string;
  readonly listing: TargetListing;
  readonly latestSha?: string;
}

interface Opened {
  readonly repo: DeploymentRepository;
  readonly branch: string;
  readonly tip?: string;
}

/** The tip one attempt works on, and the root its commit goes on instead when history is cut. */
interface Base {
  readonly tip?: string;
  /** `keep-history`: the tip's tree on a new root, pushed with a lease on `tip`. */
  readonly newRoot?: { readonly keepHistory: number; readonly tip: string };
}

const short = (oid: string) => oid.slice(0, 12);

/** The sha `latest` names: from its blob id when it names a folder, or else from its text. */
async function readLatest(repo: DeploymentRepository, listing: TargetListing, target: string) {
  if (listing.latestOid === undefined) return undefined;
  let latestSha = identifyLatest(listing);
  if (latestSha === undefined) {
    await repo.fetchBlobs([listing.latestOid]);
    latestSha = parseLatest(await repo.readText(listing.latestOid));
  }
  if (latestSha === undefined)
    core.warning(`\`${latestPath(target)}\` does not hold a commit sha; it will be replaced`);
  return latestSha;
}

/**
 * `<directory>/` at the tip: its entries, the sha `latest` names, and the files of the folders
 * `toRead` picks (name → tree id), fetched by id; no other folder's tree is downloaded.
 */
async function readTarget(
  repo: DeploymentRepository,
  tip: string | undefined,
  target: string,
  toRead: (listing: TargetListing, latestSha: string | undefined) => ReadonlyMap<string, string>,
): Promise<TargetSnapshot> {
  if (tip === undefined) return { listing: { folders: new Map() } };
  const entries = await repo.listDirectory(tip, target);
  const top = listTarget(entries, target);
  const latestSha = await readLatest(repo, top, target);
  const files = await repo.listFolders(target, toRead(top, latestSha));
  return { tip, listing: listTarget([...entries, ...files], target), ...defined({ latestSha }) };
}

async function readManifests(
  repo: DeploymentRepository,
  oids: ReadonlyMap<string, string>,
): Promise<Map<string, Manifest | undefined>> {
  await repo.fetchBlobs(oids.values());
  const manifests = new Map<string, Manifest | undefined>();
  for (const [sha, oid] of oids) manifests.set(sha, parseManifest(await repo.readText(oid)));
  return manifests;
}

/** Whether `branch` on the server is at `commit`; false when that cannot be learnt either. */
async function landed(repo: DeploymentRepository, branch: string, commit: string): Promise<boolean> {
  try {
    return (await repo.fetchTip(branch)) === commit;
  } catch {
    return false;
  }
}

/**
 * Fills in the hashes of the files a schema 1 manifest listed without them, from their blobs, so
 * that SHA256SUMS covers the folder's earlier image too.
 */
async function completeHashes(
  repo: DeploymentRepository,
  manifest: Manifest | undefined,
  folder: ReadonlyMap<string, string>,
  dest: string,
): Promise<Manifest | undefined> {
  if (manifest === undefined) return undefined;
  const missing = Object.values(manifest.images)
    .flatMap((entry) => Object.entries(entry.files))
    .filter(([name, hash]) => hash === '' && folder.has(name))
    .map(([name]) => ({ name, oid: folder.get(name) ?? '' }));
  if (missing.length === 0) return manifest;
  await repo.checkoutBlobs(missing, dest);
  const hashes = new Map<string, string>();
  for (const { name } of missing) hashes.set(name, await fileDigest(join(dest, name)));
  const images: Record<string, ImageEntry> = {};
  for (const [file, entry] of Object.entries(manifest.images)) {
    const files = Object.fromEntries(
      Object.entries(entry.files)
        .filter(([name, hash]) => hash !== '' || hashes.has(name))
        .map(([name, hash]) => [name, hash || (hashes.get(name) ?? '')]),
    );
    images[file] = { ...entry, files };
  }
  return { ...manifest, images };
}

/**
 * A push that stalls (no progress for PUSH_STALL_MS) is stopped; then the branch is read again and
 * `planStalledPush` decides: it landed, push once more, or fail.
 */
async function pushThroughStalls(
  repo: DeploymentRepository,
  branch: string,
  commit: string,
  lease: string | undefined,
): Promise<PushResult | { readonly said: string }> {
  let result = await repo.push(commit, branch, lease);
  for (let stalls = 1; result.stalled === true; stalls++) {
    const next = planStalledPush({
      stalls,
      landed: await landed(repo, branch, commit),
      display: repo.display,
      branch,
      commit: short(commit),
      stallSeconds: seconds(deadline(PUSH_STALL_MS)),
      ...defined({ lastProgress: result.lastProgress }),
    });
    if (next.kind === 'fail') throw new RepositoryError(next.message);
    if (next.kind === 'landed') return { said: next.said };
    core.info(next.said);
    result = await repo.push(commit, branch, lease);
  }
  return result;
}

/**
 * The push of one attempt's commit: its result, or the reason to try again on a new tip. Throws
 * when the server refused for good or could not be reached.
 */
async function pushCommit(
  repo: DeploymentRepository,
  branch: string,
  commit: string,
  lease: string | undefined,
): Promise<{ readonly pushed: true; readonly said?: string } | { readonly pushed: false; readonly reason: string }> {
  const result = await pushThroughStalls(repo, branch, commit, lease);
  if ('said' in result) return { pushed: true, said: result.said };
  const verdict = classifyPush(result, branch, lease !== undefined);
  if (verdict === undefined) {
    // The connection can fail after the server took the push: the branch says whether it did.
    if (await landed(repo, branch, commit)) {
      return {
        pushed: true,
        said: `\`git push\` reported a failure, but \`${branch}\` of ${repo.display} is at ${short(commit)}: it landed`,
      };
    }
    const stderr = result.stderr.trim();
    throw new RepositoryError(
      result.timedOut
        ? repo.timedOut('git push')
        : (repo.explain(stderr) ?? `\`git push\` to ${repo.display} failed (exit code ${result.exitCode}):\n${stderr}`),
    );
  }
  if (verdict.kind === 'refused') {
    throw new RepositoryError(
      `${repo.display} refused the push to \`${branch}\`: ${verdict.reason}` +
        (verdict.hint ? `\n${verdict.hint}` : ''),
    );
  }
  return verdict.kind === 'pushed' ? { pushed: true } : { pushed: false, reason: verdict.reason };
}

/**
 * The tip of this attempt (the clone's on the first, unless `keep-history` needs it deeper) and
 * whether its history is to be cut: counted on commits fetched `historyDepth` deep, without trees.
 */
async function readBase(opened: Opened, n: number, keepHistory: number | undefined): Promise<Base> {
  const { repo, branch } = opened;
  const depth = historyDepth(keepHistory);
  const tip = n === 1 && depth === 1 ? opened.tip : await repo.fetchTip(branch, depth);
  if (tip === undefined || keepHistory === undefined) return defined({ tip });
  const counted = await repo.countCommits(tip);
  return rewritesHistory(counted, keepHistory) ? { tip, newRoot: { keepHistory, tip } } : { tip };
}

/** Commits one attempt's step on its base, and pushes it unless this is a dry run. */
async function act(
  repo: DeploymentRepository,
  branch: string,
  base: Base,
  step: Extract<Step, { kind: 'commit' }>,
  dryRun: boolean,
): Promise<Omit<WriteResult, 'attempts'> | { readonly retry: string }> {
  const { newRoot } = base;
  const parent = newRoot
    ? await repo.rootCommit(newRoot.tip, historyRootMessage(newRoot.tip, newRoot.keepHistory))
    : base.tip;
  const commit = await repo.commit(parent, step.changes, step.message);
  const cut = newRoot
    ? [
        `keep-history ${newRoot.keepHistory}: \`${branch}\` had more than ${newRoot.keepHistory} commits; ` +
          `this commit starts its history again on a root holding the tree of ${short(newRoot.tip)}`,
      ]
    : [];
  for (const note of cut) core.info(note);
  const done = {
    branch,
    commit,
    notes: [...step.notes, ...cut],
    latestMoved: step.latestMoved,
    ...defined({ diff: step.diff }),
  };
  if (dryRun) {
    core.info(
      `dry run: commit ${short(commit)} would be pushed to \`${branch}\`; it would:\n${step.listing.join('\n')}`,
    );
    return { ...done, status: 'dry-run', notes: [...done.notes, ...step.listing] };
  }
  const pushed = await pushCommit(repo, branch, commit, newRoot?.tip);
  if (!pushed.pushed) return { retry: pushed.reason };
  core.info(pushed.said ?? `pushed ${short(commit)} to \`${branch}\` of ${repo.display}`);
  return { ...done, status: 'pushed' };
}

/** Read, plan, act on the tip; again on the new tip while the branch keeps moving, within bounds. */
async function commitWithRetry(
  opened: Opened,
  settings: Pick<WriteSettings, 'dryRun' | 'keepHistory'>,
  attempt: (tip: string | undefined, n: number) => Promise<Step>,
): Promise<WriteResult> {
  const { repo, branch } = opened;
  let lastReason = '';
  for (let n = 1; n <= MAX_PUSH_ATTEMPTS; n++) {
    const base = await readBase(opened, n, settings.keepHistory);
    const { tip } = base;
    core.info(
      tip === undefined
        ? `branch \`${branch}\` of ${repo.display} has no commits yet: this deploy makes the first`
        : `tip of \`${branch}\`: ${short(tip)} (commit and trees only)`,
    );
    const step = await attempt(tip, n);
    if (step.kind === 'unchanged') {
      core.info(`nothing to commit: ${step.reason}`);
      return { status: 'unchanged', branch, ...defined({ commit: tip }), notes: [step.reason], attempts: n };
    }
    const done = await act(repo, branch, base, step, settings.dryRun);
    if (!('retry' in done)) return { ...done, attempts: n };
    lastReason = done.retry;
    if (n < MAX_PUSH_ATTEMPTS) {
      const delay = retryDelay(n + 1, Math.random);
      core.info(
        `push rejected (${lastReason}): another job pushed first; redoing the commit on the new tip in ${delay} ms`,
      );
      await sleep(delay);
    }
  }
  throw new RepositoryError(
    `gave up after ${MAX_PUSH_ATTEMPTS} attempts to push to \`${branch}\` of ${repo.display}: ` +
      `the branch kept moving (last: ${lastReason}). Too many jobs deploy to it at once; ` +
      'limit the matrix with `max-parallel`, or re-run this job',
  );
}

/**
 * Everything a deploy attempt's plan needs, read at `tip`: the listing, the sha `latest` names,
 * the manifests (this folder's completed from its blobs), how the two builds relate, and the image
 * `latest` names for the diff.
 */
async function readSnapshot(
  repo: DeploymentRepository,
  tip: string | undefined,
  settings: WriteSettings,
  job: DeployFiles,
  dest: string,
): Promise<DeploySnapshot> {
  const { directory, sha } = settings;
  const { listing, latestSha } = await readTarget(repo, tip, directory, (top, latest) =>
    foldersToRead(top, sha, latest, job.keep),
  );
  const manifests = await readManifests(repo, manifestsToRead(listing, sha, latestSha, job.keep));
  // Before reading any of the folder's blobs, as the plan would refuse after.
  refuseSymlinks(listing, directory, deployFolder(directory, sha));
  const own = listing.folders.get(sha);
  if (own !== undefined) manifests.set(sha, await completeHashes(repo, manifests.get(sha), own, dest));
  const latestFolder = latestSha === undefined ? undefined : listing.folders.get(latestSha);
  const latestManifest = latestSha === undefined ? undefined : manifests.get(latestSha);
  return {
    ...defined({ tip, latestSha }),
    listing,
    manifests,
    ancestry: latestSha === undefined ? 'unknown' : ancestryOf(job.facts, latestSha),
    previous: await readLatestImage(repo, latestSha, latestFolder, latestManifest, job.entry.name),
  };
}

/** Stores the plan's generated files, checking that git gives them the ids the plan wrote. */
async function storeGenerated(
  repo: DeploymentRepository,
  generated: ReadonlyArray<{ readonly path: string; readonly oid: string; readonly text: string }>,
): Promise<void> {
  for (const file of generated) {
    const oid = await repo.writeText(file.text);
    if (oid !== file.oid) throw new Error(`blob id of ${file.path}: git says ${oid}, the plan ${file.oid}`);
  }
}

/** The writer's request for every attempt: the local files stored as blobs, and the words. */
async function writeRequest(
  repo: DeploymentRepository,
  settings: WriteSettings,
  job: DeployFiles,
): Promise<WriteRequest> {
  const fileOids = await repo.writeFiles(job.files.map((f) => f.path));
  const latestOid = await repo.writeText(latestContent(settings.sha));
  const recordOid = settings.record === undefined ? undefined : await repo.writeText(settings.record);
  return {
    ...defined({ recordOid }),
    directory: settings.directory,
    sha: settings.sha,
    imageFile: job.imageFile,
    entry: job.entry,
    source: job.source,
    files: job.files.map((f, i) => ({ name: f.name, oid: fileOids[i] ?? '' })),
    latestOid,
    keep: job.keep,
    oidLength: latestOid.length,
    ...defined({ subject: settings.subject, packages: job.packages }),
    sourceRepository: settings.sourceRepository,
    runUrl: settings.runUrl,
    sizes: new Map(job.files.map((f, i) => [fileOids[i] ?? '', f.size])),
  };
}

/**
 * Writes this image into `<directory>/<sha>/` (beside the folder's other images) with the folder's
 * manifest and SHA256SUMS, and, unless a newer build is there, `<directory>/latest`.
 */
export async function writeDeploy(access: GitAccess, settings: WriteSettings, job: DeployFiles): Promise<WriteResult> {
  const opened = await DeploymentRepository.open(access, settings.workDir, settings.author, settings.branch);
  const { repo } = opened;
  const request = await writeRequest(repo, settings, job);
  return commitWithRetry(opened, settings, async (tip, n) => {
    const snapshot = await readSnapshot(repo, tip, settings, job, join(settings.workDir, `legacy-${n}`));
    const plan = planWrite(request, snapshot);
    if (plan.kind === 'unchanged') return plan;
    if (plan.kind === 'conflict') throw new RepositoryError(plan.message);
    await storeGenerated(repo, plan.generated);
    if (plan.notice !== undefined) core.notice(plan.notice);
    return plan;
  });
}

/** Checks every image of the folder against its manifest: its compressed and its unpacked sha256. */
async function verifyDeployed(
  repo: DeploymentRepository,
  tip: string,
  listing: TargetListing,
  directory: string,
  sha: string,
  dest: string,
  input: 'rollback-to' | 'promote-from' = 'rollback-to',
): Promise<Manifest> {
  const folder = deployFolder(directory, sha);
  const files = listing.folders.get(sha) ?? new Map<string, string>();
  const manifestOid = files.get(MANIFEST_FILE);
  if (manifestOid === undefined) {
    throw new RepositoryError(
      `input \`${input}\`: ${folder} has no ${MANIFEST_FILE}, so its images cannot be verified; give a sha this action deployed`,
    );
  }
  await repo.fetchBlobs([manifestOid]);
  const manifest = parseManifest(await repo.readText(manifestOid));
  const images = Object.entries(manifest?.images ?? {});
  const absent = images.find(([file]) => !files.has(file));
  if (manifest === undefined || images.length === 0 || absent !== undefined) {
    throw new RepositoryError(
      `input \`${input}\`: ${folder}/${MANIFEST_FILE} ${absent ? `names ${absent[0]}, which is not in the folder` : 'is not readable'}; the images cannot be verified`,
    );
  }
  await repo.checkoutFolder(
    tip,
    [...files].map(([path, oid]) => ({ mode: '100644', type: 'blob', oid, path })),
    folder,
    dest,
  );
  for (const [file, entry] of images) {
    const stored = join(dest, file);
    const storedSha = await fileDigest(stored);
    if (storedSha !== entry.compressedSha256) {
      throw new RepositoryError(
        `input \`${input}\`: ${folder}/${file} has sha256 ${storedSha}, but its manifest says ` +
          `${entry.compressedSha256}; not moving \`latest\` to an image that changed since it was deployed`,
      );
    }
    const image = await decompressImage(stored, entry.compression);
    const imageSha = await fileDigest(image);
    if (imageSha !== entry.sha256) {
      throw new RepositoryError(
        `input \`${input}\`: ${folder}/${file} unpacks to sha256 ${imageSha}, but its manifest says ` +
          `${entry.sha256}; not moving \`latest\` to it`,
      );
    }
    core.info(`verified ${folder}/${file}: sha256 ${entry.sha256} as in its manifest`);
  }
  return manifest;
}

/** Moves `<directory>/latest` back to an existing `<directory>/<sha>/` whose images all verify. */
export async function writeRollback(access: GitAccess, settings: WriteSettings): Promise<WriteResult> {
  const { directory, sha } = settings;
  const opened = await DeploymentRepository.open(access, settings.workDir, settings.author, settings.branch);
  const { repo } = opened;
  const request: RollbackRequest = {
    directory,
    sha,
    latestOid: await repo.writeText(latestContent(sha)),
    ...defined({
      subject: settings.subject,
      recordOid: settings.record === undefined ? undefined : await repo.writeText(settings.record),
    }),
    sourceRepository: settings.sourceRepository,
    runUrl: settings.runUrl,
    display: repo.display,
  };
  const verified = new Set<string>();
  return commitWithRetry(opened, settings, async (tip) => {
    const snap = await readTarget(repo, tip, directory, (top) => foldersToRead(top, sha, undefined, 0));
    const plan = planRollback(request, snap);
    if (plan.kind === 'missing') throw new RepositoryError(plan.message);
    if (plan.kind === 'unchanged' || snap.tip === undefined) return plan;
    // The folder's images, checked once per content before `latest` names it (a moved tip may hold other blobs).
    const files = snap.listing.folders.get(sha) ?? new Map<string, string>();
    const folderKey = [...files.values()].sort().join(',');
    if (!verified.has(folderKey)) {
      const dest = join(settings.workDir, `verify-${verified.size}`);
      await verifyDeployed(repo, snap.tip, snap.listing, directory, sha, dest);
      verified.add(folderKey);
    }
    return plan;
  });
}

export interface PromoteSettings {
  /** `promote-from`: the folder whose `<sha>/` is copied into `deploy-directory`. */
  readonly from: string;
  readonly promoteSha: PromoteSha;
  /** `boot-args` when given: written as the promoted images' `.args`. */
  readonly bootArgs?: readonly string[];
  readonly keep: number;
}

export interface PromoteResult extends WriteResult {
  /** The sha promoted (resolved from `promote-sha`). */
  readonly sha: string;
  readonly latestMoved: boolean;
}

/** The source folder at `tip`, its images verified once per content: its files, manifest and sha. */
async function readPromoted(
  repo: DeploymentRepository,
  tip: string,
  request: PromoteRequest,
  dest: (n: number) => string,
  verified: Map<string, Manifest>,
) {
  const { from, promoteSha } = request;
  const wanted = (latest: string | undefined) => (promoteSha.kind === 'sha' ? promoteSha.sha : latest);
  const source = await readTarget(repo, tip, from, (top, latest) =>
    foldersToRead(top, wanted(latest) ?? '', undefined, 0),
  );
  const resolved = resolvePromoteSha(request, source);
  if ('message' in resolved) throw new RepositoryError(resolved.message);
  const missing = missingSource(request, resolved.sha, source.listing);
  if (missing !== undefined) throw new RepositoryError(missing);
  const files = source.listing.folders.get(resolved.sha) ?? new Map<string, string>();
  const key = [...files].sort().join(',');
  const manifest =
    verified.get(key) ??
    (await verifyDeployed(repo, tip, source.listing, from, resolved.sha, dest(verified.size), 'promote-from'));
  verified.set(key, manifest);
  return { sha: resolved.sha, files, manifest };
}

/**
 * Copies `<from>/<sha>/` into `<directory>/<sha>/` by blob id after verifying its images as a
 * rollback does, and moves `<directory>/latest` as a deploy would; nothing is built or uploaded
 * but, for `boot-args`, the new `.args`, manifest and SHA256SUMS.
 */
export async function writePromote(
  access: GitAccess,
  settings: WriteSettings,
  promote: PromoteSettings,
): Promise<PromoteResult> {
  const { directory } = settings;
  const opened = await DeploymentRepository.open(access, settings.workDir, settings.author, settings.branch);
  const { repo } = opened;
  const asked: Omit<PromoteRequest, 'oidLength'> = {
    from: promote.from,
    directory,
    promoteSha: promote.promoteSha,
    keep: promote.keep,
    ...defined({
      bootArgs: promote.bootArgs,
      subject: settings.subject,
      recordOid: settings.record === undefined ? undefined : await repo.writeText(settings.record),
    }),
    sourceRepository: settings.sourceRepository,
    runUrl: settings.runUrl,
    display: repo.display,
  };
  const verified = new Map<string, Manifest>();
  let last = { sha: '', latestMoved: false };
  const result = await commitWithRetry(opened, settings, async (tip) => {
    if (tip === undefined) {
      throw new RepositoryError(
        `input \`promote-from\`: \`${opened.branch}\` of ${repo.display} has no commits: nothing to promote`,
      );
    }
    // The object ids' length tells the repository's format: the ids of generated files follow it.
    const request: PromoteRequest = { ...asked, oidLength: tip.length };
    const source = await readPromoted(repo, tip, request, (n) => join(settings.workDir, `verify-${n}`), verified);
    const snap = await readTarget(repo, tip, directory, (top, latest) =>
      foldersToRead(top, source.sha, latest, promote.keep),
    );
    const manifests = await readManifests(
      repo,
      manifestsToRead(snap.listing, source.sha, snap.latestSha, promote.keep),
    );
    const promoted = {
      ...promotedFiles(request, source.sha, source.files, source.manifest),
      manifest: source.manifest,
    };
    const latestOid = await repo.writeText(latestContent(source.sha));
    const plan = planPromote(request, source.sha, latestOid, promoted, { ...snap, manifests, ancestry: 'unknown' });
    last = { sha: source.sha, latestMoved: plan.kind === 'commit' && plan.latestMoved };
    if (plan.kind === 'conflict') throw new RepositoryError(plan.message);
    if (plan.kind === 'commit') await storeGenerated(repo, plan.generated);
    return plan;
  });
  return { ...result, ...last };
}
