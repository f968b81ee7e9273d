/**
 * One commit on the deployment branch, made safe for a matrix of jobs pushing at once: fetch the
 * tip, plan against it, commit, push; when the branch moved, do it all again on the new tip
 * (re-planning rather than rebasing, since jobs of one target all write `latest`).
 */
import * as core from '@actions/core';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunContext } from '../context.js';
import { sha256File } from '../hash.js';
import { decompressImage } from './compress.js';
import { deployFolder, latestContent, latestPath, MANIFEST_FILE, parseLatest } from './layout.js';
import { parseManifest, serializeManifest, type Manifest } from './manifest.js';
import {
  commitMessage,
  describeChanges,
  identifyLatest,
  listTarget,
  manifestsToRead,
  planDeploy,
  planRollback,
  type IndexChange,
  type TargetListing,
} from './plan.js';
import { classifyPush, MAX_PUSH_ATTEMPTS, retryDelay } from './push-result.js';
import { DeploymentRepository, RepositoryError, type Author } from './repository.js';
import { sourceAncestry } from './source.js';
import type { GitAccess } from './types.js';

export interface WriteSettings {
  readonly target: string;
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
}

export interface DeployFiles {
  /** Local files of the new deploy folder (image, config file, side files), manifest excluded. */
  readonly files: ReadonlyArray<{ readonly name: string; readonly path: string; readonly size: number }>;
  readonly manifest: Manifest;
  readonly keep: number;
}

export interface WriteResult {
  readonly status: 'pushed' | 'unchanged' | 'dry-run';
  readonly branch: string;
  /** The pushed commit, the tip already holding the deploy, or (dry run) the commit not pushed. */
  readonly commit?: string;
  /** Lines for the log and the summary: what `latest` did, what was pruned, what a dry run would write. */
  readonly notes: readonly string[];
  readonly attempts: number;
}

