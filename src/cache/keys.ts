/**
 * Every cache key of the action: the opam root (setup), the duniverse and dune's cache (build).
 * Pure: the phases gather the inputs, these functions cut the keys.
 */
import { createHash } from 'node:crypto';
import type { CacheRefresh, OpamPin, OpamRepository } from '../config.js';
import type { NamedFile } from '../mirage/plan.js';
import type { CacheHit } from '../types.js';

/** Everything that makes one opam root differ from another, in the order keys are cut from the end. */
export interface OpamKeyInputs {
  readonly prefix: string;
  readonly os: string;
  /** e.g. `ubuntu-24.04`, `debian-12`, `macos-14.5`. */
  readonly osRelease: string;
  readonly arch: string;
  readonly opamVersion: string;
  /** compilerKeyPart(): the `ocaml-compiler` input, or the system compiler's version. */
  readonly compiler: string;
  readonly repositories: readonly OpamRepository[];
  readonly pins: readonly OpamPin[];
  readonly mirageVersion: string;
  readonly target: string;
  /** dependencyHash() of the unikernel's dependency inputs. */
  readonly dependencies: string;
  /** refreshPeriod(): when it changes, the root is restored from the last period and refreshed. */
  readonly period: string;
}

/** What a cache is saved under and restored from. */
export interface CacheKeys {
  readonly key: string;
  /** Longest first; each ends with the separator so that it matches whole parts only. */
  readonly restoreKeys: readonly string[];
}

function shortHash(value: string, length = 12): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/** Cache keys may not hold commas, and readable parts keep them debuggable in the cache list. */
function clean(part: string): string {
  return part.replace(/[^A-Za-z0-9._+~-]/g, '_');
}

/**
 * The compiler as the key names it. `ocaml-system` is whatever OCaml the runner image has, so the
 * key holds its version: a switch built for another system compiler is never restored.
 */
export function compilerKeyPart(input: string, systemVersion: string | undefined): string {
  return systemVersion === undefined ? input : `system${systemVersion}`;
}

