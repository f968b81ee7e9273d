// A build job's `dist/` as an artifact holds it, made without opam: a stand-in image (makeImage) and
// the hand-over the action writes after a build (writeHandover), so that a deploy-only run of the
// bundle (`image-path`) can be tested in seconds, and tampered with field by field.
import { readFileSync, writeFileSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { fileDigest } from '../../src/hash.js';
import { HANDOVER_DIR, writeHandover, type BuildRecord } from '../../src/mirage/prebuilt.js';
import { makeImage, SETUP } from './deploy-scenario.js';

export interface Artifact {
  /** The `dist/` folder to give as `image-path`. */
  readonly dist: string;
  /** `dist/mirage-deploy/`. */
  readonly handover: string;
}

/**
 * `<dir>/dist/` holding `<name><ext>`, its side files and `mirage-deploy/`; `size` pads the image
 * with zeros (a sparse file) to that many bytes, for the size guard.
 */
export async function makeArtifact(
  dir: string,
  opts: { target: string; seed: string; sideFiles?: string[]; size?: number },
): Promise<Artifact> {
  const made = await makeImage(dir, opts);
  if (opts.size !== undefined) await truncate(made.path, opts.size);
  const image = opts.size === undefined ? made : { ...made, size: opts.size, sha256: await fileDigest(made.path) };
  const { dir: handover } = await writeHandover(image, SETUP, []);
  return { dist: join(dir, 'dist'), handover };
}

/**
 * Rewrites the artifact's build.json with `edit`, as someone who can upload an artifact could;
 * `files` are written into `mirage-deploy/` too, so that only the edited field is wrong.
 */
export function editRecord(
  artifact: Artifact,
  edit: (record: BuildRecord) => Record<string, unknown>,
  files: readonly string[] = [],
): void {
  const path = join(artifact.dist, HANDOVER_DIR, 'build.json');
  const record = JSON.parse(readFileSync(path, 'utf8')) as BuildRecord;
  writeFileSync(path, JSON.stringify(edit(record)));
  for (const file of files) writeFileSync(join(artifact.handover, file), `${file}\n`);
}
