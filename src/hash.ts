import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Hex digest of a file, streamed: images can be large. */
export async function fileDigest(path: string, algorithm: 'sha256' | 'sha512' = 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** OpenSSH's SHA-256 fingerprint of a base64 key blob: unpadded base64, without the `SHA256:` prefix. */
export function keyBlobFingerprint(blob: string): string {
  return createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '');
}
