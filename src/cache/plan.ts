/** The cache's pure decisions: whether a restore hit, and which registered caches the post step saves. */
import type { CacheHit } from '../types.js';

/**
 * What the post step deletes before saving, to keep the entry small (what `opam clean` would):
 * deleted by the action itself, since no program from a folder the build wrote runs outside its sandbox.
 */
export interface CleanupCommand {
  /** Paths inside the cache's own paths. */
  readonly remove: readonly string[];
}

/** What main hands the post step for one cache (JSON in STATE.cachesToSave). */
export interface CacheToSave {
  readonly name: string;
  readonly paths: readonly string[];
  readonly key: string;
  readonly hit: CacheHit;
  readonly cleanup?: CleanupCommand;
}

export interface SavePlan {
  readonly save: readonly CacheToSave[];
  readonly skip: ReadonlyArray<{ readonly cache: CacheToSave; readonly reason: string }>;
}

/** How a restore went: `matchedKey` is what @actions/cache returned (undefined when nothing matched). */
export function classifyHit(key: string, matchedKey: string | undefined): CacheHit {
  if (matchedKey === undefined || matchedKey === '') return 'miss';
  return matchedKey === key ? 'exact' : 'partial';
}

/**
 * Which caches the post step saves. A failed main step may have left a half-installed switch or
 * a broken duniverse, which must never become the entry the next run restores; an exact hit
 * already has an entry under this key, and cache entries are immutable.
 */
export function planSaves(caches: readonly CacheToSave[], mainSucceeded: boolean): SavePlan {
  const save: CacheToSave[] = [];
  const skip: Array<{ cache: CacheToSave; reason: string }> = [];
  const seen = new Set<string>();
  for (const cache of caches) {
    if (seen.has(cache.key)) {
      skip.push({ cache, reason: `another cache of this run is saved under the same key ${cache.key}` });
    } else if (!mainSucceeded) {
      skip.push({ cache, reason: 'the main step did not succeed, so what it left is not cached' });
    } else if (cache.hit === 'exact') {
      skip.push({ cache, reason: `restored from its exact key ${cache.key}, so there is nothing new to save` });
    } else {
      save.push(cache);
    }
    seen.add(cache.key);
  }
  return { save, skip };
}
