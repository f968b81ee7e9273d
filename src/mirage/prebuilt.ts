/**
 * The hand-over between a job that builds and a job that deploys (the two-job pattern: only the
 * deploy job, which builds nothing, holds the secret). After a build, `dist/mirage-deploy/` holds
 * what the deploy needs besides the image: a record of the build, the config file, the side files,
 * the lock files, the build switch's export and the SBOM made of them. Uploaded with `dist/` as an artifact, it lets `image-path` deploy exactly the
 * folder contents a one-job run would.
 */
import { copyFile, lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { defined } from '../defined.js';
import { fileDigest } from '../hash.js';
import { sbomFileNames } from '../sbom/files.js';
import type { BuiltImage, OpamSetup } from '../types.js';
import { isTarget, type Target } from './targets.js';
import { SHA256_HEX, plainNameProblem } from '../patterns.js';
import { checkedBuildInfo } from '../buildinfo/take.js';

/** The folder in `dist/` the build leaves for a later deploy. */
export const HANDOVER_DIR = 'mirage-deploy';
const RECORD_FILE = 'build.json';
const RECORD_SCHEMA = 1;

export type BuildVersions = Pick<OpamSetup, 'ocamlVersion' | 'opamVersion' | 'mirageVersion'>;

/** `dist/mirage-deploy/build.json`: file names are relative to the folder it lies in, or to `dist/` for the image. */
export interface BuildRecord {
  readonly schema: number;
  readonly target: Target;
  readonly name: string;
  readonly image: string;
  readonly sha256: string;
  readonly size: number;
  readonly configFile: string;
  readonly sideFiles: readonly string[];
  readonly lockFiles: readonly string[];
  /** The image's own lock file, one of `lockFiles`; absent when the build left none. */
  readonly lockFile?: string;
  /** `opam switch export` of the build switch. */
  readonly switchExport?: string;
  readonly versions: BuildVersions;
}

/** Why a record's name field cannot be used, or undefined: each becomes a file of the deploy folder. */
function nameProblem(field: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return `its \`${field}\` is not a file name`;
  const problem = plainNameProblem(value);
  return problem === undefined ? undefined : `its \`${field}\` ${JSON.stringify(value)} ${problem}`;
}

/** The first bad name of the record: a deploy writes each into the folder the host reads. */
function namesProblem(r: Partial<Record<keyof BuildRecord, unknown>>): string | undefined {
  const fields: [string, unknown][] = [
    ['name', r.name],
    ['image', r.image],
    ['configFile', r.configFile],
    ...(r.lockFile === undefined ? [] : [['lockFile', r.lockFile] as [string, unknown]]),
    ...(r.switchExport === undefined ? [] : [['switchExport', r.switchExport] as [string, unknown]]),
  ];
  for (const list of ['sideFiles', 'lockFiles'] as const) {
    const values = r[list];
    if (!Array.isArray(values)) return `its \`${list}\` is not a list of file names`;
    values.forEach((value: unknown, i) => fields.push([`${list}[${i}]`, value]));
  }
  return fields.map(([field, value]) => nameProblem(field, value)).find((p) => p !== undefined);
}

/** The record, checked field by field: it comes from an artifact, so from anyone who could upload one. */
export function parseBuildRecord(text: string): BuildRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `it is not JSON (${(error as Error).message})`;
  }
  const r = value as Partial<Record<keyof BuildRecord, unknown>> | null;
  if (r === null || typeof r !== 'object') return 'it is not a JSON object';
  if (r.schema !== RECORD_SCHEMA) return `its schema is ${String(r.schema)}, this action reads ${RECORD_SCHEMA}`;
  if (typeof r.target !== 'string' || !isTarget(r.target)) return `its target ${String(r.target)} is unknown`;
  const badName = namesProblem(r);
  if (badName !== undefined)
    return `${badName}; a build by this action writes plain names (letters, digits, \`.\`, \`_\`, \`-\`)`;
  const v = r.versions as Partial<Record<keyof BuildVersions, unknown>> | undefined;
  if (
    (r.lockFile !== undefined && !(r.lockFiles as unknown[]).includes(r.lockFile)) ||
    typeof r.sha256 !== 'string' ||
    !SHA256_HEX.test(r.sha256) ||
    typeof r.size !== 'number' ||
    !Number.isSafeInteger(r.size) ||
    typeof v !== 'object' ||
    ![v.ocamlVersion, v.opamVersion, v.mirageVersion].every((x) => typeof x === 'string')
  ) {
    return 'a field is missing or malformed';
  }
  return r as BuildRecord;
}

/**
 * Leaves `dist/mirage-deploy/` beside the image, replacing any earlier one. `sbomSources` are the
 * image's lock file (one of `lockFiles`) and the switch export, when the build left them.
 */
