/**
 * Reads and checks `attestation-bundle` in a deploy job (`image-path`), before anything is
 * written: a regular file, within the size cap, attesting the very image being deployed.
 */
import * as core from '@actions/core';
import { readCapped } from '../capped-read.js';
import { summaryRow } from '../summary.js';
import { ATTESTATION_MAX_BYTES, attestationProblem } from './plan.js';

/** The bundle's path once it is known to attest the image of `imageSha256`; throws naming the input. */
export async function checkAttestation(path: string, imageSha256: string): Promise<string> {
  const read = await readCapped(path, ATTESTATION_MAX_BYTES);
  const refuse = (why: string) => new Error(`input \`attestation-bundle\`: ${path} ${why}`);
  if (read.kind === 'missing') throw refuse('is missing');
  if (read.kind === 'not-file') {
    throw refuse('is not a regular file (a link or a folder); copy the bundle itself into dist/');
  }
  const problem = attestationProblem(read.kind === 'read' ? read.text : '', read.size, imageSha256);
  if (problem !== undefined) throw refuse(`cannot be published: ${problem}`);
  core.info(`attestation bundle ${path}: attests the image's sha256 ${imageSha256}`);
  summaryRow('attestation', 'the Sigstore bundle attests this image');
  return path;
}
