import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  basicCredential,
  isEncryptedKey,
  keyProblem,
  normalizeKey,
  opensshCipher,
  tokenKind,
  tokenProblem,
} from '../../../src/deploy/credentials/secret-shape.js';

/** An OpenSSH-format private key envelope: only its header matters to the shape checks. */
function opensshKey(cipher: string): string {
  const name = Buffer.from(cipher, 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0', 'latin1'), length, name, Buffer.alloc(200, 7)]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return ['-----BEGIN OPENSSH PRIVATE KEY-----', ...lines, '-----END OPENSSH PRIVATE KEY-----', ''].join('\n');
}

const pkcs8 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pkcs8Encrypted = generateKeyPairSync('ed25519', {
  privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass phrase' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;
const legacyEncrypted = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'Proc-Type: 4,ENCRYPTED',
  'DEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF',
  '',
  'MIIEowIBAAKCAQEAu',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

describe('keyProblem', () => {
  const good = opensshKey('none');
  const table: Array<[string, string, RegExp | undefined]> = [
    ['an OpenSSH key without passphrase', good, undefined],
    ['the same pasted with CRLF and indentation', `  ${good.replace(/\n/g, '\r\n  ')}`, undefined],
    ['a PKCS#8 key', pkcs8, undefined],
    ['an OpenSSH key with a passphrase', opensshKey('aes256-ctr'), /passphrase.*ssh-keygen -p -N ''/],
    ['an encrypted PKCS#8 key', pkcs8Encrypted, /passphrase/],
    ['an encrypted PEM key', legacyEncrypted, /passphrase/],
    [
      'a public key',
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host',
      /public key.*PRIVATE key/,
    ],
    ['a token', 'ghp_0123456789abcdefghijklmnopqrstuvwxyz', /token.*`deploy-token`/],
    ['a fine-grained token', 'github_pat_11ABCDEFG0123456789', /`deploy-token`/],
    ['a PuTTY key', 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n', /puttygen/],
    ['literal \\n escapes', good.trim().replace(/\n/g, '\\n'), /literal `\\n`/],
    ['garbage', 'not a key at all', /no `-----BEGIN … PRIVATE KEY-----` line/],
    ['a cut-off key', good.split('\n').slice(0, 3).join('\n'), /cut off/],
  ];
  it.each(table)('%s', (_name, text, expected) => {
    const problem = keyProblem(text);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  it('reads the cipher of OpenSSH keys', () => {
    expect(opensshCipher(opensshKey('none'))).toBe('none');
    expect(opensshCipher(opensshKey('aes256-ctr'))).toBe('aes256-ctr');
    expect(opensshCipher(pkcs8)).toBeUndefined();
    expect(isEncryptedKey(opensshKey('chacha20-poly1305@openssh.com'))).toBe(true);
  });

  it('normalizes line ends, indentation and the final newline', () => {
    expect(normalizeKey('\r\n  -----BEGIN X-----\r\n  abc  \r\n-----END X-----')).toBe(
      '-----BEGIN X-----\nabc\n-----END X-----\n',
    );
  });
});

describe('tokenProblem', () => {
  const table: Array<[string, string, RegExp | undefined]> = [
    ['a fine-grained token', 'github_pat_11AAAAAAA0abcdefghijklmnopqrstuvwxyz', undefined],
    ['an installation token', 'ghs_abcdefghijklmnopqrstuvwxyz0123456789', undefined],
    ['a classic token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', undefined],
    ['a token from another host', 'glpat-abcdefghijklmnop', undefined],
    ['a trailing line break', 'ghs_abc\n', /line breaks/],
    ['a header injection', 'ghs_abc\r\nX-Evil: 1', /line breaks/],
    ['a scheme prefix', 'Bearer ghs_abc', /authorization scheme/],
    ['a user name', 'x-access-token:ghs_abc', /without a user name/],
    ['an SSH key', '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----', /`deploy-key`/],
    ['a refresh token', 'ghr_abcdefghijklmnopqrstuvwxyz', /refresh token/],
    ['non-ASCII', 'ghs_abcé', /outside ASCII/],
  ];
  it.each(table)('%s', (_name, token, expected) => {
    const problem = tokenProblem(token);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  it.each([
    ['ghs_x', 'installation'],
    ['github_pat_x', 'fine-grained'],
    ['ghp_x', 'classic'],
    ['gho_x', 'oauth'],
    ['ghu_x', 'user-to-server'],
    ['glpat-x', 'other'],
  ] as const)('%s is a %s token', (token, kind) => {
    expect(tokenKind(token)).toBe(kind);
  });

  it('builds the credential GitHub expects', () => {
    expect(Buffer.from(basicCredential('ghs_abc'), 'base64').toString()).toBe('x-access-token:ghs_abc');
  });
});
