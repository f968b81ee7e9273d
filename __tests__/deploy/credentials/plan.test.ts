import { describe, expect, it } from 'vitest';
import { ConfigError, type DeployConfig } from '../../../src/config.js';
import {
  CREDENTIAL_FOLDERS,
  fingerprint,
  missingSecretMessage,
  planEndpoint,
  shellQuote,
  sshCommand,
  tokenEnv,
  type Endpoint,
} from '../../../src/deploy/credentials/plan.js';
import { basicCredential } from '../../../src/deploy/credentials/secret-shape.js';
import { isTempFolder } from '../../../src/temp-folders.js';

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

describe('the credentials folder', () => {
  const CREDENTIAL_DIR_PREFIX = CREDENTIAL_FOLDERS.prefix;
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
    expect(isTempFolder(CREDENTIAL_FOLDERS, dir, temp)).toBe(expected);
  });
});

describe('missingSecretMessage', () => {
  it('says how to create a deploy key and where to add it and the secret', () => {
    const message = missingSecretMessage({ repository: 'mirage/www-deployment', serverUrl: 'https://github.com' });
    expect(message).toMatch(/ssh-keygen -t ed25519/);
    expect(message).toContain('https://github.com/mirage/www-deployment/settings/keys/new');
    expect(message).toMatch(/'Allow write access'/);
    expect(message).toMatch(/gh secret set DEPLOY_KEY < deploy_key/);
    expect(message).toContain('deploy-key: ${{ secrets.DEPLOY_KEY }}');
  });
  it('has no settings link for a repository given as a URL', () => {
    expect(missingSecretMessage({ repository: 'ssh://git@h/x.git', serverUrl: 'https://github.com' })).not.toContain(
      'settings/keys',
    );
  });
});

describe('fingerprint', () => {
  it('matches ssh-keygen -l for the published github.com ed25519 key', () => {
    expect(fingerprint('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl')).toBe(
      'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU',
    );
  });
});
