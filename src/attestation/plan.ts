/**
 * `attestation-bundle`: the Sigstore bundle `actions/attest-build-provenance` writes for the image,
 * published beside it as `<image>.sigstore.json` so that a host verifies the image's provenance
 * offline. Pure: what the bundle attests, read from its DSSE envelope's in-toto statement.
 */

/** A bundle is a few KiB: the statement, a signature and a certificate chain. */
export const ATTESTATION_MAX_BYTES = 1024 * 1024;

export function attestationFileName(imageName: string): string {
  return `${imageName}.sigstore.json`;
}

const IN_TOTO_PAYLOAD = 'application/vnd.in-toto+json';

/** The sha256 digests of the bundle's subjects, or why it is not a Sigstore bundle of an in-toto statement. */
export function attestedDigests(text: string): string[] | string {
  let bundle: unknown;
  try {
    bundle = JSON.parse(text);
  } catch (error) {
    return `it is not JSON (${(error as Error).message})`;
  }
  const b = bundle as { mediaType?: unknown; dsseEnvelope?: { payload?: unknown; payloadType?: unknown } } | null;
  if (b === null || typeof b !== 'object' || typeof b.mediaType !== 'string')
    return 'it has no `mediaType`: it is not a Sigstore bundle';
  if (!b.mediaType.startsWith('application/vnd.dev.sigstore.bundle'))
    return `its mediaType is \`${b.mediaType}\`, not a Sigstore bundle's`;
  const envelope = b.dsseEnvelope;
  if (typeof envelope !== 'object' || envelope === null || typeof envelope.payload !== 'string')
    return 'it has no DSSE envelope with a payload (`dsseEnvelope.payload`)';
  if (envelope.payloadType !== IN_TOTO_PAYLOAD)
    return `its envelope's payloadType is \`${String(envelope.payloadType)}\`, not \`${IN_TOTO_PAYLOAD}\``;
  let statement: unknown;
  try {
    statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  } catch {
    return "its envelope's payload is not a base64-encoded JSON in-toto statement";
  }
  const subjects = (statement as { subject?: unknown } | null)?.subject;
  if (!Array.isArray(subjects) || subjects.length === 0) return 'its in-toto statement has no `subject`';
  const digests = subjects.map((s: { digest?: { sha256?: unknown } } | null) => s?.digest?.sha256);
  if (!digests.every((d): d is string => typeof d === 'string'))
    return 'a subject of its in-toto statement has no `digest.sha256`';
  return digests.map((d) => d.toLowerCase());
}

/** Why the bundle does not attest the image of this sha256, or undefined. */
export function attestationProblem(text: string, size: number, imageSha256: string): string | undefined {
  if (size > ATTESTATION_MAX_BYTES)
    return `it is ${size} bytes, more than the ${ATTESTATION_MAX_BYTES} a Sigstore bundle takes`;
  const digests = attestedDigests(text);
  if (typeof digests === 'string') return digests;
  if (digests.includes(imageSha256)) return undefined;
  return (
    `it attests sha256 ${digests.join(', ')}, not the image's ${imageSha256}; give the bundle ` +
    '`actions/attest-build-provenance` wrote for this image (`subject-path` the image in `dist/`)'
  );
}
