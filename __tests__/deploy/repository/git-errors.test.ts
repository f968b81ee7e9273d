import { describe, expect, it } from 'vitest';
import type { GitAccess } from '../../../src/deploy/credentials/plan.js';
import { explainGitFailure } from '../../../src/deploy/repository/git-errors.js';

describe('explainGitFailure', () => {
  const keyAccess: GitAccess = {
    url: 'git@github.com:mirage/www-deployment.git',
    display: 'mirage/www-deployment',
    webUrl: 'https://github.com/mirage/www-deployment',
    env: {},
    credential: 'deploy-key',
    publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
  };
  const tokenAccess: GitAccess = {
    url: 'https://github.com/mirage/www-deployment.git',
    display: 'mirage/www-deployment',
    env: {},
    credential: 'deploy-token',
  };
  const appAccess: GitAccess = { ...tokenAccess, credential: 'installation-token' };
  const changed = [
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
    'The fingerprint for the ED25519 key sent by the remote host is',
    'SHA256:7c5tA65zQR+Wv8Mb1a2UikFSuK0Dn54HiuU/3Wp4a2E.',
    'Host key for github.com has changed and you have requested strict checking.',
    'Host key verification failed.',
    'fatal: Could not read from remote repository.',
  ].join('\n');

  const table: Array<[string, string, GitAccess, RegExp]> = [
    [
      'a changed host key',
      changed,
      keyAccess,
      /presented \(ED25519 SHA256:7c5tA65zQR\+Wv8Mb1a2UikFSuK0Dn54HiuU\/3Wp4a2E\) does not match the pinned keys.*githubs-ssh-key-fingerprints.*`known-hosts`/s,
    ],
    [
      'an unknown host',
      'No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.\nfatal: Could not read from remote repository.',
      { ...keyAccess, url: 'ssh://git@127.0.0.1:2222/srv/d.git' },
      /no pinned SSH host key matches 127\.0\.0\.1:2222.*set `known-hosts`/,
    ],
    [
      'a key not known to the server',
      'git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.',
      keyAccess,
      /key in `deploy-key` lacks write access to mirage\/www-deployment.*settings\/keys.*'Allow write access'.*ssh-ed25519 AAAA/,
    ],
    [
      'a read-only deploy key',
      'ERROR: The key you are authenticating with has been marked as read only.\nfatal: Could not read from remote repository.',
      keyAccess,
      /lacks write access.*'Allow write access'/,
    ],
    [
      'a 403 for a token',
      "remote: Permission to mirage/www-deployment.git denied to some-user.\nfatal: unable to access 'https://github.com/mirage/www-deployment.git/': The requested URL returned error: 403",
      tokenAccess,
      /token in `deploy-token` lacks write access to mirage\/www-deployment: give it contents:write/,
    ],
    [
      'a fine-grained token without contents:write',
      "remote: Write access to repository not granted.\nfatal: unable to access 'https://github.com/mirage/www-deployment.git/': The requested URL returned error: 403",
      tokenAccess,
      /lacks write access.*contents:write/,
    ],
    [
      'a 403 for a ghs_ token explains GITHUB_TOKEN',
      "remote: Permission to mirage/www-deployment.git denied to github-actions[bot].\nfatal: unable to access 'https://github.com/mirage/www-deployment.git/': The requested URL returned error: 403",
      appAccess,
      /contents:write.*GITHUB_TOKEN can only reach the repository running the workflow.*create-github-app-token/s,
    ],
    [
      'a missing repository over SSH',
      'ERROR: Repository not found.\nfatal: Could not read from remote repository.',
      keyAccess,
      /mirage\/www-deployment was not found \(input `deploy-repository`\)/,
    ],
    [
      'a missing repository over HTTPS',
      "remote: Repository not found.\nfatal: repository 'https://github.com/mirage/www-deployment.git/' not found",
      tokenAccess,
      /was not found \(input `deploy-repository`\)/,
    ],
    [
      'a rejected token',
      "remote: Invalid username or password.\nfatal: Authentication failed for 'https://github.com/mirage/www-deployment.git/'",
      tokenAccess,
      /github\.com did not accept the token in `deploy-token`/,
    ],
    [
      'no credentials reaching the server',
      "fatal: could not read Username for 'https://github.com': terminal prompts disabled",
      tokenAccess,
      /did not accept the token/,
    ],
    [
      'a protected branch',
      'remote: error: GH006: Protected branch update failed for refs/heads/main.\n ! [remote rejected] main -> main (protected branch hook declined)',
      tokenAccess,
      /branch protection on mirage\/www-deployment.*`deploy-repository-branch`/,
    ],
    [
      'a file over 100 MB',
      'remote: error: GH001: Large files detected. You may want to try Git Large File Storage',
      tokenAccess,
      /100 MB limit.*`compression: xz`/,
    ],
    [
      'an unreachable host',
      'ssh: connect to host 127.0.0.1 port 1: Connection refused\nfatal: Could not read from remote repository.',
      { ...keyAccess, url: 'ssh://git@127.0.0.1:1/x.git' },
      /cannot reach 127\.0\.0\.1:1.*`deploy-repository`/,
    ],
  ];
  const unknownHost =
    'No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.\nfatal: Could not read from remote repository.';
  table.push(
    [
      'an unknown host when `known-hosts` was given (say, only @cert-authority lines): no talk of built-in keys',
      unknownHost,
      { ...keyAccess, url: 'ssh://git@127.0.0.1:2222/srv/d.git', hostKeys: 'input' },
      /^no line of `known-hosts` trusts the SSH host key that 127\.0\.0\.1:2222 presented: add that host's plain key lines .*@cert-authority/,
    ],
    [
      'a host key marked @revoked',
      '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n@       WARNING: REVOKED HOST KEY DETECTED!               @\n@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\nThe ED25519 host key for [127.0.0.1]:2222 is marked as revoked.\nHost key verification failed.',
      { ...keyAccess, url: 'ssh://git@127.0.0.1:2222/srv/d.git', hostKeys: 'input' },
      /is marked `@revoked` in `known-hosts`/,
    ],
  );
  it.each(table)('%s', (_name, stderr, access, expected) => {
    expect(explainGitFailure(stderr, access)).toMatch(expected);
  });

  it('leaves unknown failures to git’s own words', () => {
    expect(explainGitFailure('fatal: the remote end hung up unexpectedly', tokenAccess)).toBeUndefined();
  });
});
