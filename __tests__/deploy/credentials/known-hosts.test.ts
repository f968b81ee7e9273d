import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  GITHUB_HOST_KEYS,
  knownHostsFor,
  knownHostsName,
  lineFingerprint,
  revokedKeyLine,
} from '../../../src/deploy/credentials/known-hosts.js';

describe('github.com host keys', () => {
  // From GitHub's "GitHub's SSH key fingerprints" page, after the March 2023 RSA rotation.
  const published = {
    'ssh-ed25519': '+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU',
    'ecdsa-sha2-nistp256': 'p2QAMXNIC1TJYWeIOttrVc98/R1BUFWu3/LiyKgUfQM',
    'ssh-rsa': 'uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
  };

  it('are exactly the three published keys, each with its published fingerprint', () => {
    const embedded = Object.fromEntries(
      GITHUB_HOST_KEYS.map((line) => {
        const [host, type, blob] = line.split(' ');
        expect(host).toBe('github.com');
        const digest = createHash('sha256')
          .update(Buffer.from(blob ?? '', 'base64'))
          .digest('base64')
          .replace(/=+$/, '');
        return [type, digest];
      }),
    );
    expect(embedded).toEqual(published);
  });

  it('each key blob names its own type (no line was pasted under the wrong type)', () => {
    for (const line of GITHUB_HOST_KEYS) {
      const [, type, blob] = line.split(' ');
      const raw = Buffer.from(blob ?? '', 'base64');
      expect(raw.subarray(4, 4 + raw.readUInt32BE(0)).toString('latin1')).toBe(type);
    }
  });

  it('never trusts the revoked pre-2023 RSA key', () => {
    expect(GITHUB_HOST_KEYS.map(lineFingerprint)).not.toContain('nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8');
    expect(revokedKeyLine(knownHostsFor(undefined).text)).toBeUndefined();
  });

  it('finds the revoked key in a known-hosts input', () => {
    const revoked =
      'github.com ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAQEAq2A7hRGmdnm9tUDbO9IDSwBK6TbQa+PXYPCPy6rbTrTtw7PHkccKrpp0yVhp5HdEIcKr6pLlVDBfOLX9QUsyCOV0wzfjIJNlGEYsdlLJizHhbn2mUjvSAHQqZETYP81eFzLQNnPHt4EVVUh7VfDESU84KezmD5QlWpXLmvU31/yMf+Se8xhHTvKSCZIFImWwoG6mbUoWf9nzpIoaSjB+weqqUUmpaaasXVal72J+UX2B+2RPW3RcT0eOzQgqlJL3RKrTJvdsjE3JEAvGq3lGHSZXy28G3skua2SmVi/w4yCE6gbODqnTWlg7+wC604ydGXA8VJiS5ap43JXiUFFAaQ==';
    expect(lineFingerprint(revoked)).toBe('nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8');
    expect(
      revokedKeyLine(
        `# GHES\nghe.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n${revoked}\n`,
      ),
    ).toBe(3);
  });

  it('the known-hosts input replaces the embedded keys entirely', () => {
    const hosts = knownHostsFor(' [127.0.0.1]:2222 ssh-ed25519 AAAA\r\n\r\n');
    expect(hosts).toEqual({ text: '[127.0.0.1]:2222 ssh-ed25519 AAAA\n', source: 'input `known-hosts`' });
    expect(knownHostsFor('').source).toBe('embedded github.com keys');
  });

  it.each([
    ['github.com', undefined, 'github.com'],
    ['github.com', 22, 'github.com'],
    ['127.0.0.1', 2222, '[127.0.0.1]:2222'],
  ] as const)('names %s port %s as %s', (host, port, name) => {
    expect(knownHostsName(host, port)).toBe(name);
  });
});
