/**
 * The build's two caches, through the shared helper in src/cache/: `duniverse/` (the sources
 * `make pull` fetches, keyed by the lock files) and dune's shared cache. Restored after `make
 * lock`, the first moment the key is known; saved by the post step.
 */
import * as core from '@actions/core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findProgram } from '../exec.js';
import { registerCacheSave, restoreCache, type CacheSpec } from '../cache/index.js';
import type { Config } from '../config.js';
import type { RunContext } from '../context.js';
import type { CacheHit } from '../types.js';
import { duneCacheKeys, duniverseCacheKeys } from './plan.js';

/** Large enough for a unikernel's dependencies, small enough to restore in seconds. */
const DUNE_CACHE_LIMIT = '1GB';

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
    ...duneCacheKeys(cachePrefix, ctx.runnerOs, ctx.runnerArch, target, lockDigest ?? 'unlocked'),
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
 * cache, when the build command does not run dune) is skipped. dune's cache only grows, so it is
 * trimmed first.
 */
export function saveBuildCachesLater(caches: BuildCaches, env: Readonly<Record<string, string>>): void {
  for (const restored of [caches.duniverse, caches.dune]) {
    if (restored === undefined) continue;
    const { spec, hit } = restored;
    if (!spec.paths.every((p) => existsSync(p))) {
      core.info(`cache ${spec.name}: ${spec.paths.join(', ')} does not exist: nothing to save`);
    } else if (spec.name === 'dune' && findProgram('dune', env) !== undefined) {
      registerCacheSave(spec, hit, {
        cleanup: {
          program: 'dune',
          args: ['cache', 'trim', `--size=${DUNE_CACHE_LIMIT}`],
          env: { PATH: env.PATH ?? '', DUNE_CACHE_ROOT: env.DUNE_CACHE_ROOT ?? '' },
        },
      });
    } else {
      registerCacheSave(spec, hit);
    }
  }
}
