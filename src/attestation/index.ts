/**
 * Reads and checks `attestation-bundle` in a deploy job (`image-path`), before anything is
 * written: a regular file, within the size cap, attesting the very image being deployed.
 */
import * as core from '@actions/core';
import { lstat, readFile } from 'node:fs/promises';
import { summaryRow } from '../summary.js';
import { ATTESTATION_MAX_BYTES, attestationProblem } from './plan.js';

/** The bundle's path once it is known to attest the image of `imageSha256`; throws naming the input. */
export async function checkAttestation(path: string, imageSha256: string): Promise<string> {
  const info = await lstat(path).catch(() => undefined);
  const refuse = (why: string) => new Error(`input \`attestation-bundle\`: ${path} ${why}`);
  if (info === undefined) throw refuse('is missing');
  if (!info.isFile()) throw refuse('is not a regular file (a link or a folder); copy the bundle itself into dist/');
  const text = info.size > ATTESTATION_MAX_BYTES ? '' : await readFile(path, 'utf8');
  const problem = attestationProblem(text, info.size, imageSha256);
  if (problem !== undefined) throw refuse(`cannot be published: ${problem}`);
  core.info(`attestation bundle ${path}: attests the image's sha256 ${imageSha256}`);
  summaryRow('attestation', 'the Sigstore bundle attests this image');
  return path;
}
