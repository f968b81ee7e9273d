/**
 * The albatross deploy as main runs it: the unikernel's name, the image, the previous image read
 * from the deployment repository only when an endpoint fails, and `rollback-to`.
 */
import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AlbatrossConfig, Config } from '../config.js';
import type { RunContext } from '../context.js';
import { openGitAccess } from '../deploy/credentials/access.js';
import type { Cleared } from '../deploy/credentials/plan.js';
import { CREDENTIAL_FOLDERS } from '../deploy/credentials/plan.js';
import { appendJsonState } from '../state.js';
import { checkAlbatross, deployToAlbatross } from './index.js';
import type { AlbatrossCleared } from './preflight.js';
import { anonymousAccess, readStoredImage, type StoredImage } from './previous.js';

interface Reader {
  read(sha?: string): Promise<StoredImage | undefined>;
  close(): Promise<void>;
}

/**
 * Reads images from the deployment repository, with the deploy secret when there is one, else
 * anonymously (a public repository); in a folder of RUNNER_TEMP the post step removes too.
 */
function storedImages(config: Config, ctx: RunContext, cleared: Cleared | undefined, name: string): Reader {
  const dirs: string[] = [];
  return {
    async read(sha) {
      const access = cleared === undefined ? anonymousAccess(config) : await openGitAccess(cleared, ctx);
      if (access === undefined) return undefined;
      const dir = join(resolve(ctx.runnerTemp), `${CREDENTIAL_FOLDERS.prefix}${randomUUID()}`);
      appendJsonState(CREDENTIAL_FOLDERS.state, dir);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      dirs.push(dir);
      return readStoredImage(access, config, dir, name, sha);
    },
    async close() {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/** The unikernel's name on the hosts: `albatross-name`, else the deployed image's name. */
export function unikernelName(config: Config, albatross: AlbatrossConfig, imageName: string): string {
  return albatross.name ?? config.deploy.imageName ?? imageName;
}

/** After the build: the image on every endpoint, or the step fails with every endpoint as it was. */
export async function runAlbatross(
  config: Config,
  albatross: AlbatrossConfig,
  ctx: RunContext,
  image: { readonly name: string; readonly path: string },
  cleared: { readonly albatross: AlbatrossCleared; readonly repository?: Cleared },
): Promise<void> {
  const name = unikernelName(config, albatross, image.name);
  const request = { name, image: image.path, bootArgs: config.deploy.bootArgs };
  if (config.deploy.dryRun) return checkAlbatross(albatross, ctx, cleared.albatross, request);
  const stored = storedImages(config, ctx, cleared.repository, name);
  try {
    await deployToAlbatross(albatross, ctx, cleared.albatross, request, () => readPrevious(stored));
  } finally {
    await stored.close();
  }
}

async function readPrevious(stored: Reader): Promise<StoredImage | undefined> {
  try {
    return await stored.read();
  } catch (error) {
    core.warning(`albatross: the previous image could not be read: ${(error as Error).message}`);
    return undefined;
  }
}

/** `rollback-to` with albatross: that commit's image, verified, created on every endpoint. */
export async function rollbackAlbatross(
  config: Config,
  albatross: AlbatrossConfig,
  ctx: RunContext,
  sha: string,
  cleared: { readonly albatross: AlbatrossCleared; readonly repository?: Cleared },
): Promise<void> {
  const name = albatross.name ?? config.deploy.imageName;
  const stored = storedImages(config, ctx, cleared.repository, name ?? '');
  try {
    const image = await stored.read(sha);
    if (image === undefined) {
      throw new Error(
        `input \`rollback-to\`: the deployment repository has no image of ${sha} in \`${config.deploy.directory}\` to give the endpoints` +
          (cleared.repository === undefined
            ? ' (read anonymously: a private repository needs `deploy-key` or `deploy-token`)'
            : ''),
      );
    }
    const request = { name: name ?? image.name, image: image.path, bootArgs: image.bootArgs };
    if (config.deploy.dryRun) return await checkAlbatross(albatross, ctx, cleared.albatross, request);
    await deployToAlbatross(albatross, ctx, cleared.albatross, request, () => readPrevious(stored));
  } finally {
    await stored.close();
  }
}
