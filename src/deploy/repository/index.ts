/**
 * One commit on the deployment branch, made safe for a matrix of jobs pushing at once: fetch the
 * tip, plan against it, commit, push; when the branch moved, do it all again on the new tip
 * (re-planning rather than rebasing, since jobs of one target all write `latest`).
 */
import * as core from '@actions/core';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunContext } from '../../context.js';
import { fileDigest } from '../../hash.js';
import { decompressImage } from '../compress.js';
import { deployFolder, latestContent, latestPath, MANIFEST_FILE, parseLatest, recordPath } from '../plan.js';
import { parseManifest, type ImageEntry, type Manifest, type ManifestSource } from '../manifest.js';
import {
  commitMessage,
  describeChanges,
  identifyLatest,
  listTarget,
  manifestsToRead,
  planDeploy,
  planRollback,
  refuseSymlinks,
  type IndexChange,
  type TargetListing,
  classifyPush,
  MAX_PUSH_ATTEMPTS,
  retryDelay,
} from './plan.js';
import { DeploymentRepository, RepositoryError, type Author } from './git.js';
import { sourceAncestry } from '../source.js';
import type { GitAccess } from '../credentials/plan.js';
import { compareWithLatest } from './changes.js';
import { diffLines, type DeployDiff, type PackageVersion } from '../../sbom/diff.js';
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
  /** The unikernel's folder: the git repository holding it tells how two source commits relate. */
  readonly sourceDir: string;
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

type Step =
  | { readonly kind: 'unchanged'; readonly reason: string }
  | {
      readonly kind: 'commit';
      readonly changes: readonly IndexChange[];
      readonly message: string;
      readonly notes: readonly string[];
      readonly listing: readonly string[];
      readonly latestMoved: boolean;
    };

interface Snapshot {
  readonly tip?: string;
  readonly listing: TargetListing;
  readonly latestSha?: string;
}

const short = (oid: string) => oid.slice(0, 12);

