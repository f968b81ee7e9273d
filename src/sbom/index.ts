/**
 * Writes an image's SBOM from its lock file and the build switch's export. The build job and a
 * deploy-only job (`image-path`) both call this with the files the build left, so both write the
 * same SBOM.
 */
import * as core from '@actions/core';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { BuiltImage, ImageSbom } from '../types.js';
import { makeSbom } from './cyclonedx.js';
import { sbomFileNames } from './files.js';
import { parseLockFile } from './lock.js';
import { parseSwitchExport } from './switch-export.js';

async function readParsed<T>(path: string, what: string, image: string, parse: (text: string) => T) {
  try {
    return parse(await readFile(path, 'utf8'));
  } catch (error) {
    core.warning(`no SBOM for ${image}: ${what} ${path} cannot be read: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * Writes `<dir>/<image>.cdx.json`. Undefined, with a warning, when the lock file or the export
 * cannot be read: a missing SBOM is reported, not a reason to stop the deploy.
 */
export async function writeSbom(
  image: Pick<BuiltImage, 'name' | 'path' | 'sha256' | 'size' | 'target'>,
  opamVersion: string,
  files: { readonly lockFile: string; readonly switchExport: string },
  dir: string,
): Promise<ImageSbom | undefined> {
  const lock = await readParsed(files.lockFile, 'the lock file', image.name, parseLockFile);
  const switchPackages = await readParsed(files.switchExport, 'the switch export', image.name, parseSwitchExport);
  if (lock === undefined || switchPackages === undefined) return undefined;
  const cyclonedx = join(dir, sbomFileNames(image.name).cyclonedx);
  await writeFile(
    cyclonedx,
    makeSbom({
      image: {
        name: image.name,
        file: basename(image.path),
        sha256: image.sha256,
        size: image.size,
        target: image.target,
      },
      lock,
      switchPackages,
      opamVersion,
    }),
  );
  return {
    lockFile: files.lockFile,
    switchExport: files.switchExport,
    cyclonedx,
    packages: lock.packages.map(({ name, version }) => ({ name, version })),
  };
}