type Step =
  | { readonly kind: 'unchanged'; readonly reason: string }
  | {
      readonly kind: 'commit';
      readonly changes: readonly IndexChange[];
      readonly message: string;
      readonly notes: readonly string[];
      readonly listing: readonly string[];
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
    const step = await plan(await snapshot(repo, tip, settings.target));
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
      return { status: 'dry-run', branch, commit, notes, attempts: attempt };
    }
    const result = await repo.push(commit, branch);
    const verdict = classifyPush(result, branch);
    if (verdict === undefined) {
      // The connection can fail after the server took the push: the branch says whether it did.
      if (await landed(repo, branch, commit)) {
        core.info(
          `\`git push\` reported a failure, but \`${branch}\` of ${repo.display} is at ${short(commit)}: it landed`,
        );
        return { status: 'pushed', branch, commit, notes: step.notes, attempts: attempt };
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
      return { status: 'pushed', branch, commit, notes: step.notes, attempts: attempt };
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

/** Writes `<target>/<sha>/` and, unless a newer build is there, `<target>/latest`. */
export async function writeDeploy(access: GitAccess, ctx: RunContext, settings: WriteSettings, job: DeployFiles) {
  const { target, sha } = settings;
  const opened = await DeploymentRepository.open(access, settings.workDir, settings.author, settings.branch);
  const { repo } = opened;
  const manifestText = serializeManifest(job.manifest);
  const fileOids = await repo.writeFiles(job.files.map((f) => f.path));
  const manifestOid = await repo.writeText(manifestText);
  const latestOid = await repo.writeText(latestContent(sha));
  const files = [
    ...job.files.map((f, i) => ({ name: f.name, oid: fileOids[i] ?? '' })),
    { name: MANIFEST_FILE, oid: manifestOid },
  ];
  const sizes = new Map<string, number>(job.files.map((f, i) => [fileOids[i] ?? '', f.size]));
  sizes.set(manifestOid, Buffer.byteLength(manifestText));
  const ancestries = new Map<string, Awaited<ReturnType<typeof sourceAncestry>>>();

  return commitWithRetry(opened, settings, async (snap) => {
    const oids = manifestsToRead(snap.listing, sha, snap.latestSha, job.keep);
    const manifests = await readManifests(repo, oids);
    let ancestry = snap.latestSha === undefined ? undefined : ancestries.get(snap.latestSha);
    if (snap.latestSha !== undefined && ancestry === undefined) {
      ancestry = await sourceAncestry(settings.sourceDir, sha, snap.latestSha);
      ancestries.set(snap.latestSha, ancestry);
    }
    const plan = planDeploy(
      { target, sha, files, manifest: job.manifest, latestOid, keep: job.keep },
      {
        listing: snap.listing,
        ...(snap.latestSha === undefined ? {} : { latestSha: snap.latestSha }),
        manifests,
        ancestry: ancestry ?? 'unknown',
      },
    );
    if (plan.kind === 'unchanged') return plan;
    const notes: string[] = [];
    if (!plan.latest.move && plan.latest.reason) {
      notes.push(`${plan.latest.reason}: the image is stored, \`latest\` is left as it is`);
      core.notice(notes[notes.length - 1] ?? '');
    }
    if (plan.pruned.length > 0)
      notes.push(`keep ${job.keep}: removed ${plan.pruned.map((s) => deployFolder(target, s)).join(', ')}`);
    return {
      kind: 'commit',
      changes: plan.changes,
      message: commitMessage({
        subject: settings.subject ?? `adding ${sha} for ${target}`,
        repository: settings.sourceRepository,
        sha,
        runUrl: settings.runUrl,
        notes,
      }),
      notes,
      listing: describeChanges(plan.changes, sizes, plan.latest.move ? { path: latestPath(target), sha } : undefined),
    };
  });
}

/** Checks the stored image against its manifest: both its compressed and its unpacked sha256. */
async function verifyDeployed(
  repo: DeploymentRepository,
  tip: string,
  listing: TargetListing,
  target: string,
  sha: string,
  dest: string,
): Promise<void> {
  const folder = deployFolder(target, sha);
  const files = listing.folders.get(sha) ?? new Map<string, string>();
  const manifestOid = files.get(MANIFEST_FILE);
  if (manifestOid === undefined) {
    throw new RepositoryError(
      `input \`rollback-to\`: ${folder} has no ${MANIFEST_FILE}, so its image cannot be verified; roll back to a sha this action deployed`,
    );
  }
  await repo.fetchBlobs([manifestOid]);
  const manifest = parseManifest(await repo.readText(manifestOid));
  const imageOid = manifest === undefined ? undefined : files.get(manifest.image.file);
  if (manifest === undefined || imageOid === undefined) {
    throw new RepositoryError(
      `input \`rollback-to\`: ${folder}/${MANIFEST_FILE} ${manifest === undefined ? 'is not readable' : `names ${manifest.image.file}, which is not in the folder`}; the image cannot be verified`,
    );
  }
  await repo.checkoutFolder(
    tip,
    [...files].map(([path, oid]) => ({ mode: '100644', type: 'blob', oid, path })),
    folder,
    dest,
  );
  const stored = join(dest, manifest.image.file);
  const storedSha = await sha256File(stored);
  if (storedSha !== manifest.image.compressedSha256) {
    throw new RepositoryError(
      `input \`rollback-to\`: ${folder}/${manifest.image.file} has sha256 ${storedSha}, but its manifest says ` +
        `${manifest.image.compressedSha256}; not moving \`latest\` to an image that changed since it was deployed`,
    );
  }
  const image = await decompressImage(stored, manifest.image.compression);
  const imageSha = await sha256File(image);
  if (imageSha !== manifest.image.sha256) {
    throw new RepositoryError(
      `input \`rollback-to\`: the image in ${folder} unpacks to sha256 ${imageSha}, but its manifest says ` +
        `${manifest.image.sha256}; not moving \`latest\` to it`,
    );
  }
  core.info(`verified ${folder}/${manifest.image.file}: sha256 ${manifest.image.sha256} as in its manifest`);
}

/** Moves `<target>/latest` back to an existing, verified `<target>/<sha>/`. */
export async function writeRollback(access: GitAccess, settings: WriteSettings) {
  const { target, sha } = settings;
  const opened = await DeploymentRepository.open(access, settings.workDir, settings.author, settings.branch);
  const { repo } = opened;
  const latestOid = await repo.writeText(latestContent(sha));
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
      changes: plan.changes,
      message: commitMessage({
        subject: settings.subject ?? `rolling back ${target} to ${sha}`,
        repository: settings.sourceRepository,
        sha,
        runUrl: settings.runUrl,
        notes,
      }),
      notes,
      listing: [`write ${latestPath(target)} (${sha})`],
    };
  });
}
