/**
 * The deploy secret's effects: the preflight that checks it before anything is downloaded or built
 * (`preflight`, returning what the deploy needs), the key and host keys written for git after the
 * build (`openGitAccess`), and their removal by the post step (`removeCredentials`).
 */
import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { DeployConfig } from '../../config.js';
import { defined } from '../../defined.js';
import type { RunContext } from '../../context.js';
import { maskSecret } from '../../secrets.js';
import { appendJsonState } from '../../state.js';
import { removeTempFolders } from '../../temp-folders.js';
import { FINGERPRINTS_PAGE, knownHostsFor, knownHostsName, revokedKeyLine, type KnownHosts } from './known-hosts.js';
import {
  CREDENTIAL_FOLDERS,
  fingerprint,
  missingSecretMessage,
  NO_PROMPTS,
  planEndpoint,
  refuse,
  sshCommand,
  tokenEnv,
  type Cleared,
  type Endpoint,
  type GitAccess,
} from './plan.js';
import { basicCredential, keyProblem, normalizeKey, tokenKind, tokenProblem } from './secret-shape.js';
import { hasKnownHost, publicKeyOf } from './ssh-keygen.js';

/** Refuses known_hosts lines that could never let the connection through, before any is made. */
async function checkKnownHosts(deploy: DeployConfig, hosts: KnownHosts, endpoint: Endpoint): Promise<void> {
  const revoked = revokedKeyLine(hosts.text);
  if (revoked !== undefined) {
    refuse(
      'known-hosts',
      `line ${revoked} is github.com's old RSA key, revoked on 24 March 2023 after it was exposed; remove it ` +
        `(the current keys are built in, see ${FINGERPRINTS_PAGE})`,
    );
  }
  const name = knownHostsName(endpoint.host, endpoint.port);
  if (await hasKnownHost(hosts.text, name)) return;
  refuse(
    'known-hosts',
    deploy.knownHosts === undefined
      ? `is empty, and the built-in host keys are github.com's only, so ${name} cannot be verified; set ` +
          '`known-hosts` to its known_hosts lines from a trusted source (GitHub Enterprise Server lists its ' +
          `keys in the \`ssh_keys\` field of ${deploy.serverUrl}/api/v3/meta)`
      : `has no line for ${name}, the host of \`deploy-repository\`; add that host's keys, written \`${name} keytype base64\``,
  );
}

/**
 * The preflight that runs before any download or build when the gate says yes: a missing,
 * misplaced or unusable secret fails the run now, not after a long build, and without any
 * network use. The token's derived form is masked here, before anything could print it.
 */
export async function preflight(deploy: DeployConfig): Promise<Cleared> {
  if (deploy.key === undefined && deploy.token === undefined) refuse('deploy-key', missingSecretMessage(deploy));
  if (deploy.token !== undefined) {
    maskSecret(basicCredential(deploy.token));
    const problem = tokenProblem(deploy.token);
    if (problem) refuse('deploy-token', problem);
  }
  if (deploy.key !== undefined) {
    const problem = keyProblem(deploy.key);
    if (problem) refuse('deploy-key', problem);
  }
  const endpoint = planEndpoint(deploy);
  if (deploy.key !== undefined) {
    const key = normalizeKey(deploy.key);
    const publicKey = await publicKeyOf(key);
    const hosts = knownHostsFor(deploy.knownHosts);
    await checkKnownHosts(deploy, hosts, endpoint);
    const name = knownHostsName(endpoint.host, endpoint.port);
    core.info(
      `deploy key ${fingerprint(publicKey)} is a usable key; ${name} must present a host key from ${hosts.source}`,
    );
    return { endpoint, secret: { kind: 'deploy-key', key, publicKey, hosts } };
  }
  const token = deploy.token as string;
  if (tokenKind(token) === 'installation') {
    core.info(
      "`deploy-token` is a `ghs_` installation token: a GitHub App token works, but the workflow's own " +
        'GITHUB_TOKEN is one too, and it cannot push to any repository but the one running the workflow',
    );
  }
  return { endpoint, secret: { kind: 'deploy-token', token } };
}

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
