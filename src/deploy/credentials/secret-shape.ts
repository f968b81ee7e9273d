/**
 * What can be told about a secret from its text alone, before any process or network use. Every
 * message here is about the input's shape and never quotes the secret.
 */

const TOKEN_PREFIX = /^(gh[pousr]_|github_pat_)/;
const OPENSSH_MAGIC = 'openssh-key-v1\0';

/** A secret pasted through a web form or a Windows editor: CRLF, stray spaces, no final newline. */
export function normalizeKey(text: string): string {
  const lines = text
    .replace(/\r/g, '')
    .split('\n')
    .map((line) => line.trim());
  return `${lines.join('\n').trim()}\n`;
}

/** The cipher of an OpenSSH-format key, `none` when it has no passphrase; undefined if unreadable. */
export function opensshCipher(key: string): string | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(key);
  if (!m?.[1]) return undefined;
  const body = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  if (body.subarray(0, OPENSSH_MAGIC.length).toString('latin1') !== OPENSSH_MAGIC) return undefined;
  const offset = OPENSSH_MAGIC.length;
  if (body.length < offset + 4) return undefined;
  const length = body.readUInt32BE(offset);
  if (length > 64 || body.length < offset + 4 + length) return undefined;
  return body.subarray(offset + 4, offset + 4 + length).toString('latin1');
}

export function isEncryptedKey(key: string): boolean {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(key) || /^Proc-Type:\s*4,ENCRYPTED/m.test(key)) return true;
  const cipher = opensshCipher(key);
  return cipher !== undefined && cipher !== 'none';
}

const NEW_KEY =
  "create one without a passphrase (`ssh-keygen -t ed25519 -N '' -f deploy_key`), add `deploy_key.pub` " +
  "to the deployment repository's deploy keys with 'Allow write access', and store the whole of `deploy_key` in the secret";

/** Why `deploy-key` cannot be an SSH private key ssh can use, or undefined when it may be one. */
export function keyProblem(raw: string): string | undefined {
  const key = normalizeKey(raw);
  if (key.length > 16384)
    return 'is far larger than any SSH private key; check that the secret holds the key file alone';
  if (TOKEN_PREFIX.test(key))
    return 'holds a GitHub token, not an SSH key; pass the token through `deploy-token` instead';
  if (/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-\S+|sk-\S+) AAAA/.test(key)) {
    return `is a public key (a \`.pub\` file); give the PRIVATE key, the file without \`.pub\`, and add the \`.pub\` to the deployment repository's deploy keys`;
  }
  if (/^PuTTY-User-Key-File-/.test(key)) {
    return 'is a PuTTY key; convert it with `puttygen key.ppk -O private-openssh -o deploy_key` and store that file in the secret';
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key) && key.trim().split('\n').length === 1 && key.includes('\\n')) {
    return 'holds the key on one line with literal `\\n` instead of line breaks; store the file as is, e.g. `gh secret set DEPLOY_KEY < deploy_key`';
  }
  const begin = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----/.exec(key);
  if (!begin) {
    return `is not an SSH private key (it has no \`-----BEGIN … PRIVATE KEY-----\` line); ${NEW_KEY}`;
  }
  if (!key.includes(`-----END ${begin[1] ?? ''}PRIVATE KEY-----`)) {
    return 'is cut off: it has a BEGIN line but no matching END line; store the whole key file in the secret, both armor lines included';
  }
  if (isEncryptedKey(key)) {
    return (
      'is protected by a passphrase, which the action cannot type; remove it from a copy with ' +
      "`ssh-keygen -p -N '' -f deploy_key` and update the secret, or " +
      NEW_KEY
    );
  }
  return undefined;
}

export type TokenKind = 'installation' | 'fine-grained' | 'classic' | 'oauth' | 'user-to-server' | 'other';

export function tokenKind(token: string): TokenKind {
  if (token.startsWith('ghs_')) return 'installation';
  if (token.startsWith('github_pat_')) return 'fine-grained';
  if (token.startsWith('ghp_')) return 'classic';
  if (token.startsWith('gho_')) return 'oauth';
  if (token.startsWith('ghu_')) return 'user-to-server';
  return 'other';
}

/**
 * Why `deploy-token` cannot be sent as a git credential, or undefined. Whitespace and control
 * characters are refused outright: the token goes into an HTTP header, where a line break would
 * start another header.
 */
export function tokenProblem(token: string): string | undefined {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(token)) {
    return 'holds an SSH private key, not a token; pass the key through `deploy-key` instead';
  }
  if (/^(bearer|token|basic)\s/i.test(token)) {
    return 'starts with an authorization scheme (`Bearer`, `token`, `basic`); give the token alone';
  }
  if (/[\s\p{Cc}]/u.test(token)) {
    return 'contains spaces, line breaks or control characters; give the token alone, on one line';
  }
  if (token.includes(':')) return 'contains `:`; give the token alone, without a user name such as `x-access-token:`';
  if (!/^[\x21-\x7e]+$/.test(token)) return 'contains characters outside ASCII; check that the secret holds the token';
  if (token.startsWith('ghr_')) {
    return 'is a refresh token (`ghr_`), which cannot authenticate git; give an access token: a fine-grained personal access token or a GitHub App installation token';
  }
  return undefined;
}

/** The credential git sends for a token, as GitHub expects it: base64 of `x-access-token:TOKEN`. */
export function basicCredential(token: string): string {
  return Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64');
}
