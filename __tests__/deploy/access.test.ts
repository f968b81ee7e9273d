import { describe, expect, it } from 'vitest';
import { ConfigError, type DeployConfig } from '../../src/config.js';
import {
  CREDENTIAL_DIR_PREFIX,
  isCredentialDir,
  openGitAccess,
  shellQuote,
  sshCommand,
  tokenEnv,
} from '../../src/deploy/access.js';
import { parseConfig } from '../../src/config.js';
import { testContext } from '../support/context.js';
import { planEndpoint, type Endpoint } from '../../src/deploy/endpoint.js';
import { explainGitFailure } from '../../src/deploy/git-errors.js';
import { basicCredential } from '../../src/deploy/secret-shape.js';
import type { GitAccess } from '../../src/deploy/types.js';

type Inputs = Pick<DeployConfig, 'repository' | 'serverUrl' | 'key' | 'token'>;
const KEY = { key: 'key text' };
const TOKEN = { token: 'github_pat_abc' };
const GH = 'https://github.com';

describe('planEndpoint', () => {
  const table: Array<[string, Inputs, Partial<Endpoint>]> = [
    [
      'owner/name with a key: SSH to the server host',
      { repository: 'mirage/www-deployment', serverUrl: GH, ...KEY },
      {
        url: 'git@github.com:mirage/www-deployment.git',
        transport: 'ssh',
        host: 'github.com',
        display: 'mirage/www-deployment',
        webUrl: 'https://github.com/mirage/www-deployment',
      },
    ],
    [
      'owner/name with a token: HTTPS on the server',
      { repository: 'mirage/www-deployment', serverUrl: GH, ...TOKEN },
      {
        url: 'https://github.com/mirage/www-deployment.git',
        transport: 'https',
        host: 'github.com',
        webUrl: 'https://github.com/mirage/www-deployment',
      },
    ],
    [
      'owner/name.git is not doubled',
      { repository: 'mirage/www.git', serverUrl: GH, ...KEY },
      { url: 'git@github.com:mirage/www.git', display: 'mirage/www' },
    ],
    [
      'GHES server with a port: SSH uses the host name only',
      { repository: 'ops/deploy', serverUrl: 'https://ghe.example.com:8443', ...KEY },
      { url: 'git@ghe.example.com:ops/deploy.git', webUrl: 'https://ghe.example.com:8443/ops/deploy' },
    ],
    [
      'GHES server with a token keeps its port',
      { repository: 'ops/deploy', serverUrl: 'https://ghe.example.com:8443', ...TOKEN },
      { url: 'https://ghe.example.com:8443/ops/deploy.git', port: 8443 },
    ],
    [
      'ssh:// URL with a port, used as is',
      { repository: 'ssh://git@127.0.0.1:2222/srv/deploy.git', serverUrl: GH, ...KEY },
      {
        url: 'ssh://git@127.0.0.1:2222/srv/deploy.git',
        transport: 'ssh',
        host: '127.0.0.1',
        port: 2222,
        webUrl: undefined,
      },
    ],
    [
      'scp-like URL on github.com gets a web URL',
      { repository: 'git@github.com:mirage/www-deployment.git', serverUrl: GH, ...KEY },
      {
        url: 'git@github.com:mirage/www-deployment.git',
        host: 'github.com',
        port: undefined,
        webUrl: 'https://github.com/mirage/www-deployment',
      },
    ],
    [
      'ssh:// URL on the server host gets a web URL',
      { repository: 'ssh://git@ghe.example.com/ops/deploy.git', serverUrl: 'https://ghe.example.com', ...KEY },
      { webUrl: 'https://ghe.example.com/ops/deploy', display: 'ssh://git@ghe.example.com/ops/deploy.git' },
    ],
    [
      'https URL on github.com',
      { repository: 'https://github.com/mirage/www-deployment.git', serverUrl: GH, ...TOKEN },
      { transport: 'https', webUrl: 'https://github.com/mirage/www-deployment' },
    ],
    [
      'plain http to loopback is allowed (tests)',
      { repository: 'http://127.0.0.1:8080/deploy.git', serverUrl: GH, ...TOKEN },
      { transport: 'https', host: '127.0.0.1', port: 8080, webUrl: undefined },
    ],
    [
      'a deep path on github.com has no web URL',
      { repository: 'https://github.com/a/b/c.git', serverUrl: GH, ...TOKEN },
      { webUrl: undefined },
    ],
  ];
  it.each(table)('%s', (_name, inputs, expected) => {
    const endpoint = planEndpoint(inputs);
    for (const [field, value] of Object.entries(expected)) expect(endpoint[field as keyof Endpoint], field).toBe(value);
  });

  const refused: Array<[string, Inputs, string, RegExp]> = [
    [
      'https URL with a key',
      { repository: 'https://github.com/a/b.git', serverUrl: GH, ...KEY },
      'deploy-repository',
      /HTTPS URL, but `deploy-key`.*git@github\.com:/,
    ],
    [
      'ssh URL with a token',
      { repository: 'git@github.com:a/b.git', serverUrl: GH, ...TOKEN },
      'deploy-repository',
      /SSH URL, but `deploy-token`.*https:\/\/github\.com\//,
    ],
    [
      'a token inside the URL',
      { repository: 'https://x-access-token:ghs_x@github.com/a/b.git', serverUrl: GH, ...TOKEN },
      'deploy-repository',
      /user name or password.*`deploy-token`/,
    ],
    [
      'plain http to a remote host',
      { repository: 'http://git.example.com/a/b.git', serverUrl: GH, ...TOKEN },
      'deploy-repository',
      /plain HTTP.*clear text/,
    ],
    [
      'plain http server-url with a token',
      { repository: 'a/b', serverUrl: 'http://ghe.example.com', ...TOKEN },
      'server-url',
      /not HTTPS/,
    ],
    [
      'git:// URL',
      { repository: 'git://github.com/a/b.git', serverUrl: GH, ...KEY },
      'deploy-repository',
      /`git:\/\/` URLs cannot be pushed/,
    ],
    [
      'file:// URL',
      { repository: 'file:///srv/a.git', serverUrl: GH, ...KEY },
      'deploy-repository',
      /`file:\/\/` URLs/,
    ],
    ['no secret at all', { repository: 'a/b', serverUrl: GH }, 'deploy-key', /`deploy-key`.*`deploy-token`/],
  ];
  it.each(refused)('refuses %s, naming the input', (_name, inputs, input, message) => {
    try {
      planEndpoint(inputs);
      expect.unreachable('planEndpoint accepted it');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.input)).toEqual([input]);
      expect((error as ConfigError).problems[0]?.message).toMatch(message);
      expect((error as ConfigError).message).not.toContain('ghs_x');
    }
  });
});