async function snapshot(repo: DeploymentRepository, tip: string | undefined, target: string): Promise<Snapshot> {
  if (tip === undefined) return { listing: { folders: new Map() } };
  const listing = listTarget(await repo.listFiles(tip, target), target);
  if (listing.latestOid === undefined) return { tip, listing };
  let latestSha = identifyLatest(listing);
  if (latestSha === undefined) {
    await repo.fetchBlobs([listing.latestOid]);
    latestSha = parseLatest(await repo.readText(listing.latestOid));
  }
  if (latestSha === undefined)
    core.warning(`\`${latestPath(target)}\` does not hold a commit sha; it will be replaced`);
  return latestSha === undefined ? { tip, listing } : { tip, listing, latestSha };
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

/** Fetch, plan, commit, push; again on the new tip while the branch keeps moving, within bounds. */
async function commitWithRetry(
  opened: { repo: DeploymentRepository; branch: string; tip?: string },
  settings: WriteSettings,
  plan: (snap: Snapshot) => Promise<Step>,
): Promise<WriteResult> {
  const { repo, branch } = opened;
  let lastReason = '';
  for (let attempt = 1; attempt <= MAX_PUSH_ATTEMPTS; attempt++) {
    const tip = attempt === 1 ? opened.tip : await repo.fetchTip(branch);
    core.info(
      tip === undefined
        ? `branch \`${branch}\` of ${repo.display} has no commits yet: this deploy makes the first`
        : `tip of \`${branch}\`: ${short(tip)} (commit and trees only)`,
    );
    const step = await plan(await snapshot(repo, tip, settings.directory));
    if (step.kind === 'unchanged') {
      core.info(`nothing to commit: ${step.reason}`);
      return { status: 'unchanged', branch, ...(tip ? { commit: tip } : {}), notes: [step.reason], attempts: attempt };
    }
    const commit = await repo.commit(tip, step.changes, step.message);
    if (settings.dryRun) {
      const notes = [...step.notes, ...step.listing];
      core.info(
        `dry run: commit ${short(commit)} would be pushed to \`${branch}\`; it would:\n${step.listing.join('\n')}`,
      );
      return { status: 'dry-run', branch, commit, notes, attempts: attempt, latestMoved: step.latestMoved };
    }
    const result = await repo.push(commit, branch);
    const verdict = classifyPush(result, branch);
    if (verdict === undefined) {
      // The connection can fail after the server took the push: the branch says whether it did.
      if (await landed(repo, branch, commit)) {
        core.info(
          `\`git push\` reported a failure, but \`${branch}\` of ${repo.display} is at ${short(commit)}: it landed`,
        );
        return {
          status: 'pushed',
          branch,
          commit,
          notes: step.notes,
          attempts: attempt,
          latestMoved: step.latestMoved,
        };
      }
      const stderr = result.stderr.trim();
      throw new RepositoryError(
        result.timedOut
          ? repo.timedOut('git push')
          : (repo.explain(stderr) ??
              `\`git push\` to ${repo.display} failed (exit code ${result.exitCode}):\n${stderr}`),
      );
    }
    if (verdict.kind === 'pushed') {
      core.info(`pushed ${short(commit)} to \`${branch}\` of ${repo.display}`);
      return { status: 'pushed', branch, commit, notes: step.notes, attempts: attempt, latestMoved: step.latestMoved };
    }
    if (verdict.kind === 'refused') {
      throw new RepositoryError(
        `${repo.display} refused the push to \`${branch}\`: ${verdict.reason}` +
          (verdict.hint ? `\n${verdict.hint}` : ''),
      );
    }
    lastReason = verdict.reason;
    if (attempt < MAX_PUSH_ATTEMPTS) {
      const delay = retryDelay(attempt + 1, Math.random);
      core.info(
        `push rejected (${verdict.reason}): another job pushed first; redoing the commit on the new tip in ${delay} ms`,
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

/** The change writing `settings.record` beside `latest`, or none. */
async function recordChange(repo: DeploymentRepository, settings: WriteSettings): Promise<IndexChange[]> {
  if (settings.record === undefined) return [];
  return [{ path: recordPath(settings.directory), oid: await repo.writeText(settings.record) }];
}

/**
 * Writes this image into `<directory>/<sha>/` (beside the folder's other images) with the folder's
 * manifest and SHA256SUMS, and, unless a newer build is there, `<directory>/latest`.
 */
export async function writeDeploy(access: GitAccess, ctx: RunContext, settings: WriteSettings, job: DeployFiles) {
  const { directory, sha } = settings;
  const opened = await DeploymentRepository.open(access, settings.workDir, settings.author, settings.branch);
  const { repo } = opened;
  const fileOids = await repo.writeFiles(job.files.map((f) => f.path));
  const latestOid = await repo.writeText(latestContent(sha));
  const record = await recordChange(repo, settings);
  const files = job.files.map((f, i) => ({ name: f.name, oid: fileOids[i] ?? '' }));
  const sizes = new Map<string, number>(job.files.map((f, i) => [fileOids[i] ?? '', f.size]));
  const ancestries = new Map<string, Awaited<ReturnType<typeof sourceAncestry>>>();
  let legacy = 0;
  let diff: DeployDiff | undefined;

  const result = await commitWithRetry(opened, settings, async (snap) => {
    const oids = manifestsToRead(snap.listing, sha, snap.latestSha, job.keep);
    const manifests = await readManifests(repo, oids);
    // Before reading any of the folder's blobs, as planDeploy would refuse after.
    refuseSymlinks(snap.listing, directory, deployFolder(directory, sha));
    const own = snap.listing.folders.get(sha);
    if (own !== undefined) {
      const dest = join(settings.workDir, `legacy-${++legacy}`);
      manifests.set(sha, await completeHashes(repo, manifests.get(sha), own, dest));
    }
    let ancestry = snap.latestSha === undefined ? undefined : ancestries.get(snap.latestSha);
    if (snap.latestSha !== undefined && ancestry === undefined) {
      ancestry = await sourceAncestry(settings.sourceDir, sha, snap.latestSha);
      ancestries.set(snap.latestSha, ancestry);
    }
    const plan = planDeploy(
      {
        directory,
        sha,
        imageFile: job.imageFile,
        entry: job.entry,
        source: job.source,
        files,
        latestOid,
        keep: job.keep,
        oidLength: latestOid.length,
      },
      {
        listing: snap.listing,
        ...defined({ latestSha: snap.latestSha }),
        manifests,
        ancestry: ancestry ?? 'unknown',
      },
    );
    if (plan.kind === 'unchanged') return plan;
    if (plan.kind === 'conflict') throw new RepositoryError(plan.message);
    for (const generated of plan.generated) {
      const oid = await repo.writeText(generated.text);
      if (oid !== generated.oid)
        throw new Error(`blob id of ${generated.path}: git says ${oid}, the plan ${generated.oid}`);
      sizes.set(oid, Buffer.byteLength(generated.text));
    }
    const notes: string[] = [];
    if (plan.others.length > 0) notes.push(`kept the folder's other images: ${plan.others.join(', ')}`);
    if (!plan.latest.move && plan.latest.reason) {
      notes.push(`${plan.latest.reason}: the image is stored, \`latest\` is left as it is`);
      core.notice(notes[notes.length - 1] ?? '');
    }
    if (plan.pruned.length > 0)
      notes.push(`keep ${job.keep}: removed ${plan.pruned.map((s) => deployFolder(directory, s)).join(', ')}`);
    diff = await compareWithLatest(
      repo,
      snap.latestSha,
      snap.latestSha === undefined ? undefined : snap.listing.folders.get(snap.latestSha),
      snap.latestSha === undefined ? undefined : manifests.get(snap.latestSha),
      job.entry,
      job.packages,
    );
    return {
      kind: 'commit',
      changes: plan.latest.move ? [...plan.changes, ...record] : plan.changes,
      latestMoved: plan.latest.move,
      message: commitMessage({
        subject: settings.subject ?? `adding ${sha} for ${directory}`,
        repository: settings.sourceRepository,
        sha,
        runUrl: settings.runUrl,
        notes: [`image: ${job.imageFile}`, ...notes, '', ...diffLines(diff)],
      }),
      notes,
      listing: describeChanges(
        plan.changes,
        sizes,
        plan.latest.move ? { path: latestPath(directory), sha } : undefined,
      ),
    };
  });
  return result.status === 'unchanged' || diff === undefined ? result : { ...result, diff };
}

/** Checks every image of the folder against its manifest: its compressed and its unpacked sha256. */
async function verifyDeployed(
  repo: DeploymentRepository,
  tip: string,
  listing: TargetListing,
  directory: string,
  sha: string,
  dest: string,
): Promise<void> {
  const folder = deployFolder(directory, sha);
  const files = listing.folders.get(sha) ?? new Map<string, string>();
  const manifestOid = files.get(MANIFEST_FILE);
  if (manifestOid === undefined) {
    throw new RepositoryError(
      `input \`rollback-to\`: ${folder} has no ${MANIFEST_FILE}, so its images cannot be verified; roll back to a sha this action deployed`,
    );
  }
  await repo.fetchBlobs([manifestOid]);
  const manifest = parseManifest(await repo.readText(manifestOid));
  const images = Object.entries(manifest?.images ?? {});
  const absent = images.find(([file]) => !files.has(file));
  if (manifest === undefined || images.length === 0 || absent !== undefined) {
    throw new RepositoryError(
      `input \`rollback-to\`: ${folder}/${MANIFEST_FILE} ${absent ? `names ${absent[0]}, which is not in the folder` : 'is not readable'}; the images cannot be verified`,
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
        `input \`rollback-to\`: ${folder}/${file} has sha256 ${storedSha}, but its manifest says ` +
          `${entry.compressedSha256}; not moving \`latest\` to an image that changed since it was deployed`,
      );
    }
    const image = await decompressImage(stored, entry.compression);
    const imageSha = await fileDigest(image);
    if (imageSha !== entry.sha256) {
      throw new RepositoryError(
        `input \`rollback-to\`: ${folder}/${file} unpacks to sha256 ${imageSha}, but its manifest says ` +
          `${entry.sha256}; not moving \`latest\` to it`,
      );
    }
    core.info(`verified ${folder}/${file}: sha256 ${entry.sha256} as in its manifest`);
  }
}

/** Moves `<directory>/latest` back to an existing `<directory>/<sha>/` whose images all verify. */
export async function writeRollback(access: GitAccess, settings: WriteSettings) {
  const { directory: target, sha } = settings;
  const opened = await DeploymentRepository.open(access, settings.workDir, settings.author, settings.branch);
  const { repo } = opened;
  const latestOid = await repo.writeText(latestContent(sha));
  const record = await recordChange(repo, settings);
  const verified = new Set<string>();
  return commitWithRetry(opened, settings, async (snap) => {
    const plan = planRollback(target, sha, snap, latestOid);
    if (plan.kind === 'missing') {
      const listed = plan.deployed.slice(0, 10).join(', ');
      throw new RepositoryError(
        `input \`rollback-to\`: ${sha} is not deployed for target ${target} in ${repo.display}: there is no ` +
          `${deployFolder(target, sha)}/ on its branch` +
          (listed
            ? `; deployed there: ${listed}${plan.deployed.length > 10 ? ', …' : ''}`
            : '; nothing is deployed for that target'),
      );
    }
    if (plan.kind === 'unchanged') return plan;
    const folderKey = [...(snap.listing.folders.get(sha) ?? new Map<string, string>()).values()].sort().join(',');
    if (snap.tip !== undefined && !verified.has(folderKey)) {
      await verifyDeployed(
        repo,
        snap.tip,
        snap.listing,
        target,
        sha,
        join(settings.workDir, `verify-${verified.size}`),
      );
      verified.add(folderKey);
    }
    const notes = snap.latestSha ? [`\`latest\` named ${snap.latestSha} before`] : [];
    return {
      kind: 'commit',
      changes: [...plan.changes, ...record],
      latestMoved: true,
      message: commitMessage({
        subject: settings.subject ?? `rolling back ${target} to ${sha}`,
        repository: settings.sourceRepository,
        sha,
        runUrl: settings.runUrl,
        notes,
      }),
      notes,
      listing: [`write ${latestPath(target)} (${sha})`, ...record.map((c) => `write ${c.path}`)],
    };
  });
}
