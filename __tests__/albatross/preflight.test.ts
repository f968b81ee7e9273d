/**
 * The preflight of `albatross-ca-key` on real keys and certificates made by OpenSSL: ed25519 in
 * PKCS#8, the form `albatross-client generate` writes (the integration test uses the client's own).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkKeyPair, checkKeyShape } from '../../src/albatross/preflight.js';

let dir: string;
const pem = (name: string) => readFileSync(join(dir, name), 'utf8');

function openssl(args: string[]): void {
  const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'albatross-preflight-'));
  openssl(['genpkey', '-algorithm', 'ed25519', '-out', 'ca.key']);
  openssl(['req', '-x509', '-key', 'ca.key', '-subj', '/CN=ops', '-days', '2', '-out', 'ca.pem']);
  openssl(['genpkey', '-algorithm', 'ed25519', '-out', 'other.key']);
  openssl(['req', '-x509', '-key', 'other.key', '-subj', '/CN=other', '-days', '2', '-out', 'other.pem']);
  openssl([
    'req',
    '-x509',
    '-key',
    'other.key',
    '-subj',
    '/CN=leaf',
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-out',
    'leaf.pem',
  ]);
  openssl(['pkey', '-in', 'ca.key', '-aes256', '-passout', 'pass:secret', '-out', 'encrypted.key']);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkKeyShape', () => {
  it('takes a PEM key, with CRLF line ends, as text with LF', () => {
    expect(checkKeyShape(pem('ca.key').replace(/\n/g, '\r\n'))).toBe(pem('ca.key'));
  });
  it.each([
    ['an encrypted key', () => pem('encrypted.key'), /passphrase/],
    ['a certificate', () => pem('ca.pem'), /is not a PEM private key/],
    ['a key without its armor', () => pem('ca.key').split('\n')[1] ?? '', /is not a PEM private key/],
    ['a damaged key', () => pem('ca.key').replace(/\n[A-Za-z0-9]/, '\n!'), /is not a readable private key/],
  ])('refuses %s naming the input', (_what, text, message) => {
    expect(() => checkKeyShape(text())).toThrow(message);
    expect(() => checkKeyShape(text())).toThrow(/albatross-ca-key/);
  });
});

describe('checkKeyPair', () => {
  it('accepts the key with its own CA certificate and names it', () => {
    expect(checkKeyPair(pem('ca.key'), pem('ca.pem'), pem('other.pem'))).toMatch(/^CN=ops \(sha256 [0-9A-F:]+\)$/);
  });
  it('refuses the certificate of another key', () => {
    expect(() => checkKeyPair(pem('ca.key'), pem('other.pem'), pem('other.pem'))).toThrow(
      /input `albatross-ca-cert`: is the certificate of another key/,
    );
  });
  it('refuses a certificate that is not a CA', () => {
    expect(() => checkKeyPair(pem('other.key'), pem('leaf.pem'), pem('ca.pem'))).toThrow(/is not a CA certificate/);
  });
  it('refuses an empty certificate and a server CA that is not one', () => {
    expect(() => checkKeyPair(pem('ca.key'), undefined, pem('ca.pem'))).toThrow(/input `albatross-ca-cert`: is empty/);
    expect(() => checkKeyPair(pem('ca.key'), pem('ca.pem'), 'nonsense')).toThrow(/input `albatross-server-ca`/);
  });
});
