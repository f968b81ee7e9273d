/**
 * An image the deployment repository holds, fetched for albatross: the one `<directory>/latest`
 * names (given back to the endpoints after a failed deploy), or a `rollback-to` commit's. Read with
 * the writer's own plumbing (`DeploymentRepository`, `listTarget`), verified against its manifest,
 * with its boot arguments from the manifest entry.
 */
import * as core from '@actions/core';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { fileDigest } from '../hash.js';
import { decompressImage } from '../deploy/compress.js';
import { parseManifest, type ImageEntry } from '../deploy/manifest.js';
import { deployFolder, MANIFEST_FILE, parseLatest } from '../deploy/plan.js';
import { NO_PROMPTS, type GitAccess } from '../deploy/credentials/plan.js';
import { DeploymentRepository } from '../deploy/repository/git.js';
import { identifyLatest, listTarget } from '../deploy/repository/plan.js';
import { OWNER_NAME } from '../patterns.js';

export interface StoredImage {
  readonly sha: string;
  /** The unpacked image, verified against its manifest. */
  readonly path: string;
  readonly name: string;
  readonly bootArgs: readonly string[];
  /** Where every file of the folder was checked out, and the image's manifest entry (a rebuild reads both). */
  readonly folder: string;
  readonly entry: ImageEntry;
}

/**
 * Read access without a secret, for `deploy-to: albatross` alone: anonymous HTTPS, which a public
 * repository allows. Undefined for an SSH URL, which needs `deploy-key`.
 */
export function anonymousAccess(config: Config): GitAccess | undefined {
  const { repository, serverUrl } = config.deploy;
  const url = OWNER_NAME.test(repository)
    ? `${serverUrl}/${repository}.git`
    : /^https?:\/\//.test(repository)
      ? repository
      : undefined;
  return url === undefined ? undefined : { url, display: repository, env: { ...NO_PROMPTS } };
}

/** Which image of a folder's manifest: the one named `name`, or its only one. */
function pickImage(images: Array<[string, ImageEntry]>, name?: string): [string, ImageEntry] | undefined {
  return images.find(([, e]) => e.name === name) ?? (images.length === 1 ? images[0] : undefined);
}

/**
 * The image of `<directory>/<sha>/` (`sha` absent: the one `latest` names), or undefined when
 * there is none. Throws when the folder's image does not match its manifest.
 */
export async function readStoredImage(
  access: GitAccess,
  config: Config,
  workDir: string,
  imageName: string | undefined,
  sha?: string,
): Promise<StoredImage | undefined> {
  const { deploy } = config;
  const author = { name: deploy.commitUserName, email: deploy.commitUserEmail };
  const { repo, tip } = await DeploymentRepository.open(access, workDir, author, deploy.repositoryBranch);
  if (tip === undefined) return undefined;
  const entries = await repo.listDirectory(tip, deploy.directory);
  const top = listTarget(entries, deploy.directory);
  let wanted = sha ?? identifyLatest(top);
  if (wanted === undefined && top.latestOid !== undefined) {
    await repo.fetchBlobs([top.latestOid]);
    wanted = parseLatest(await repo.readText(top.latestOid));
  }
  const tree = wanted === undefined ? undefined : top.trees?.get(wanted);
  if (wanted === undefined || tree === undefined) return undefined;
  // Only that folder's tree is fetched, as the writer does.
  const listed = await repo.listFolders(deploy.directory, new Map([[wanted, tree]]));
  const files = listTarget(listed, deploy.directory).folders.get(wanted);
  const manifestOid = files?.get(MANIFEST_FILE);
  if (files === undefined || manifestOid === undefined) return undefined;
  await repo.fetchBlobs([manifestOid]);
  const manifest = parseManifest(await repo.readText(manifestOid));
  const picked = pickImage(Object.entries(manifest?.images ?? {}), imageName);
  if (picked === undefined || !files.has(picked[0])) return undefined;
  const [file, entry] = picked;
  const folder = deployFolder(deploy.directory, wanted);
  const dest = join(workDir, 'stored');
  await repo.checkoutFolder(
    tip,
    [...files].map(([path, oid]) => ({ mode: '100644', type: 'blob', oid, path })),
    folder,
    dest,
  );
  const image = await decompressImage(join(dest, file), entry.compression);
  const digest = await fileDigest(image);
  if (digest !== entry.sha256) {
    throw new Error(
      `${folder}/${file} unpacks to sha256 ${digest}, but its manifest says ${entry.sha256}; not running it`,
    );
  }
  core.info(`${folder}/${file} verified (sha256 ${digest})`);
  return { sha: wanted, path: image, name: entry.name, bootArgs: entry.bootArgs, folder: dest, entry };
}
