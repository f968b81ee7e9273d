/**
 * The action's caches (opam root, duniverse, dune cache) over the real @actions/cache.
 *
 *   const spec = { name: 'duniverse', paths: [absoluteDir], key, restoreKeys: [longer, shorter] };
 *   const hit = await restoreCache(spec);            // 'exact' | 'partial' | 'miss'
 *   registerCacheSave(spec, hit, { cleanup });       // the post step saves it (saveCachesTask)
 *
 * - Restore keys are prefixes tried in order when `key` has no entry; end each with the separator
 *   so that `…-5.4` does not match `…-5.4.1`.
 * - `paths` must be identical at restore and save (they are part of the entry's version): use
 *   absolute, stable paths.
 * - The post step saves only when the main step succeeded and the hit was not exact, deleting the
 *   optional cleanup's paths first (opam's download cache and logs) so that the entry stays small.
 * - A cache service that is absent or down never fails the job: the first problem gives one
 *   warning, later restores in the run skip quietly, and nothing is registered for saving.
 */
import * as cache from '@actions/cache';
import * as core from '@actions/core';
import {
  CACHE_ANSWER_DEADLINE_MS,
  CACHE_DEADLINE_MS,
  deadline,
  seconds,
  TIMED_OUT,
  withDeadline,
} from '../deadlines.js';
import { rm } from 'node:fs/promises';
import { timedGroup } from '../log.js';
import type { PostTask } from '../post-step.js';
import { STATE, appendJsonState, readJsonState } from '../state.js';
import { summaryRow, type SummaryPart } from '../summary.js';
import type { CacheHit } from '../types.js';
import type { CacheKeys } from './keys.js';
import { captureRestoreFailures } from './client-report.js';
import { classifyHit, planSaves, type CacheToSave, type CleanupCommand } from './plan.js';

export type { CacheToSave, CleanupCommand } from './plan.js';

/** A cache: its keys (src/cache/keys.ts) and what it holds. */
export interface CacheSpec extends CacheKeys {
  /** Short name for logs: `opam`, `duniverse`, `dune`. */
  readonly name: string;
  readonly paths: readonly string[];
}

let unavailable: string | undefined;

function markUnavailable(reason: string): void {
  unavailable = reason;
  core.warning(
    `cache: ${reason}; this run goes on without a cache and saves none ` +
      '(set input `cache: false` to run without one on purpose)',
  );
}

function restoredParts(hit: CacheHit, key: string, matched: string | undefined): SummaryPart[] {
  switch (hit) {
    case 'exact':
      return ['restored (exact): ', { code: key }];
    case 'partial':
      return ['restored (partial, the post step saves the new key): ', { code: matched ?? '' }];
    case 'miss':
      return ['not found (miss): ', { code: key }];
  }
}

export interface Restored {
  readonly hit: CacheHit;
  /** The key of the entry restored: `spec.key` on an exact hit, an older one on a partial hit. */
  readonly matchedKey?: string;
}

/**
 * Restores the newest entry matching the key or a restore key into `paths`, in a log group of its
 * own, so that the cache client's lines (download, size, tar) stay inside it.
 */
export async function restoreCache(spec: CacheSpec): Promise<CacheHit> {
  return (await timedGroup(`Restore the ${spec.name} cache`, () => restoreCacheEntry(spec))).hit;
}

/** restoreCache without a group of its own, for a caller that restores inside its own group. */
export async function restoreCacheEntry(spec: CacheSpec): Promise<Restored> {
  if (unavailable !== undefined) {
    core.info(`cache ${spec.name}: not restored: ${unavailable}`);
    summaryRow(`cache ${spec.name}`, 'not restored: the cache service is unavailable');
    return { hit: 'miss' };
  }
  if (!cache.isFeatureAvailable()) {
    markUnavailable(
      'the Actions cache service is not available to this job (the runner set neither ACTIONS_RESULTS_URL ' +
        'nor ACTIONS_CACHE_URL, as on a GitHub Enterprise Server without Actions cache or a local runner)',
    );
    summaryRow(`cache ${spec.name}`, 'not restored: no cache service for this job');
    return { hit: 'miss' };
  }
  core.info(`cache ${spec.name}: looking for ${spec.key}`);
  // A lookup first, with a deadline of seconds: a service that accepts and never answers costs
  // that, not the long deadline a real download may need.
  const answer = deadline(CACHE_ANSWER_DEADLINE_MS);
  const lookup = await captureRestoreFailures(() =>
    withDeadline(cache.restoreCache([...spec.paths], spec.key, [...spec.restoreKeys], { lookupOnly: true }), answer),
  );
  if (lookup.value === TIMED_OUT) {
    markUnavailable(`the cache service did not answer a lookup within ${seconds(answer)} s`);
    summaryRow(`cache ${spec.name}`, 'not restored: the cache service did not answer');
    return { hit: 'miss' };
  }
  const limit = deadline(CACHE_DEADLINE_MS);
  const { value, failures } =
    lookup.failures.length > 0 || lookup.value === undefined
      ? lookup
      : await captureRestoreFailures(() =>
          withDeadline(cache.restoreCache([...spec.paths], spec.key, [...spec.restoreKeys]), limit),
        );
  if (value === TIMED_OUT) {
    markUnavailable(`the cache service did not finish restoring within ${seconds(limit)} s`);
    return { hit: 'miss' };
  }
  if (failures.length > 0) {
    const first = (failures[0] ?? '').split('\n')[0];
    markUnavailable(`the cache service did not answer (${first})`);
    summaryRow(`cache ${spec.name}`, 'not restored: the cache service did not answer');
    return { hit: 'miss' };
  }
  const hit = classifyHit(spec.key, value);
  core.info(`cache ${spec.name}: ${hit}${hit === 'partial' ? ` (restored ${value})` : ''}`);
  summaryRow(`cache ${spec.name}`, ...restoredParts(hit, spec.key, value));
  return hit === 'miss' || value === undefined ? { hit } : { hit, matchedKey: value };
}