describe('tokenEnv', () => {
  const url = 'https://github.com/mirage/www-deployment.git';
  it('clears inherited helpers and headers, then sends the token as a header keyed on the full URL', () => {
    expect(tokenEnv(url, 'tok', 0)).toEqual({
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_0: 'credential.helper',
      GIT_CONFIG_VALUE_0: '',
      GIT_CONFIG_KEY_1: `http.${url}.extraheader`,
      GIT_CONFIG_VALUE_1: '',
      GIT_CONFIG_KEY_2: `http.${url}.extraheader`,
      GIT_CONFIG_VALUE_2: `AUTHORIZATION: basic ${Buffer.from('x-access-token:tok').toString('base64')}`,
    });
  });
  it('appends after configuration entries the environment already has', () => {
    const env = tokenEnv(url, 'tok', 2);
    expect(env.GIT_CONFIG_COUNT).toBe('5');
    expect(Object.keys(env).filter((k) => k.startsWith('GIT_CONFIG_KEY_'))).toEqual([
      'GIT_CONFIG_KEY_2',
      'GIT_CONFIG_KEY_3',
      'GIT_CONFIG_KEY_4',
    ]);
  });
  it('never holds the raw token, only its basic form', () => {
    expect(JSON.stringify(tokenEnv(url, 'raw-secret-value', 0))).not.toContain('raw-secret-value');
    expect(basicCredential('raw-secret-value')).toBe(Buffer.from('x-access-token:raw-secret-value').toString('base64'));
  });
});

