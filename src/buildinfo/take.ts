/**
 * A deploy job's check of the buildinfo a build job left in `dist/mirage-deploy/` (an artifact,
 * so anyone who could upload one wrote it): a regular file, within the size cap, of this schema,
 * for this image. It is then published as is.
 */
import * as core from '@actions/core';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILDINFO_MAX_BYTES, buildInfoFileName, buildInfoProblem } from './plan.js';

/** The buildinfo's path when the build left one and it passes; undefined when there is none. */
export async function checkedBuildInfo(
  dir: string,
  imageName: string,
  imageSha256: string,
): Promise<string | undefined> {
  const path = join(dir, buildInfoFileName(imageName));
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined) {
    core.info(`no ${buildInfoFileName(imageName)} in ${dir}: the build left no build record to publish`);
    return undefined;
  }
  const refuse = (why: string) =>
    new Error(
      `input \`image-path\`: ${path} cannot be published: ${why}; upload the \`dist/\` folder as the build job left it`,
    );
  if (!info.isFile()) throw refuse('it is not a regular file (a link or a folder)');
  // the size first, so a huge file is never read
  const text = info.size > BUILDINFO_MAX_BYTES ? '' : await readFile(path, 'utf8');
  const problem = buildInfoProblem(text, info.size, imageSha256);
  if (problem !== undefined) throw refuse(problem);
  return path;
}