/** Hands the cache to the post step, which saves it if the run earns it (see planSaves). */
export function registerCacheSave(spec: CacheSpec, hit: CacheHit, options: { cleanup?: CleanupCommand } = {}): void {
  if (unavailable !== undefined) return;
  const entry: CacheToSave = {
    name: spec.name,
    paths: [...spec.paths],
    key: spec.key,
    hit,
    ...(options.cleanup ? { cleanup: options.cleanup } : {}),
  };
  appendJsonState(STATE.cachesToSave, entry);
}

async function cleanUp(entry: CacheToSave, cleanup: CleanupCommand): Promise<void> {
  // A cleanup only makes the entry smaller: whatever goes wrong with it, the cache is still saved.
  for (const path of cleanup.remove.filter((p) => entry.paths.some((root) => p.startsWith(`${root}/`)))) {
    try {
      await rm(path, { recursive: true, force: true });
      core.info(`cache ${entry.name}: removed ${path} before saving`);
    } catch (error) {
      core.info(`cache ${entry.name}: could not remove ${path} before saving (${String(error)}); saving as it is`);
    }
  }
}

async function saveOne(entry: CacheToSave): Promise<void> {
  if (entry.cleanup) await cleanUp(entry, entry.cleanup);
  core.info(`cache ${entry.name}: saving ${entry.key}`);
  // A lookup first, as for a restore: a service that stopped answering costs seconds.
  const answer = deadline(CACHE_ANSWER_DEADLINE_MS);
  const probe = withDeadline(cache.restoreCache([...entry.paths], entry.key, [], { lookupOnly: true }), answer);
  if ((await captureRestoreFailures(() => probe)).value === TIMED_OUT) {
    throw new Error(`the cache service did not answer a lookup within ${seconds(answer)} s`);
  }
  // The client reports its own failures as one warning and returns -1; it never throws for the service.
  const limit = deadline(CACHE_DEADLINE_MS);
  const id = await withDeadline(cache.saveCache([...entry.paths], entry.key), limit);
  if (id === TIMED_OUT) throw new Error(`the cache service did not answer within ${seconds(limit)} s`);
  if (id === -1) {
    summaryRow(`cache ${entry.name}`, 'not saved: the cache client gave up (its warning in the log says why)');
  } else {
    core.info(`cache ${entry.name}: saved`);
    summaryRow(`cache ${entry.name}`, 'saved: ', { code: entry.key });
  }
}

/** The post step's cache work. */
export const saveCachesTask: PostTask = {
  name: 'save caches',
  async run() {
    const entries = readJsonState<CacheToSave[]>(STATE.cachesToSave, []);
    if (entries.length === 0) return;
    const plan = planSaves(entries, core.getState(STATE.mainSucceeded) === 'true');
    core.startGroup('Save caches');
    try {
      for (const { cache: skipped, reason } of plan.skip) {
        core.info(`cache ${skipped.name}: not saved: ${reason}`);
        summaryRow(`cache ${skipped.name}`, `not saved: ${reason}`);
      }
      for (const [i, entry] of plan.save.entries()) {
        try {
          await saveOne(entry);
        } catch (error) {
          // One warning for the outage; the other caches would only wait as long again.
          const unsaved = plan.save.slice(i).map((e) => e.name);
          core.warning(`cache: ${(error as Error).message}; not saved: ${unsaved.join(', ')}`);
          for (const name of unsaved)
            summaryRow(`cache ${name}`, 'not saved: the cache service did not answer in time');
          break;
        }
      }
    } finally {
      core.endGroup();
    }
  },
};
