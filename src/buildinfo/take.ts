/**
 * A deploy job's check of the buildinfo a build job left in `dist/mirage-deploy/` (an artifact,
 * so anyone who could upload one wrote it): a regular file, within the size cap, of this schema,
 * for this image. It is then published as is.
 */
import * as core from '@actions/core';
import { join } from 'node:path';
import { readCapped } from '../capped-read.js';
import { BUILDINFO_MAX_BYTES, buildInfoFileName, buildInfoProblem } from './plan.js';

/** The buildinfo's path when the build left one and it passes; undefined when there is none. */
export async function checkedBuildInfo(
  dir: string,
  imageName: string,
  imageSha256: string,
): Promise<string | undefined> {
  const path = join(dir, buildInfoFileName(imageName));
  const read = await readCapped(path, BUILDINFO_MAX_BYTES);
  if (read.kind === 'missing') {
    core.info(`no ${buildInfoFileName(imageName)} in ${dir}: the build left no build record to publish`);
    return undefined;
  }
  const refuse = (why: string) =>
    new Error(
      `input \`image-path\`: ${path} cannot be published: ${why}; upload the \`dist/\` folder as the build job left it`,
    );
  if (read.kind === 'not-file') throw refuse('it is not a regular file (a link or a folder)');
  const problem = buildInfoProblem(read.kind === 'read' ? read.text : '', read.size, imageSha256);
  if (problem !== undefined) throw refuse(problem);
  return path;
}
