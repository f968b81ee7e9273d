/**
 * The build's caches, through the shared helper in src/cache/: `duniverse/` (the sources `make
 * pull` fetches, keyed by the lock files) and dune's shared cache, restored after `make lock`,
 * the first moment the key is known, and saved by the post step. The lock files themselves ride
 * in the opam root's entry (same key), kept in a file of the root.
 */
import * as core from '@actions/core';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerCacheSave, restoreCache, type CacheSpec } from '../cache/index.js';
import { summaryRow } from '../summary.js';
import type { Config } from '../config.js';
import type { RunContext } from '../context.js';
import type { CacheHit } from '../types.js';
import { duneCacheKeys, duniverseCacheKeys } from '../cache/keys.js';
import type { StoredLock } from './plan.js';

function lockStorePath(opamRoot: string): string {
  return join(opamRoot, 'mirage-deploy', 'lock.json');
}

/** The lock the opam root was saved with; undefined when it has none (or one this code cannot read). */
export function readStoredLock(opamRoot: string): StoredLock | undefined {
  try {
    const stored = JSON.parse(readFileSync(lockStorePath(opamRoot), 'utf8')) as Partial<StoredLock>;
    const files = Array.isArray(stored.files) ? stored.files : [];
    const valid = files.every((f) => typeof f.name === 'string' && /^[^/]+\.opam\.locked$/.test(f.name));
    return typeof stored.inputs === 'string' && valid ? { inputs: stored.inputs, files } : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps this run's lock in the opam root, which the post step saves (unless the root was an exact hit). */
export function storeLock(opamRoot: string, lock: StoredLock): void {
  mkdirSync(join(opamRoot, 'mirage-deploy'), { recursive: true });
  writeFileSync(lockStorePath(opamRoot), JSON.stringify(lock));
}

/** Large enough for a unikernel's dependencies, small enough to restore in seconds. */
export const DUNE_CACHE_LIMIT = '1GB';

interface Restored {
  readonly spec: CacheSpec;
  readonly hit: CacheHit;
}

export interface BuildCaches {
  readonly duniverse?: Restored;
  readonly dune?: Restored;
  /** duniverse/ holds exactly what the lock files name, so `make pull` has nothing to do. */
  readonly duniverseRestored: boolean;
}

export async function restoreBuildCaches(
  config: Config,
  ctx: RunContext,
  dir: string,
  duneRoot: string,
  lockDigest: string | undefined,
): Promise<BuildCaches> {
  if (!config.setup.cache) return { duniverseRestored: false };
  const { cachePrefix } = config.setup;
  const { target } = config.build;
  let duniverse: Restored | undefined;
  if (lockDigest === undefined) {
    core.info('cache duniverse: `make lock` wrote no mirage/*.opam.locked, so there is no key: not cached');
  } else {
    const spec = {
      name: 'duniverse',
      paths: [join(dir, 'duniverse')],
      ...duniverseCacheKeys(cachePrefix, ctx.runnerOs, target, lockDigest),
    };
    duniverse = { spec, hit: await restoreCache(spec) };
  }
  const duneSpec = {
    name: 'dune',
    paths: [duneRoot],
    ...duneCacheKeys(cachePrefix, ctx.runnerOs, ctx.runnerArch, target, lockDigest ?? 'unlocked', dir),
  };
  const dune = { spec: duneSpec, hit: await restoreCache(duneSpec) };
  return {
    ...(duniverse ? { duniverse } : {}),
    dune,
    duniverseRestored: duniverse?.hit === 'exact' && existsSync(join(dir, 'duniverse')),
  };
}

/**
 * Registers for the post step the caches this build filled; a folder the build never made (dune's
 * cache, when the build command does not run dune) is skipped. dune's cache was trimmed already,
 * in the sandbox: nothing the build installed runs in the post step.
 */
export function saveBuildCachesLater(caches: BuildCaches): void {
  for (const restored of [caches.duniverse, caches.dune]) {
    if (restored === undefined) continue;
    const { spec, hit } = restored;
    // The sandbox makes dune's cache folder before the build: an empty one is a cache never filled.
    if (!spec.paths.every((p) => existsSync(p) && readdirSync(p).length > 0)) {
      core.info(`cache ${spec.name}: ${spec.paths.join(', ')} does not exist or is empty: nothing to save`);
      const why =
        spec.name === 'dune' ? 'no dune cache (dune did not run, or ran without its cache)' : 'no such folder';
      summaryRow(`cache ${spec.name}`, `nothing to save: the build made ${why}`);
    } else {
      registerCacheSave(spec, hit);
    }
  }
}