describe('sshCommand', () => {
  it('pins the key and the host keys, and turns off every other source of trust or identity', () => {
    expect(sshCommand('/tmp/c/key', '/tmp/c/known_hosts')).toBe(
      "ssh -F /dev/null -i '/tmp/c/key' -o 'IdentitiesOnly=yes' -o 'IdentityAgent=none' " +
        "-o 'StrictHostKeyChecking=yes' -o 'UserKnownHostsFile=/tmp/c/known_hosts' " +
        "-o 'GlobalKnownHostsFile=/dev/null' -o 'UpdateHostKeys=no' -o 'CheckHostIP=no' -o 'BatchMode=yes' -o 'ConnectTimeout=30' " +
        "-o 'ServerAliveInterval=15' -o 'ServerAliveCountMax=4'",
    );
  });
  it('survives spaces, quotes and percent signs in RUNNER_TEMP', () => {
    const cmd = sshCommand("/r t/it's 100%/key", "/r t/it's 100%/known_hosts");
    expect(cmd).toContain(`-i '/r t/it'\\''s 100%%/key'`);
    expect(cmd).toContain(`-o 'UserKnownHostsFile="/r t/it'\\''s 100%%/known_hosts"'`);
  });
  it('never turns host key checking off', () => {
    expect(sshCommand('/k', '/h')).not.toMatch(/StrictHostKeyChecking=(no|accept-new)|\/dev\/null'? -o 'Strict/);
  });
  it('quotes for sh', () => {
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
  });
});

describe('isCredentialDir', () => {
  const temp = '/home/runner/work/_temp';
  const ours = `${temp}/${CREDENTIAL_DIR_PREFIX}0b7c3a52-1f4e-4c8e-9a51-2f0d6c1e8b3d`;
  it.each([
    [ours, true],
    [`${temp}/../${CREDENTIAL_DIR_PREFIX}0b7c3a52-1f4e-4c8e-9a51-2f0d6c1e8b3d`, false],
    [`${temp}/sub/${CREDENTIAL_DIR_PREFIX}0b7c3a52-1f4e-4c8e-9a51-2f0d6c1e8b3d`, false],
    [`${temp}/${CREDENTIAL_DIR_PREFIX}x`, false],
    [temp, false],
    ['/', false],
    [`_temp/${CREDENTIAL_DIR_PREFIX}0b7c3a52-1f4e-4c8e-9a51-2f0d6c1e8b3d`, false],
  ])('%s → %s', (dir, expected) => {
    expect(isCredentialDir(dir, temp)).toBe(expected);
  });
});

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

describe('openGitAccess over HTTPS', () => {
  it("masks the token's base64 `x-access-token:` form itself, without the preflight having run", async () => {
    const token = 'github_pat_11AAAAAAA0masktesttoken';
    const ctx = testContext({ workspace: '/nonexistent', runnerTemp: '/nonexistent' });
    const inputs: Record<string, string> = {
      deploy: 'true',
      'deploy-repository': 'https://github.com/mirage/www-deployment.git',
      'deploy-token': token,
      'rollback-to': 'a'.repeat(40),
    };
    const config = parseConfig((name) => inputs[name] ?? '', ctx);
    const printed: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: unknown) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await openGitAccess(config.deploy, ctx);
    } finally {
      process.stdout.write = write;
    }
    const masks = printed.join('').match(/^::add-mask::(.*)$/gm) ?? [];
    expect(masks).toContain(`::add-mask::${Buffer.from(`x-access-token:${token}`).toString('base64')}`);
  });
});