export async function writeHandover(
  image: BuiltImage,
  versions: BuildVersions,
  lockFiles: readonly string[],
  sbomSources?: { readonly lockFile: string; readonly switchExport: string },
): Promise<{ dir: string; sbomSources?: { lockFile: string; switchExport: string } }> {
  const dir = join(dirname(image.path), HANDOVER_DIR);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  for (const file of [image.configFile, ...image.sideFiles, ...lockFiles]) {
    await copyFile(file, join(dir, basename(file)));
  }
  // each lock's root opam file (`X.opam` beside `X.opam.locked`): what the unikernel depends on directly
  for (const lock of lockFiles) {
    const root = lock.replace(/\.locked$/, '');
    if ((await lstat(root).catch(() => undefined))?.isFile()) await copyFile(root, join(dir, basename(root)));
  }
  const switchExport = sbomFileNames(image.name).switchExport;
  if (sbomSources !== undefined) await copyFile(sbomSources.switchExport, join(dir, switchExport));
  const record: BuildRecord = {
    schema: RECORD_SCHEMA,
    target: image.target as Target,
    name: image.name,
    image: basename(image.path),
    sha256: image.sha256,
    size: image.size,
    configFile: basename(image.configFile),
    sideFiles: image.sideFiles.map((f) => basename(f)),
    lockFiles: lockFiles.map((f) => basename(f)),
    ...(sbomSources === undefined ? {} : { lockFile: basename(sbomSources.lockFile), switchExport }),
    versions: {
      ocamlVersion: versions.ocamlVersion,
      opamVersion: versions.opamVersion,
      mirageVersion: versions.mirageVersion,
    },
  };
  await writeFile(join(dir, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
  return sbomSources === undefined
    ? { dir }
    : {
        dir,
        sbomSources: { lockFile: join(dir, basename(sbomSources.lockFile)), switchExport: join(dir, switchExport) },
      };
}

/** A regular file, not a link: a link in an artifact could point anywhere on the runner. */
async function regularFile(path: string, what: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined) throw new Error(`input \`image-path\`: ${what} ${path} is missing`);
  if (!info.isFile())
    throw new Error(`input \`image-path\`: ${what} ${path} is not a regular file (a link or a folder)`);
}

/** A real folder, not a link to one: a linked `mirage-deploy/` would publish files from outside the artifact. */
async function realFolder(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined || info.isDirectory()) return;
  throw new Error(
    `input \`image-path\`: ${path} is ${info.isSymbolicLink() ? 'a link' : 'not a folder'}, but the build leaves a ` +
      'folder there; upload the `dist/` folder as the build job left it (an artifact holds no links)',
  );
}

/** `dist/mirage-deploy/build.json`, read only through a real folder and as a regular file. */
async function readRecord(dist: string): Promise<{ record: BuildRecord; recordPath: string }> {
  const dir = join(dist, HANDOVER_DIR);
  const recordPath = join(dir, RECORD_FILE);
  await realFolder(dir);
  const info = await lstat(recordPath).catch(() => undefined);
  if (info === undefined) {
    throw new Error(
      `input \`image-path\`: ${recordPath} is missing; give the \`dist/\` folder a build by this action left ` +
        '(upload the whole folder as the artifact, including dist/mirage-deploy/)',
    );
  }
  await regularFile(recordPath, 'the record');
  const record = parseBuildRecord(await readFile(recordPath, 'utf8'));
  if (typeof record === 'string') throw new Error(`input \`image-path\`: ${recordPath} cannot be used: ${record}`);
  return { record, recordPath };
}

export interface Prebuilt {
  readonly image: BuiltImage;
  readonly versions: BuildVersions;
  readonly lockFiles: string[];
  readonly sbomSources?: { lockFile: string; switchExport: string };
}

/**
 * The image a build job left, as the deploy phase takes it: `imagePath` is the downloaded `dist/`
 * folder or the image in it. Checks the target, that every file is there (no link on the way under
 * `dist/`), and that the image is the one the build hashed.
 */
export async function loadPrebuilt(imagePath: string, isFolder: boolean, target: Target): Promise<Prebuilt> {
  const dist = isFolder ? imagePath : dirname(imagePath);
  const { record, recordPath } = await readRecord(dist);
  if (record.target !== target) {
    throw new Error(
      `input \`target\`: is \`${target}\`, but the image in \`image-path\` was built for \`${record.target}\`; set \`target: ${record.target}\``,
    );
  }
  const path = join(dist, record.image);
  if (!isFolder && basename(imagePath) !== record.image) {
    throw new Error(`input \`image-path\`: ${imagePath} is not the image ${record.image} that ${recordPath} describes`);
  }
  await regularFile(path, 'the image');
  const at = (name: string) => join(dist, HANDOVER_DIR, name);
  const { lockFile, switchExport } = record;
  const sbom = lockFile !== undefined && switchExport !== undefined ? { lockFile, switchExport } : undefined;
  for (const name of [
    record.configFile,
    ...record.sideFiles,
    ...record.lockFiles,
    ...(sbom ? [sbom.switchExport] : []),
  ]) {
    await regularFile(at(name), 'file');
  }
  const sha256 = await fileDigest(path);
  if (sha256 !== record.sha256) {
    throw new Error(
      `input \`image-path\`: ${path} has sha256 ${sha256}, but the build recorded ${record.sha256}; ` +
        'the artifact is not what the build job made: upload and download it again',
    );
  }
  const image: BuiltImage = {
    target,
    name: record.name,
    path,
    sha256,
    size: (await lstat(path)).size,
    sideFiles: record.sideFiles.map(at),
    configFile: at(record.configFile),
    timings: {},
  };
  const sbomSources = sbom && { lockFile: at(sbom.lockFile), switchExport: at(sbom.switchExport) };
  const buildInfo = await checkedBuildInfo(join(dist, HANDOVER_DIR), record.name, sha256);
  return {
    image: { ...image, ...defined({ buildInfo }) },
    versions: record.versions,
    lockFiles: record.lockFiles.map(at),
    ...defined({ sbomSources }),
  };
}
