import { keyBlobFingerprint } from '../../hash.js';

/**
 * SSH host keys the action trusts. github.com's keys are pinned here, from GitHub's published list
 * after the 24 March 2023 RSA rotation, so that no connection ever depends on trust on first use
 * (`ssh-keyscan`) or on whatever a self-hosted runner has in its own known_hosts files.
 */

export const FINGERPRINTS_PAGE =
  'https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/githubs-ssh-key-fingerprints';

export const GITHUB_HOST_KEYS: readonly string[] = [
  'github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
  'github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=',
  'github.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCj7ndNxQowgcQnjshcLrqPEiiphnt+VTTvDP6mHBL9j1aNUkY4Ue1gvwnGLVlOhGeYrnZaMgRK6+PKCUXaDbC7qtbW8gIkhL7aGCsOr/C56SJMy/BCZfxd1nWzAOxSDPgVsmerOBYfNqltV9/hWCqBywINIR+5dIg6JTJ72pcEpEjcYgXkE2YEFXV1JHnsKgbLWNlhScqb2UmyRkQyytRLtL+38TGxkxCflmO+5Z8CSSNY7GidjMIZ7Q4zMjA2n1nGrlTDkzwDCsw+wqFPGQA179cnfGWOWRVruj16z6XyvxvjJwbz0wQZ75XK5tKSb7FNyeIEs4TT4jk+S4dhPeAUC5y+bDYirYgM4GC7uEnztnZyaVWQ7B381AK4Qdrwt51ZqExKbQpTUNn+EjqoTwvqNj4kqx5QUCI0ThS/YkOxJCXmPUWZbhjpCg56i+2aB6CmK2JGhn57K5mj0MNdBXA4/WnwH6XoPWJzK5Nyu2zB3nAZp+S5hpQs+p1vN1/wsjk=',
];

export interface KnownHosts {
  /** The known_hosts file's text. */
  readonly text: string;
  /** Where the lines came from, for the log and for error messages. */
  readonly source: 'embedded github.com keys' | 'input `known-hosts`';
}

/** The `known-hosts` input replaces the embedded keys entirely: a GHES host must not trust github.com's. */
export function knownHostsFor(input: string | undefined): KnownHosts {
  if (input === undefined || input.trim() === '') {
    return { text: `${GITHUB_HOST_KEYS.join('\n')}\n`, source: 'embedded github.com keys' };
  }
  const lines = input
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return { text: `${lines.join('\n')}\n`, source: 'input `known-hosts`' };
}

/** The name ssh looks up in known_hosts: `host`, or `[host]:port` off port 22. */
export function knownHostsName(host: string, port: number | undefined): string {
  return port === undefined || port === 22 ? host : `[${host}]:${port}`;
}

/** Fingerprint of github.com's RSA key before the 2023 rotation, whose private half was exposed. */
const REVOKED_GITHUB_RSA_SHA256 = 'nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8';

/** SHA-256 fingerprint (unpadded base64) of a known_hosts line's key. */
export function lineFingerprint(line: string): string | undefined {
  const fields = line.trim().split(/\s+/);
  const blob = fields[0]?.startsWith('@') ? fields[3] : fields[2];
  if (!blob || !/^[A-Za-z0-9+/]+=*$/.test(blob)) return undefined;
  return keyBlobFingerprint(blob);
}

/** The 1-based number of the first line that trusts the revoked github.com key, if any. */
export function revokedKeyLine(text: string): number | undefined {
  const index = text.split('\n').findIndex((line) => lineFingerprint(line) === REVOKED_GITHUB_RSA_SHA256);
  return index === -1 ? undefined : index + 1;
}
