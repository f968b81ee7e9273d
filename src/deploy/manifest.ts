/**
 * `manifest.json`, written beside every deployed image: where it came from, what it is, and what
 * built it. The writer reads it back to order builds (`latest`, `keep`), to recognise a re-run of
 * the same build, and to verify an image before a rollback.
 */
import type { Compression } from '../config.js';
import { COMPRESSIONS } from '../config.js';

export const MANIFEST_SCHEMA = 1;

export interface Manifest {
  readonly schema: number;
  readonly source: {
    /** `owner/name` of the source repository. */
    readonly repository: string;
    readonly sha: string;
    readonly ref: string;
    /** The source commit's time in UTC, when it was known; what orders builds. */
    readonly commitTime?: string;
  };
  readonly run: { readonly url: string };
  readonly target: string;
  readonly image: {
    readonly name: string;
    /** File name in the deploy folder (compressed). */
    readonly file: string;
    readonly sha256: string;
    readonly size: number;
    readonly compression: Compression;
    readonly compressedSha256: string;
    readonly compressedSize: number;
  };
  /** Other files of the deploy folder: the config file and the target's side files. */
  readonly files: readonly string[];
  readonly versions: { readonly ocaml: string; readonly opam: string; readonly mirage: string };
  /** UTC time of the build. */
  readonly builtAt: string;
}

/** Pretty and with a final newline, so that diffs of the deployment repository read well. */
export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

const HEX64 = /^[0-9a-f]{64}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): value is string {
  return typeof value === 'string';
}

/**
 * Reads a manifest written by this action; undefined for anything else (a 2013 deploy folder has
 * none, and a hand-edited one may not parse), which callers treat as "time unknown".
 */
export function parseManifest(text: string): Manifest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || value.schema !== MANIFEST_SCHEMA) return undefined;
  const { source, run, image, versions } = value;
  if (!isRecord(source) || !str(source.repository) || !str(source.sha) || !str(source.ref)) return undefined;
  if (source.commitTime !== undefined && !str(source.commitTime)) return undefined;
  if (!isRecord(run) || !str(run.url) || !str(value.target) || !str(value.builtAt)) return undefined;
  if (!isRecord(image) || !str(image.name) || !str(image.file)) return undefined;
  if (!str(image.sha256) || !HEX64.test(image.sha256) || typeof image.size !== 'number') return undefined;
  if (!str(image.compressedSha256) || !HEX64.test(image.compressedSha256)) return undefined;
  if (typeof image.compressedSize !== 'number') return undefined;
  if (!(COMPRESSIONS as readonly unknown[]).includes(image.compression)) return undefined;
  if (!Array.isArray(value.files) || !value.files.every(str)) return undefined;
  if (!isRecord(versions) || !str(versions.ocaml) || !str(versions.opam) || !str(versions.mirage)) return undefined;
  return value as unknown as Manifest;
}

/** How far a commit time may lie ahead of this runner's clock: a committer's clock can be a little fast. */
export const CLOCK_SKEW_MS = 60 * 60 * 1000;

/**
 * The time that orders this build among others: its source commit time. Never its build time (a
 * build of an old commit can finish last), and not a commit time in the future: the deployment
 * repository is anyone's to write, and a manifest claiming 2099 would pin `latest` and steer `keep`.
 */
export function manifestTime(manifest: Manifest | undefined, now: number = Date.now()): string | undefined {
  const time = manifest?.source.commitTime;
  if (time === undefined) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) || ms > now + CLOCK_SKEW_MS ? undefined : time;
}
