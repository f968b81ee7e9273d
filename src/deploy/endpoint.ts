import { ConfigError, redactUrl, type DeployConfig } from '../config.js';
import { OWNER_NAME, SCP_LIKE } from '../patterns.js';
import { defined } from '../defined.js';

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

function fail(input: string, message: string): never {
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
  return fail(
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
    fail(
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

function fromUrl(inputs: EndpointInputs, given: string): Endpoint {
  const shown = redactUrl(given);
  const scp = SCP_LIKE.exec(given);
  let transport: Transport;
  let host: string;
  let port: number | undefined;
  let path: string;
  if (scp?.[2] && scp[3]) {
    transport = 'ssh';
    host = scp[2];
    path = scp[3];
  } else {
    let url: URL;
    try {
      url = new URL(given);
    } catch {
      return fail(
        'deploy-repository',
        `\`${shown}\` is not a URL git can use; write \`owner/name\`, \`git@host:path.git\`, \`ssh://git@host:port/path.git\` or \`https://host/path.git\``,
      );
    }
    if (url.protocol === 'ssh:') transport = 'ssh';
    else if (url.protocol === 'https:' || url.protocol === 'http:') transport = 'https';
    else {
      return fail(
        'deploy-repository',
        `\`${url.protocol}//\` URLs cannot be pushed to with a deploy key or token; use \`ssh://\`, \`git@host:path.git\` or \`https://\``,
      );
    }
    if (transport === 'https' && (url.username !== '' || url.password !== '')) {
      fail(
        'deploy-repository',
        'holds a user name or password; a URL is printed in logs and kept in `.git/config`, so pass the token through `deploy-token` and give the URL without it',
      );
    }
    if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
      fail(
        'deploy-repository',
        `\`${shown}\` is plain HTTP; the token would cross the network in clear text. Use https://`,
      );
    }
    host = url.hostname;
    port = url.port === '' ? undefined : Number(url.port);
    path = url.pathname;
  }
  const input = credentialInput(inputs);
  if (transport === 'https' && input === 'deploy-key') {
    fail(
      'deploy-repository',
      `\`${shown}\` is an HTTPS URL, but \`deploy-key\` is an SSH key; use the SSH form (\`git@${host}:…\` or \`ssh://git@${host}/…\`), or pass a token through \`deploy-token\` instead`,
    );
  }
  if (transport === 'ssh' && input === 'deploy-token') {
    fail(
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
