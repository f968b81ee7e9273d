import { describe, expect, it } from 'vitest';
import { ATTESTATION_MAX_BYTES, attestationFileName, attestationProblem } from '../../src/attestation/plan.js';
import { sigstoreBundle } from '../support/sigstore.js';

const IMAGE = 'd'.repeat(64);

describe('attestationProblem', () => {
  it('accepts a bundle whose subject is the image', () => {
    const text = sigstoreBundle([{ name: 'hello.xen', sha256: IMAGE }]);
    expect(attestationProblem(text, text.length, IMAGE)).toBeUndefined();
    expect(attestationFileName('hello')).toBe('hello.sigstore.json');
  });

  it('accepts a bundle of several subjects, the image among them', () => {
    const text = sigstoreBundle([
      { name: 'other.xen', sha256: 'e'.repeat(64) },
      { name: 'hello.xen', sha256: IMAGE.toUpperCase() },
    ]);
    expect(attestationProblem(text, text.length, IMAGE)).toBeUndefined();
  });

  it("refuses another image's bundle, naming both digests", () => {
    const text = sigstoreBundle([{ name: 'hello.xen', sha256: 'e'.repeat(64) }]);
    const problem = attestationProblem(text, text.length, IMAGE);
    expect(problem).toContain('e'.repeat(64));
    expect(problem).toContain(IMAGE);
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '{', /not JSON/],
    ['no mediaType', '{}', /not a Sigstore bundle/],
    ['another media type', JSON.stringify({ mediaType: 'application/json' }), /not a Sigstore bundle's/],
    ['a message signature, no envelope', sigstoreBundle([], { dsseEnvelope: undefined }), /DSSE envelope/],
    [
      'another payload type',
      sigstoreBundle([{ name: 'x', sha256: IMAGE }], { dsseEnvelope: { payload: 'e30=', payloadType: 'text/plain' } }),
      /payloadType/,
    ],
    [
      'a payload that is not a statement',
      sigstoreBundle([], { dsseEnvelope: { payload: 'bm90IGpzb24=', payloadType: 'application/vnd.in-toto+json' } }),
      /not a base64-encoded JSON/,
    ],
    ['no subject', sigstoreBundle([]), /no `subject`/],
    [
      'a subject without sha256',
      sigstoreBundle([], {
        dsseEnvelope: {
          payload: Buffer.from(JSON.stringify({ subject: [{ name: 'x', digest: { sha512: 'f' } }] })).toString(
            'base64',
          ),
          payloadType: 'application/vnd.in-toto+json',
        },
      }),
      /digest\.sha256/,
    ],
  ])('refuses %s', (_, text, message) => {
    expect(attestationProblem(text, text.length, IMAGE)).toMatch(message);
  });

  it('refuses a file over the size cap unread', () => {
    expect(attestationProblem('', ATTESTATION_MAX_BYTES + 1, IMAGE)).toMatch(/more than/);
  });
});
