/**
 * What changed since `latest`, read from the deployment repository for the plan (`diffWithLatest`):
 * the manifest of the folder `latest` names (already read) and the lock file of the same image
 * there, fetched by blob id like the manifest. No earlier image is ever downloaded.
 */
import * as core from '@actions/core';
import { lockedVersions, type DeployedState } from '../../sbom/diff.js';
import { parseLockFile } from '../../sbom/lock.js';
import type { ImageEntry, Manifest } from '../manifest.js';
import type { DeploymentRepository } from './git.js';
import type { LatestImage } from './plan.js';

/** What the diff reads of one image's manifest entry. */
export type ImageRecord = Pick<ImageEntry, 'name' | 'size' | 'versions' | 'sbom'>;

async function deployedState(
  repo: DeploymentRepository,
  folder: ReadonlyMap<string, string> | undefined,
  image: ImageRecord,
): Promise<DeployedState> {
  const state = { size: image.size, ocaml: image.versions.ocaml, mirage: image.versions.mirage };
  const lockFile = image.sbom?.lockFile;
  const lockOid = lockFile === undefined ? undefined : folder?.get(lockFile);
  if (lockOid === undefined) return state;
  await repo.fetchBlobs([lockOid]);
  try {
    return { ...state, packages: lockedVersions(parseLockFile(await repo.readText(lockOid)).packages) };
  } catch (error) {
    core.warning(
      `the deployed lock file ${lockFile} cannot be read (${(error as Error).message}); packages not compared`,
    );
    return state;
  }
}

/**
 * Reads the image of the same deployed name in the folder `latestSha` names, for the plan's diff.
 * `latest` is that folder's manifest (undefined when unreadable) and `folder` its files' blob ids.
 * A folder whose manifest has no image of that name makes this the image's first deploy.
 */
export async function readLatestImage(
  repo: DeploymentRepository,
  latestSha: string | undefined,
  folder: ReadonlyMap<string, string> | undefined,
  latest: Manifest | undefined,
  name: string,
): Promise<LatestImage> {
  const previous = latest && Object.values(latest.images).find((entry) => entry.name === name);
  const against = latest !== undefined && previous === undefined ? undefined : latestSha;
  if (against === undefined) return {};
  if (previous === undefined) return { against };
  return { against, before: await deployedState(repo, folder, previous) };
}
