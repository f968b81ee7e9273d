/**
 * The deploy secret made usable by git after the build, and only by git: the key and host keys in a
 * fresh 0700 folder under RUNNER_TEMP, the token in git's environment (`openGitAccess`); the post
 * step removes the folder whatever happened (`removeCredentials`).
 */
import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { RunContext } from '../../context.js';
import { defined } from '../../defined.js';
import { maskSecret } from '../../secrets.js';
import { appendJsonState } from '../../state.js';
import { removeTempFolders } from '../../temp-folders.js';
import {
  CREDENTIAL_FOLDERS,
  fingerprint,
  NO_PROMPTS,
  sshCommand,
  tokenEnv,
  type Cleared,
  type Endpoint,
  type GitAccess,
} from './plan.js';
import { basicCredential, tokenKind } from './secret-shape.js';

async function openSsh(
  endpoint: Endpoint,
  secret: Extract<Cleared['secret'], { kind: 'deploy-key' }>,
  ctx: RunContext,
): Promise<GitAccess> {
  const dir = join(resolve(ctx.runnerTemp), `${CREDENTIAL_FOLDERS.prefix}${randomUUID()}`);
  // Registered before it exists, so that the post step removes it whatever happens from here on.
  appendJsonState(CREDENTIAL_FOLDERS.state, dir);
  await mkdir(dirname(dir), { recursive: true });
  await mkdir(dir, { mode: 0o700 });
  const keyPath = join(dir, 'key');
  const knownHostsPath = join(dir, 'known_hosts');
  // Created with its final mode in one open(2): there is no moment when another user could read it.
  await writeFile(keyPath, secret.key, { mode: 0o600, flag: 'wx' });
  await writeFile(knownHostsPath, secret.hosts.text, { mode: 0o600, flag: 'wx' });
  core.info(
    `deploy: SSH to ${endpoint.url} with deploy key ${fingerprint(secret.publicKey)}; host keys: ${secret.hosts.source}`,
  );
  return {
    url: endpoint.url,
    display: endpoint.display,
    ...defined({ webUrl: endpoint.webUrl }),
    env: { ...NO_PROMPTS, GIT_SSH_COMMAND: sshCommand(keyPath, knownHostsPath), GIT_SSH_VARIANT: 'ssh' },
    credential: 'deploy-key',
    publicKey: secret.publicKey,
    hostKeys: secret.hosts.source === 'input `known-hosts`' ? 'input' : 'built-in',
    keyFolder: dir,
  };
}

function openHttps(endpoint: Endpoint, token: string): GitAccess {
  maskSecret(basicCredential(token));
  core.info(`deploy: HTTPS to ${endpoint.url} with the token in \`deploy-token\``);
  return {
    url: endpoint.url,
    display: endpoint.display,
    ...defined({ webUrl: endpoint.webUrl }),
    env: { ...NO_PROMPTS, ...tokenEnv(endpoint.url, token, 0) },
    credential: tokenKind(token) === 'installation' ? 'installation-token' : 'deploy-token',
  };
}

/**
 * Makes the deployment repository reachable for git processes, and only for them: the key and
 * host keys go into a fresh 0700 folder under RUNNER_TEMP (removed by the post step), the token
 * into git's environment. Nothing touches ~/.ssh, global git config or an ssh-agent.
 */
export async function openGitAccess(cleared: Cleared, ctx: RunContext): Promise<GitAccess> {
  const { endpoint, secret } = cleared;
  return secret.kind === 'deploy-key' ? openSsh(endpoint, secret, ctx) : openHttps(endpoint, secret.token);
}

export const removeCredentials = removeTempFolders(CREDENTIAL_FOLDERS, 'remove deploy credentials');
