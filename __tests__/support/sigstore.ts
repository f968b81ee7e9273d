// Sigstore bundles shaped as actions/attest-build-provenance writes them (unsigned: the action
// checks the statement's subject, the host's verifier the signature), for tests.

/** A bundle as actions/attest-build-provenance writes it, around an in-toto statement. */
export function sigstoreBundle(
  subjects: Array<{ name: string; sha256: string }>,
  overrides: Record<string, unknown> = {},
) {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {},
  };
  return JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { certificate: { rawBytes: 'MIIB' }, tlogEntries: [] },
    dsseEnvelope: {
      payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
      payloadType: 'application/vnd.in-toto+json',
      signatures: [{ sig: 'MEUC' }],
    },
    ...overrides,
  });
}
