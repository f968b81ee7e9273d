/**
 * The preflight of the deploy secret, run before anything is downloaded or built when the gate says
 * yes: it refuses a missing, misplaced or unusable secret at once, and returns what the deploy
 * needs after the build (`Cleared`) so that nothing is planned or derived twice.
 */
import * as core from '@actions/core';
import type { DeployConfig } from '../../config.js';
import { maskSecret } from '../../secrets.js';
import { FINGERPRINTS_PAGE, knownHostsFor, knownHostsName, revokedKeyLine, type KnownHosts } from './known-hosts.js';
import { fingerprint, missingSecretMessage, planEndpoint, refuse, type Cleared, type Endpoint } from './plan.js';
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
