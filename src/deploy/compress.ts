/**
 * Compressing the image for the deployment repository (and back, to verify a rollback), with the
 * system's bzip2, xz and gzip: the same tools a host uses to unpack it, as in 2013.
 */
import { fileDigest } from '../hash.js';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Compression } from '../config.js';
import { CommandError, runCommand } from '../exec.js';
import { COMPRESSION_SUFFIX } from './plan.js';

/**
 * The argv that compresses a file in place (adding the suffix), or decompresses one. Levels as
 * 2013 (`bzip2 -9`); xz single-threaded and gzip without a name or time stamp, so that the same
 * image always compresses to the same bytes.
 */
export function compressCommand(compression: Exclude<Compression, 'none'>, file: string, decompress = false): string[] {
  switch (compression) {
    case 'bzip2':
      return decompress ? ['bzip2', '-d', '-k', file] : ['bzip2', '-9', file];
    case 'xz':
      return decompress ? ['xz', '-d', '-k', file] : ['xz', '-9', '-T1', file];
    case 'gzip':
      return decompress ? ['gzip', '-d', '-k', file] : ['gzip', '-9', '-n', file];
  }
}

export interface StoredFile {
  readonly path: string;
  readonly name: string;
  readonly sha256: string;
  readonly size: number;
}

/**
 * What to do about a failed compression tool, from what it said: a full disk is not a missing
 * tool, and neither is a corrupt input.
 */
export function compressionHint(program: string, stderr: string, otherwise: string): string {
  if (/No space left on device|ENOSPC|Disk quota exceeded/i.test(stderr)) {
    return `the disk holding RUNNER_TEMP is full (${program} could not write the compressed image); free space on the runner, or use a runner with a larger disk`;
  }
  return otherwise;
}

async function run(argv: string[], otherwise: string): Promise<void> {
  const [program = '', ...args] = argv;
  let result;
  try {
    result = await runCommand(program, args, { silent: true });
  } catch (error) {
    // @actions/exec throws when the program is not on PATH.
    throw new Error(
      `cannot run ${program} (${(error as Error).message}); install it on the runner or choose another \`compression\``,
    );
  }
  if (result.exitCode !== 0) {
    throw new CommandError(argv.join(' '), result, compressionHint(program, result.stderr, otherwise));
  }
}

/**
 * Writes the image, compressed, into `dir` as `<name><suffix>` (the image itself is left alone);
 * `name` is the unpacked file's name in the deploy folder.
 */
export async function compressImage(
  imagePath: string,
  compression: Compression,
  dir: string,
  name = basename(imagePath),
): Promise<StoredFile> {
  await mkdir(dir, { recursive: true });
  const copy = join(dir, name);
  await copyFile(imagePath, copy);
  if (compression !== 'none') {
    await run(
      compressCommand(compression, copy),
      `${compression} could not compress the image (its message is below); choose another \`compression\` if it cannot be fixed`,
    );
  }
  const path = `${copy}${COMPRESSION_SUFFIX[compression]}`;
  const [sha256, info] = await Promise.all([fileDigest(path), stat(path)]);
  return { path, name: basename(path), sha256, size: info.size };
}

/** Unpacks a stored image next to itself; returns the unpacked file. */
export async function decompressImage(path: string, compression: Compression): Promise<string> {
  if (compression === 'none') return path;
  await run(compressCommand(compression, path, true), `\`${basename(path)}\` is not a valid ${compression} file`);
  return path.slice(0, path.length - COMPRESSION_SUFFIX[compression].length);
}
