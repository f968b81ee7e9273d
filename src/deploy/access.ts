import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { DeployConfig } from '../config.js';
import type { RunContext } from '../context.js';
import type { PostTask } from '../post-step.js';
import { maskSecret } from '../secrets.js';
import { appendJsonState, readJsonState, STATE } from '../state.js';
import { fingerprint, publicKeyOf } from './credentials.js';
import { planEndpoint, type Endpoint } from './endpoint.js';
import { knownHostsFor } from './known-hosts.js';
import { basicCredential, normalizeKey, tokenKind } from './secret-shape.js';
import type { GitAccess } from './types.js';

export const CREDENTIAL_DIR_PREFIX = 'mirage-deploy-credentials-';

/** Neither git nor ssh may ever stop to ask a person for anything: there is nobody to answer. */
const NO_PROMPTS = { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' } as const;

/** Single quotes for the POSIX shell that git runs GIT_SSH_COMMAND through. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** ssh expands `%` tokens in IdentityFile and UserKnownHostsFile, and splits option values at spaces. */
function sshPath(path: string): string {
  const escaped = path.replace(/%/g, '%%');
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}

/**
 * The ssh that git runs: no config file, only this key, no agent, only these host keys and never
 * trust on first use, never a prompt.
 */
export function sshCommand(keyPath: string, knownHostsPath: string): string {
  const options = [
    'IdentitiesOnly=yes',
    'IdentityAgent=none',
    'StrictHostKeyChecking=yes',
    `UserKnownHostsFile=${sshPath(knownHostsPath)}`,
    'GlobalKnownHostsFile=/dev/null',
    'UpdateHostKeys=no',
    'CheckHostIP=no',
    'BatchMode=yes',
    // A host that drops packets would otherwise hold the job for the kernel's TCP timeout, and a
    // connection that goes silent midway for ever: a minute without an answer ends it.
    'ConnectTimeout=30',
    'ServerAliveInterval=15',
    'ServerAliveCountMax=4',
  ];
  return [
    'ssh',
    '-F',
    '/dev/null',
    '-i',
    shellQuote(keyPath.replace(/%/g, '%%')),
    ...options.flatMap((option) => ['-o', shellQuote(option)]),
  ].join(' ');
}

/**
 * The token as an `http.<url>.extraheader` in git's command-line configuration scope
 * (GIT_CONFIG_COUNT/KEY/VALUE), after `existingCount` entries already there. The key names the
 * full repository URL, the most specific match git knows, and an empty value first clears every
 * extra header read before it, such as one actions/checkout left for the same host.
 */
export function tokenEnv(url: string, token: string, existingCount: number): Record<string, string> {
  const header = `AUTHORIZATION: basic ${basicCredential(token)}`;
  const entries: Array<[string, string]> = [
    ['credential.helper', ''],
    [`http.${url}.extraheader`, ''],
    [`http.${url}.extraheader`, header],
  ];
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(existingCount + entries.length) };
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${existingCount + i}`] = key;
    env[`GIT_CONFIG_VALUE_${existingCount + i}`] = value;
  });
  return env;
}

/** Only folders this module makes: directly in RUNNER_TEMP, with its prefix and a UUID. */
export function isCredentialDir(dir: string, runnerTemp: string): boolean {
  const name = basename(dir);
  return (
    isAbsolute(dir) &&
    dirname(dir) === resolve(runnerTemp) &&
    name.startsWith(CREDENTIAL_DIR_PREFIX) &&
    /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/.test(name.slice(CREDENTIAL_DIR_PREFIX.length))
  );
}

async function openSsh(deploy: DeployConfig, key: string, endpoint: Endpoint, ctx: RunContext): Promise<GitAccess> {
  const dir = join(resolve(ctx.runnerTemp), `${CREDENTIAL_DIR_PREFIX}${randomUUID()}`);
  // Registered before it exists, so that the post step removes it whatever happens from here on.
  appendJsonState(STATE.credentialDirs, dir);
  await mkdir(dirname(dir), { recursive: true });
  await mkdir(dir, { mode: 0o700 });
  const keyPath = join(dir, 'key');
  const knownHostsPath = join(dir, 'known_hosts');
  const hosts = knownHostsFor(deploy.knownHosts);
  // Created with its final mode in one open(2): there is no moment when another user could read it.
  await writeFile(keyPath, normalizeKey(key), { mode: 0o600, flag: 'wx' });
  await writeFile(knownHostsPath, hosts.text, { mode: 0o600, flag: 'wx' });
  const publicKey = await publicKeyOf({ file: keyPath });
  core.info(`deploy: SSH to ${endpoint.url} with deploy key ${fingerprint(publicKey)}; host keys: ${hosts.source}`);
  return {
    url: endpoint.url,
    display: endpoint.display,
    ...(endpoint.webUrl === undefined ? {} : { webUrl: endpoint.webUrl }),
    env: { ...NO_PROMPTS, GIT_SSH_COMMAND: sshCommand(keyPath, knownHostsPath), GIT_SSH_VARIANT: 'ssh' },
    credential: 'deploy-key',
    publicKey,
    hostKeys: deploy.knownHosts === undefined ? 'built-in' : 'input',
  };
}

function openHttps(token: string, endpoint: Endpoint): GitAccess {
  maskSecret(basicCredential(token));
  core.info(`deploy: HTTPS to ${endpoint.url} with the token in \`deploy-token\``);
  return {
    url: endpoint.url,
    display: endpoint.display,
    ...(endpoint.webUrl === undefined ? {} : { webUrl: endpoint.webUrl }),
    env: { ...NO_PROMPTS, ...tokenEnv(endpoint.url, token, 0) },
    credential: tokenKind(token) === 'installation' ? 'installation-token' : 'deploy-token',
  };
}

/**
 * Makes the deployment repository reachable for git processes, and only for them: the key and
 * host keys go into a fresh 0700 folder under RUNNER_TEMP (removed by the post step), the token
 * into git's environment. Nothing touches ~/.ssh, global git config or an ssh-agent.
 */
export async function openGitAccess(deploy: DeployConfig, ctx: RunContext): Promise<GitAccess> {
  const endpoint = planEndpoint(deploy);
  if (deploy.key !== undefined) return openSsh(deploy, deploy.key, endpoint, ctx);
  if (deploy.token !== undefined) return openHttps(deploy.token, endpoint);
  throw new Error('openGitAccess: no `deploy-key` or `deploy-token`; checkCredentials should have refused this run');
}

export const removeCredentials: PostTask = {
  name: 'remove deploy credentials',
  async run() {
    const runnerTemp = process.env.RUNNER_TEMP ?? tmpdir();
    const dirs = readJsonState<unknown>(STATE.credentialDirs, []);
    for (const dir of Array.isArray(dirs) ? dirs : []) {
      if (typeof dir !== 'string' || !isCredentialDir(dir, runnerTemp)) {
        core.warning(
          `post step: not removing ${String(dir)}: it is not a credentials folder of this action in RUNNER_TEMP`,
        );
        continue;
      }
      await rm(dir, { recursive: true, force: true });
      core.info(`removed the deploy credentials folder ${dir}`);
    }
  },
};
