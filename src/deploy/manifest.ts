/**
 * `manifest.json`, one per deploy folder: the source commit, and for each image deployed from it
 * what it is, what it boots with and what built it. The writer reads it back to order builds
 * (`latest`, `keep`), to recognise a re-run of the same build, to keep the other images of the
 * folder when one is (re)deployed, to write SHA256SUMS, and to verify images before a rollback.
 *
 * Schema 2 holds an `images` map keyed by the stored image's file name; schema 1 (one image) is
 * read as a folder of that one image.
 */
import type { Compression } from '../config.js';
import { COMPRESSIONS } from '../config.js';
import { SHA256_HEX } from '../patterns.js';

export const MANIFEST_SCHEMA = 2;

export interface ManifestSource {
  /** `owner/name` of the source repository. */
  readonly repository: string;
  readonly sha: string;
  readonly ref: string;
  /** The source commit's time in UTC, when it was known; what orders builds. */
  readonly commitTime?: string;
}

/** One image of a deploy folder, keyed in `images` by its stored (compressed) file name. */
export interface ImageEntry {
  /** The name the image is deployed under (`deploy-image-name`, else the built name). */
  readonly name: string;
  /** The unikernel's own name, as built. */
  readonly builtName: string;
  readonly target: string;
  /** Of the unpacked image. */
  readonly sha256: string;
  readonly size: number;
  readonly compression: Compression;
  readonly compressedSha256: string;
  readonly compressedSize: number;
  readonly bootArgs: readonly string[];
  /** The config file's name among `files`. */
  readonly configFile: string;
  /**
   * The image's other files in the folder, name → sha256: config file, side files, `.args`. A
   * schema 1 manifest did not record their hashes: those read back as ''.
   */
  readonly files: Readonly<Record<string, string>>;
  /** What went into the image: its SBOM files, among `files`, and the lock file's number of packages. */
  readonly sbom?: ManifestSbom;
  readonly run: { readonly url: string };
  readonly versions: { readonly ocaml: string; readonly opam: string; readonly mirage: string };
  /** UTC time of the build. */
  readonly builtAt: string;
}

export interface ManifestSbom {
  /** `<image>.opam.locked`: the unikernel's opam-monorepo lock file. */
  readonly lockFile: string;
  /** `<image>.switch-export`: `opam switch export` of the build switch. */
  readonly switchExport: string;
  /** `<image>.cdx.json`: the CycloneDX 1.6 SBOM. */
  readonly cyclonedx: string;
  readonly packages: number;
}

export interface Manifest {
  readonly schema: number;
  readonly source: ManifestSource;
  readonly images: Readonly<Record<string, ImageEntry>>;
}

/** Pretty, keys of `images` sorted, a final newline: diffs of the deployment repository read well. */
export function serializeManifest(manifest: Manifest): string {
  const images = Object.fromEntries(Object.entries(manifest.images).sort(([a], [b]) => (a < b ? -1 : 1)));
  return `${JSON.stringify({ ...manifest, images }, null, 2)}\n`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): value is string {
  return typeof value === 'string';
}

function readSource(source: unknown): ManifestSource | undefined {
  if (!isRecord(source) || !str(source.repository) || !str(source.sha) || !str(source.ref)) return undefined;
  if (source.commitTime !== undefined && !str(source.commitTime)) return undefined;
  return source as unknown as ManifestSource;
}

function imageFieldsOk(image: Record<string, unknown>): boolean {
  return (
    str(image.name) &&
    str(image.sha256) &&
    SHA256_HEX.test(image.sha256) &&
    typeof image.size === 'number' &&
    str(image.compressedSha256) &&
    SHA256_HEX.test(image.compressedSha256) &&
    typeof image.compressedSize === 'number' &&
    (COMPRESSIONS as readonly unknown[]).includes(image.compression)
  );
}

function versionsOk(versions: unknown): boolean {
  return isRecord(versions) && str(versions.ocaml) && str(versions.opam) && str(versions.mirage);
}

function sbomOk(sbom: unknown, files: readonly string[]): boolean {
  if (!isRecord(sbom) || typeof sbom.packages !== 'number') return false;
  return [sbom.lockFile, sbom.switchExport, sbom.cyclonedx].every((f) => str(f) && files.includes(f));
}

function readEntry(value: unknown): ImageEntry | undefined {
  if (!isRecord(value) || !imageFieldsOk(value)) return undefined;
  if (!str(value.builtName) || !str(value.target) || !str(value.configFile) || !str(value.builtAt)) return undefined;
  if (!Array.isArray(value.bootArgs) || !value.bootArgs.every(str)) return undefined;
  const { files, run } = value;
  if (!isRecord(files) || !Object.values(files).every((h) => str(h) && SHA256_HEX.test(h))) return undefined;
  if (!isRecord(run) || !str(run.url) || !versionsOk(value.versions)) return undefined;
  if (value.sbom !== undefined && !sbomOk(value.sbom, Object.keys(files))) return undefined;
  return value as unknown as ImageEntry;
}

/** A schema 1 manifest, as the one-image folder it describes. */
function readSchema1(value: Record<string, unknown>, source: ManifestSource): Manifest | undefined {
  const { run, image, files, versions } = value;
  if (!isRecord(run) || !str(run.url) || !str(value.target) || !str(value.builtAt)) return undefined;
  if (!isRecord(image) || !str(image.file) || !imageFieldsOk(image)) return undefined;
  if (!Array.isArray(files) || !files.every(str) || !versionsOk(versions)) return undefined;
  const entry: ImageEntry = {
    name: image.name as string,
    builtName: image.name as string,
    target: value.target,
    sha256: image.sha256 as string,
    size: image.size as number,
    compression: image.compression as Compression,
    compressedSha256: image.compressedSha256 as string,
    compressedSize: image.compressedSize as number,
    bootArgs: [],
    // schema 1 wrote the config file first, then the side files
    configFile: files[0] ?? '',
    files: Object.fromEntries(files.map((name) => [name, ''])),
    run: { url: run.url },
    versions: versions as unknown as ImageEntry['versions'],
    builtAt: value.builtAt,
  };
  return { schema: MANIFEST_SCHEMA, source, images: { [image.file]: entry } };
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
  if (!isRecord(value)) return undefined;
  const source = readSource(value.source);
  if (source === undefined) return undefined;
  if (value.schema === 1) return readSchema1(value, source);
  if (value.schema !== MANIFEST_SCHEMA || !isRecord(value.images)) return undefined;
  const images: Record<string, ImageEntry> = {};
  for (const [file, raw] of Object.entries(value.images)) {
    const entry = readEntry(raw);
    if (entry === undefined) return undefined;
    images[file] = entry;
  }
  return { schema: MANIFEST_SCHEMA, source, images };
}

/** How far a commit time may lie ahead of this runner's clock: a committer's clock can be a little fast. */
export const CLOCK_SKEW_MS = 60 * 60 * 1000;

/**
 * The time that orders this folder among others: its source commit time. Never a build time (a
 * build of an old commit can finish last), and not a commit time in the future: the deployment
 * repository is anyone's to write, and a manifest claiming 2099 would pin `latest` and steer `keep`.
 */
export function manifestTime(manifest: Manifest | undefined, now: number = Date.now()): string | undefined {
  const time = manifest?.source.commitTime;
  if (time === undefined) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) || ms > now + CLOCK_SKEW_MS ? undefined : time;
}

/** Every file name an image owns in its folder: the image itself and its other files. */
export function ownedFiles(file: string, entry: ImageEntry): string[] {
  return [file, ...Object.keys(entry.files)];
}