/** ISO 8601 week of a UTC date: `2026w01` is the week holding the year's first Thursday. */
function isoWeek(now: Date): string {
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}w${String(week).padStart(2, '0')}`;
}

/**
 * The `cache-refresh` period `now` falls in (UTC), as the last part of the opam key: `t20261130`,
 * `t2026w49`, `t202611`, `tnever`, `t` + a fixed label. It holds no `-`, so periodOfKey finds it.
 */
export function refreshPeriod(refresh: CacheRefresh, now: Date): string {
  const date = now.toISOString().slice(0, 10).replace(/-/g, '');
  switch (refresh.kind) {
    case 'daily':
      return `t${date}`;
    case 'weekly':
      return `t${isoWeek(now)}`;
    case 'monthly':
      return `t${date.slice(0, 6)}`;
    case 'never':
      return 'tnever';
    case 'fixed':
      return `t${refresh.label.replace(/[^A-Za-z0-9._]/g, '_')}`;
  }
}

/** The period part of an opam key (the one a restore matched), to tell whether it is this period's. */
export function periodOfKey(key: string): string {
  return key.slice(key.lastIndexOf('-') + 1);
}

/**
 * The period of the root a partial hit restored, when it is not this run's: the root then takes
 * the repositories' new state. undefined for an exact hit, a miss, or a partial hit of this period.
 */
export function stalePeriod(hit: CacheHit, matchedKey: string | undefined, period: string): string | undefined {
  if (hit !== 'partial' || matchedKey === undefined) return undefined;
  const restored = periodOfKey(matchedKey);
  return restored === period ? undefined : restored;
}

/** Whether the entry restored is this key's but for the period: the same root, of another period. */
export function otherPeriodOnly(key: string, matchedKey: string | undefined): boolean {
  if (matchedKey === undefined) return false;
  const rest = (k: string) => k.slice(0, k.lastIndexOf('-'));
  return rest(key) === rest(matchedKey) && key !== matchedKey;
}

/**
 * The opam root's key. Restore keys drop the period first (the same root of an earlier period,
 * which the setup then refreshes), then the dependency hash, the target, the mirage constraint and
 * the pins, never the repositories or the compiler: a restored root then always has the right
 * switch and repositories, and converging it is installing the difference.
 */
export function opamCacheKeys(k: OpamKeyInputs): CacheKeys {
  const parts = [
    clean(k.prefix),
    'opam',
    clean(k.os),
    clean(k.osRelease),
    clean(k.arch),
    `opam${clean(k.opamVersion)}`,
    `ocaml${clean(k.compiler)}`,
    `r${shortHash(k.repositories.map((r) => `${r.name}=${r.url}`).join('\n'))}`,
    `p${shortHash(k.pins.map((p) => `${p.name}=${p.url ?? ''}`).join('\n'))}`,
    `m${shortHash(k.mirageVersion.replace(/\s+/g, ''))}`,
    clean(k.target),
    `d${k.dependencies}`,
    k.period,
  ];
  const prefixOf = (count: number): string => `${parts.slice(0, count).join('-')}-`;
  return {
    key: parts.join('-'),
    restoreKeys: [prefixOf(12), prefixOf(11), prefixOf(10), prefixOf(9), prefixOf(8)],
  };
}

export interface DependencyFile {
  /** Relative to the working directory, with `/`. */
  readonly path: string;
  readonly content: string | Buffer;
}

/** Hash of config.ml, `*.opam` and `mirage/*.opam.locked`: what decides the unikernel's packages. */
export function dependencyHash(files: readonly DependencyFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const content = typeof file.content === 'string' ? Buffer.from(file.content) : file.content;
    hash.update(`${file.path}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex').slice(0, 16);
}

/** Which files of a working directory listing are dependency inputs (besides the config file). */
export function isDependencyInput(relativePath: string): boolean {
  return /^[^/]+\.opam$/.test(relativePath) || /^mirage\/[^/]+\.opam\.locked$/.test(relativePath);
}

/** `debian-12` from /etc/os-release; `linux-unknown` when it says nothing usable. */
export function linuxRelease(osRelease: string): string {
  const field = (name: string): string | undefined => {
    const match = new RegExp(`^${name}=(.*)$`, 'm').exec(osRelease);
    return match?.[1]?.trim().replace(/^["']|["']$/g, '') || undefined;
  };
  return `${field('ID') ?? 'linux'}-${field('VERSION_ID') ?? field('BUILD_ID') ?? 'unknown'}`;
}

/** A digest of the lock files, in name order so that listing order does not change it. */
export function lockFilesDigest(files: readonly NamedFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    hash.update(`${file.name}\0${file.content}\0`);
  }
  return hash.digest('hex');
}

/**
 * The duniverse is exactly what the lock files name, so only an exact match is worth restoring: a
 * different duniverse would be pulled again anyway.
 */
export function duniverseCacheKeys(prefix: string, runnerOs: string, target: string, lockDigest: string): CacheKeys {
  return { key: `${prefix}-duniverse-${runnerOs}-${target}-${lockDigest}`, restoreKeys: [] };
}

/**
 * dune's cache is content-addressed, so an older one still saves most of the work: fall back to
 * the same target's newest, then any target's, always of the same folder. The folder is in the key
 * because a C compiler records the folder it compiled in (`DW_AT_comp_dir` of a stub built with
 * `-g`), which no environment variable maps and dune's cache does not key on; the dune-workspace
 * map (mirage/plan.ts withCFolderMap) misses stubs whose flags leave out `:standard`, and
 * workspaces with an `env` stanza of their own: an entry of another folder would give an image
 * naming that folder.
 */
export function duneCacheKeys(
  prefix: string,
  runnerOs: string,
  runnerArch: string,
  target: string,
  lockDigest: string,
  folder: string,
): CacheKeys {
  const base = `${prefix}-dune-${runnerOs}-${runnerArch}-f${shortHash(folder)}`;
  return { key: `${base}-${target}-${lockDigest}`, restoreKeys: [`${base}-${target}-`, `${base}-`] };
}
