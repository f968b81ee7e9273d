import * as core from '@actions/core';
import { keyBlobFingerprint } from '../hash.js';
import { constants } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type DeployConfig } from '../config.js';
import { mustRun, runCommand, type CommandResult } from '../exec.js';
import { maskSecret } from '../secrets.js';
import { planEndpoint, type Endpoint } from './endpoint.js';
import { FINGERPRINTS_PAGE, knownHostsFor, knownHostsName, revokedKeyLine } from './known-hosts.js';
import { basicCredential, keyProblem, normalizeKey, tokenKind, tokenProblem } from './secret-shape.js';
import { OWNER_NAME } from '../patterns.js';

function refuse(input: string, message: string): never {
  throw new ConfigError([{ input, message }]);
}

/** How to make the missing secret, with links where the repository's host is known. */
export function missingSecretMessage(deploy: Pick<DeployConfig, 'repository' | 'serverUrl'>): string {
  const isOwnerName = OWNER_NAME.test(deploy.repository);
  const keysPage = isOwnerName ? ` (${deploy.serverUrl}/${deploy.repository}/settings/keys/new)` : '';
  return (
    `is empty, but this run deploys to ${deploy.repository || 'the deployment repository'}; a secret that is not ` +
    'set, or not given to this workflow (pull requests from forks and Dependabot runs get none), reads as empty. ' +
    "Create a deploy key with `ssh-keygen -t ed25519 -N '' -C mirage-deploy -f deploy_key`; add `deploy_key.pub` " +
    `to the deployment repository under Settings → Deploy keys → Add deploy key${keysPage} with 'Allow write ` +
    "access' checked; store the private key as an Actions secret of the repository that runs this workflow " +
    '(`gh secret set DEPLOY_KEY < deploy_key`, or Settings → Secrets and variables → Actions); then pass ' +
    '`deploy-key: ${{ secrets.DEPLOY_KEY }}`. Or pass `deploy-token` a token with contents:write on the deployment repository'
  );
}

/** `SHA256:…` of an OpenSSH public key line, as `ssh-keygen -l` prints it. */
export function fingerprint(publicKey: string): string {
  const blob = publicKey.trim().split(/\s+/)[1] ?? '';
  return `SHA256:${keyBlobFingerprint(blob)}`;
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Writes `text` into a FIFO once a reader has opened it; gives up when `finished` says the reader is gone. */
async function feed(fifo: string, text: string, finished: () => boolean): Promise<void> {
  // Non-blocking throughout, so that a reader that never comes, or stops reading, cannot hang the
  // run: the open fails with ENXIO until the reader is there, a full pipe gives EAGAIN, and a
  // reader that has read all it wanted gives EPIPE.
  let handle;
  for (;;) {
    try {
      handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
      if (finished()) return;
      await pause();
    }
  }
  try {
    const bytes = Buffer.from(text, 'utf8');
    for (let offset = 0; offset < bytes.length;) {
      try {
        offset += (await handle.write(bytes, offset)).bytesWritten;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') return;
        if (code !== 'EAGAIN' || finished()) throw error;
        await pause();
      }
    }
  } finally {
    await handle.close();
  }
}

/**
 * Runs `ssh-keygen` on text handed through a named pipe in a fresh 0700 folder, so that the text is
 * never stored in a file. A plain stdin will not do: Node's child stdin is a socket, and
 * ssh-keygen opens its input by path, which a socket cannot be.
 */
async function sshKeygenOn(text: string, args: (path: string) => string[]): Promise<CommandResult> {
  const dir = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'mirage-deploy-check-'));
  try {
    const fifo = join(dir, 'input');
    await mustRun('mkfifo', ['-m', '600', fifo], { silent: true });
    let finished = false;
    const running = runCommand('ssh-keygen', args(fifo), { silent: true }).finally(() => {
      finished = true;
    });
    const [result] = await Promise.all([running, feed(fifo, text, () => finished)]);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The public half of a private key, via `ssh-keygen -y`: ssh's own parser is the only reliable
 * judge of what ssh accepts. An empty passphrase is given so that it never prompts.
 */
export async function publicKeyOf(key: { text: string } | { file: string }): Promise<string> {
  const result =
    'file' in key
      ? await runCommand('ssh-keygen', ['-y', '-P', '', '-f', key.file], { silent: true })
      : await sshKeygenOn(key.text, (path) => ['-y', '-P', '', '-f', path]);
  if (result.exitCode === 0 && /^\S+ AAAA/.test(result.stdout)) return result.stdout.trim();
  const said = result.stderr.replace(/Load key "[^"]*": /g, '').trim() || `exit code ${result.exitCode}`;
  return refuse(
    'deploy-key',
    `is not a private key that ssh can read (ssh-keygen: ${said}); store the whole key file in the secret, ` +
      'from its `-----BEGIN` line to its `-----END` line, or make a new one with ' +
      "`ssh-keygen -t ed25519 -N '' -f deploy_key`",
  );
}

/** Refuses known_hosts lines that could never let the connection through, before any is made. */
async function checkKnownHosts(deploy: DeployConfig, endpoint: Endpoint): Promise<void> {
  const hosts = knownHostsFor(deploy.knownHosts);
  const revoked = revokedKeyLine(hosts.text);
  if (revoked !== undefined) {
    refuse(
      'known-hosts',
      `line ${revoked} is github.com's old RSA key, revoked on 24 March 2023 after it was exposed; remove it ` +
        `(the current keys are built in, see ${FINGERPRINTS_PAGE})`,
    );
  }
  const name = knownHostsName(endpoint.host, endpoint.port);
  const found = await sshKeygenOn(hosts.text, (path) => ['-F', name, '-f', path]);
  if (found.exitCode === 0) return;
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
export async function checkCredentials(deploy: DeployConfig): Promise<void> {
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
    const publicKey = await publicKeyOf({ text: normalizeKey(deploy.key) });
    await checkKnownHosts(deploy, endpoint);
    const name = knownHostsName(endpoint.host, endpoint.port);
    core.info(
      `deploy key ${fingerprint(publicKey)} is a usable key; ${name} must present a host key from ${knownHostsFor(deploy.knownHosts).source}`,
    );
  } else if (deploy.token !== undefined && tokenKind(deploy.token) === 'installation') {
    core.info(
      "`deploy-token` is a `ghs_` installation token: a GitHub App token works, but the workflow's own " +
        'GITHUB_TOKEN is one too, and it cannot push to any repository but the one running the workflow',
    );
  }
}
