/**
 * The pure decisions of the deploy credentials: where the deployment repository is and how git
 * reaches it (the endpoint, from `deploy-repository`, `server-url` and which secret is set), the
 * ssh command and token configuration git runs with, and the messages about a missing secret.
 */
import { ConfigError, redactUrl, type DeployConfig } from '../../config.js';
import { defined } from '../../defined.js';
import { keyBlobFingerprint } from '../../hash.js';
import { OWNER_NAME, SCP_LIKE } from '../../patterns.js';
import { STATE } from '../../state.js';
import type { TempFolderKind } from '../../temp-folders.js';
import type { KnownHosts } from './known-hosts.js';
import { basicCredential } from './secret-shape.js';

export type Transport = 'ssh' | 'https';

/** Where the deployment repository is and how git reaches it; never holds a credential. */
export interface Endpoint {
  readonly url: string;
  readonly transport: Transport;
  readonly host: string;
  /** Absent for the transport's default port (scp-like URLs cannot name one). */
  readonly port?: number;
  /** `owner/name`, or the URL as given. */
  readonly display: string;
  readonly webUrl?: string;
}

type EndpointInputs = Pick<DeployConfig, 'repository' | 'serverUrl' | 'key' | 'token'>;

export function refuse(input: string, message: string): never {
  throw new ConfigError([{ input, message }]);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** `https://host/owner/name` for a repository path on github.com or on `server-url`'s host. */
function webUrlFor(host: string, path: string, serverUrl: string): string | undefined {
  const server = new URL(serverUrl);
  const m = /^\/?([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(\.git)?\/?$/.exec(path);
  if (!m) return undefined;
  if (host === 'github.com') return `https://github.com/${m[1]}/${m[2]}`;
  if (host === server.hostname) return `${server.origin}/${m[1]}/${m[2]}`;
  return undefined;
}

function credentialInput(inputs: EndpointInputs): 'deploy-key' | 'deploy-token' {
  if (inputs.key !== undefined) return 'deploy-key';
  if (inputs.token !== undefined) return 'deploy-token';
  return refuse(
    'deploy-key',
    'is empty; set `deploy-key` (SSH) or `deploy-token` (HTTPS) to reach the deployment repository',
  );
}

function fromOwnerName(inputs: EndpointInputs, owner: string, name: string): Endpoint {
  const server = new URL(inputs.serverUrl);
  const repo = `${owner}/${name.replace(/\.git$/, '')}`;
  const webUrl = `${server.origin}/${repo}`;
  if (credentialInput(inputs) === 'deploy-key') {
    return {
      url: `git@${server.hostname}:${repo}.git`,
      transport: 'ssh',
      host: server.hostname,
      display: repo,
      webUrl,
    };
  }
  if (server.protocol !== 'https:' && !isLoopback(server.hostname)) {
    refuse(
      'server-url',
      `\`${inputs.serverUrl}\` is not HTTPS; the token would cross the network in clear text. Use https://`,
    );
  }
  return {
    url: `${server.origin}/${repo}.git`,
    transport: 'https',
    host: server.hostname,
    ...(server.port ? { port: Number(server.port) } : {}),
    display: repo,
    webUrl,
  };
}

/** Where a full URL points: its transport, host, port and path, refused when git cannot push there. */
function parseRepositoryUrl(given: string): { transport: Transport; host: string; port?: number; path: string } {
  const shown = redactUrl(given);
  const scp = SCP_LIKE.exec(given);
  if (scp?.[2] && scp[3]) return { transport: 'ssh', host: scp[2], path: scp[3] };
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return refuse(
      'deploy-repository',
      `\`${shown}\` is not a URL git can use; write \`owner/name\`, \`git@host:path.git\`, \`ssh://git@host:port/path.git\` or \`https://host/path.git\``,
    );
  }
  const transport = url.protocol === 'ssh:' ? 'ssh' : ['https:', 'http:'].includes(url.protocol) ? 'https' : undefined;
  if (transport === undefined) {
    return refuse(
      'deploy-repository',
      `\`${url.protocol}//\` URLs cannot be pushed to with a deploy key or token; use \`ssh://\`, \`git@host:path.git\` or \`https://\``,
    );
  }
  if (transport === 'https' && (url.username !== '' || url.password !== '')) {
    refuse(
      'deploy-repository',
      'holds a user name or password; a URL is printed in logs and kept in `.git/config`, so pass the token through `deploy-token` and give the URL without it',
    );
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    refuse(
      'deploy-repository',
      `\`${shown}\` is plain HTTP; the token would cross the network in clear text. Use https://`,
    );
  }
  return {
    transport,
    host: url.hostname,
    ...defined({ port: url.port === '' ? undefined : Number(url.port) }),
    path: url.pathname,
  };
}

function fromUrl(inputs: EndpointInputs, given: string): Endpoint {
  const shown = redactUrl(given);
  const { transport, host, port, path } = parseRepositoryUrl(given);
  const input = credentialInput(inputs);
  if (transport === 'https' && input === 'deploy-key') {
    refuse(
      'deploy-repository',
      `\`${shown}\` is an HTTPS URL, but \`deploy-key\` is an SSH key; use the SSH form (\`git@${host}:…\` or \`ssh://git@${host}/…\`), or pass a token through \`deploy-token\` instead`,
    );
  }
  if (transport === 'ssh' && input === 'deploy-token') {
    refuse(
      'deploy-repository',
      `\`${shown}\` is an SSH URL, but \`deploy-token\` is a token for HTTPS; use \`https://${host}/…\`, or pass an SSH key through \`deploy-key\` instead`,
    );
  }
  const webUrl = webUrlFor(host, path, inputs.serverUrl);
  return {
    url: given,
    transport,
    host,
    display: shown,
    ...defined({ port, webUrl }),
  };
}

/**
 * Decides the clone URL from `deploy-repository`, `server-url` and which secret is set: an
 * `owner/name` becomes `git@host:owner/name.git` with a key or `<server-url>/owner/name.git` with a
 * token; a full URL is used as is, after checking that it suits the secret.
 */
export function planEndpoint(inputs: EndpointInputs): Endpoint {
  const owner = OWNER_NAME.exec(inputs.repository);
  if (owner?.[1] && owner[2]) return fromOwnerName(inputs, owner[1], owner[2]);
  return fromUrl(inputs, inputs.repository);
}

/**
 * An authenticated way to reach the deployment repository, made by openGitAccess for the
 * repository writer. Credentials live only in `env`, which is merged into the environment of each
 * git process: never in a URL, an argument or a `.git/config`.
 */
export interface GitAccess {
  /** What git fetches from and pushes to; never holds a credential. */
  readonly url: string;
  /** The repository as shown to people: `owner/name`, or the URL. */
  readonly display: string;
  /** Web page of the repository, when the host is known to serve one (for `deploy-url`). */
  readonly webUrl?: string;
  /** Additions to the environment of every git process (GIT_SSH_COMMAND, GIT_CONFIG_* …). */
  readonly env: Readonly<Record<string, string>>;
  /** Which secret authenticates, so that a server's refusal can name the input to fix. */
  readonly credential?: CredentialKind;
  /** The deploy key's public half (`ssh-ed25519 AAAA…`), not secret: what to add to the repository. */
  readonly publicKey?: string;
  /** Over SSH: whether the pinned host keys are the built-in github.com ones or the `known-hosts` input. */
  readonly hostKeys?: 'built-in' | 'input';
  /** Over SSH: the folder holding the key, for a job done with it before anything builds (`rebuild`). */
  readonly keyFolder?: string;
}

/** `installation-token` is a `ghs_` token: a GitHub App's, or the workflow's own GITHUB_TOKEN. */
export type CredentialKind = 'deploy-key' | 'deploy-token' | 'installation-token';

/** The secret the preflight checked, in the form the later steps use. */
export type ClearedSecret =
  | {
      readonly kind: 'deploy-key';
      /** normalizeKey()'s form: what is written to the key file. */
      readonly key: string;
      /** Its public half (`ssh-ed25519 AAAA…`), from ssh-keygen. */
      readonly publicKey: string;
      readonly hosts: KnownHosts;
    }
  | { readonly kind: 'deploy-token'; readonly token: string };

/**
 * What the preflight hands to the deploy after the build: the endpoint and the checked secret, so
 * that nothing is planned, normalised or derived twice.
 */
export interface Cleared {
  readonly endpoint: Endpoint;
  readonly secret: ClearedSecret;
}

/** The folder of the key and host keys: a UUID makes its name unguessable before it exists. */
export const CREDENTIAL_FOLDERS: TempFolderKind = {
  prefix: 'mirage-deploy-credentials-',
  suffix: /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/,
  state: STATE.credentialDirs,
  what: 'credentials folder',
};

/** Neither git nor ssh may ever stop to ask a person for anything: there is nobody to answer. */
export const NO_PROMPTS = { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' } as const;

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
