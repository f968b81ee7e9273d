/**
 * Pure decisions of the albatross deploy: albatross-client's command lines, what its exit codes
 * mean (and which input fixes them), whether `info` lists the unikernel, which endpoints get the
 * previous image back, and the `albatross-running` output.
 */
import type { AlbatrossConfig } from '../config.js';

/** The files the client reads: the CA's key and certificate, and the endpoints' CA. */
export interface ClientFiles {
  readonly caKey: string;
  readonly caCert: string;
  readonly serverCa: string;
}

/** What one endpoint is asked to run. */
export interface CreateRequest {
  readonly name: string;
  readonly image: string;
  readonly bootArgs: readonly string[];
}

export type EndpointState = 'running' | 'failed' | 'restored';

/** One endpoint's deploy, as far as it went. */
export interface EndpointResult {
  readonly endpoint: string;
  /** `create` succeeded: the endpoint no longer runs what it ran before. */
  readonly changed: boolean;
  readonly running: boolean;
}

/** Every command goes to one endpoint over TLS: a fresh certificate signed by the CA embeds it. */
export function remoteArgs(files: ClientFiles, endpoint: string): string[] {
  return [
    `--ca=${files.caCert}`,
    `--ca-key=${files.caKey}`,
    `--server-ca=${files.serverCa}`,
    `--destination=${endpoint}`,
  ];
}

/** `create --force`: albatross destroys the unikernel of that name first, in one command. */
export function createArgs(config: AlbatrossConfig, request: CreateRequest): string[] {
  return [
    'create',
    '--force',
    ...request.bootArgs.map((arg) => `--arg=${arg}`),
    ...(config.memory === undefined ? [] : [`--mem=${config.memory}`]),
    ...(config.cpuid === undefined ? [] : [`--cpu=${config.cpuid}`]),
    ...config.network.map((net) => `--net=${net}`),
    ...config.block.map((block) => `--block=${block}`),
    ...(config.restartOnFail ? ['--restart-on-fail'] : []),
    // An argument starting with `-` is never an option once `--` has passed.
    '--',
    request.name,
    request.image,
  ];
}

export function infoArgs(name: string): string[] {
  return ['info', `--name=${name}`];
}

/** The console's buffered lines: the client then waits for more, so the caller ends it. */
export function consoleArgs(name: string): string[] {
  return ['console', '--', name];
}

/**
 * Whether `info`'s text lists the unikernel `name` (`[unikernel: :name]`, or `:subca:name` under a
 * delegated CA). Albatross removes a unikernel that exited (and is not restarted), so a listed
 * unikernel is one that still runs.
 */
export function isListed(infoOutput: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // The client's pretty-printer wraps long lines anywhere between words.
  return new RegExp(`\\[unikernel: [^\\]]*:${escaped}\\]:\\s+typ\\s`).test(infoOutput);
}

/** What a failed client call means, naming the input that fixes it. */
export function explainExit(exitCode: number, endpoint: string): string {
  switch (exitCode) {
    case 116:
      return (
        `${endpoint} did not accept the certificate signed with \`albatross-ca-key\` (the server itself matched ` +
        '`albatross-server-ca`); give the key and certificate of a CA that endpoint trusts (its CA, or a sub-CA it delegated)'
      );
    case 117:
      return `${endpoint} refused the command (a policy of \`albatross-ca-key\`'s CA, memory, CPU, bridge or block device)`;
    case 122:
      return `input \`albatross-endpoints\`: ${endpoint} could not be reached; check the host, the port and the firewall`;
    case 124:
      return `albatross-client refused the command or the image (exit 124): see its message above`;
    default:
      return `albatross-client failed with exit code ${exitCode} on ${endpoint}`;
  }
}

/**
 * The endpoints that get the previous image back after a failure: each one `create` changed,
 * the failed one included (its old unikernel was destroyed by `--force`).
 */
export function endpointsToRestore(results: readonly EndpointResult[]): string[] {
  return results.filter((r) => r.changed).map((r) => r.endpoint);
}

/** `albatross-running`: every endpoint reached, in deploy order. */
export function runningOutput(
  results: readonly EndpointResult[],
  restored: ReadonlySet<string>,
): Record<string, EndpointState> {
  return Object.fromEntries(
    results.map((r) => [r.endpoint, r.running ? (restored.has(r.endpoint) ? 'restored' : 'running') : 'failed']),
  );
}

/** The last `count` lines of a console's output, without the client's own status line. */
export function consoleLines(output: string, count = 30): string[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\S+ \[unikernel: [^\]]*\]: success: subscribed$/.test(line))
    .slice(-count);
}
