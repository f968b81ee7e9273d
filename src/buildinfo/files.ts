/**
 * The build's records stored beside the image, under the deployed name: `<image>.buildinfo.json`
 * and, with `attestation-bundle`, `<image>.sigstore.json`.
 */
import { attestationFileName } from '../attestation/plan.js';
import type { BuiltImage } from '../types.js';
import { buildInfoFileName } from './plan.js';

export function recordFiles(
  image: Pick<BuiltImage, 'buildInfo' | 'attestation'>,
  name: string,
): Array<{ readonly name: string; readonly path: string }> {
  return [
    ...(image.buildInfo === undefined ? [] : [{ name: buildInfoFileName(name), path: image.buildInfo }]),
    ...(image.attestation === undefined ? [] : [{ name: attestationFileName(name), path: image.attestation }]),
  ];
}
