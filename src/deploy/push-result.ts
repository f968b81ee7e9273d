/**
 * Reading `git push --porcelain`: did the branch move under us (fetch the new tip and try again),
 * or did the server refuse for good (fail at once, with its reason and what to do)?
 */

export type PushVerdict =
  | { readonly kind: 'pushed' }
  /** The branch moved or a concurrent push held its lock: regenerate on the new tip. */
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'refused'; readonly reason: string; readonly hint?: string };

/** Summaries of porcelain lines (`[rejected] (fetch first)`) that mean another push won the race. */
const MOVED = ['fetch first', 'non-fast-forward', 'stale info'];
/** Server messages that mean a concurrent receive-pack held the ref. */
const LOCKED = /cannot lock ref|failed to lock|Unable to create '[^']*\.lock'|incorrect old value provided/i;

/** The server's own words: its `remote:` lines, without git's framing. */
export function remoteLines(stderr: string): string[] {
  return stderr
    .split(/\r?\n/)
    .filter((l) => l.startsWith('remote:'))
    .map((l) => l.replace(/^remote:\s?/, '').trimEnd())
    .filter((l) => l.trim() !== '');
}

function hintFor(text: string, branch: string): string | undefined {
  if (/GH006|protected branch/i.test(text)) {
    return (
      `branch \`${branch}\` of the deployment repository is protected: let the deploy key or token bypass ` +
      'the protection, or set input `deploy-repository-branch` to an unprotected branch'
    );
  }
  if (/GH001|large files detected|exceeds GitHub's file size limit/i.test(text)) {
    return "a file is over GitHub's 100 MiB limit: set input `compression: xz`, or make the image smaller";
  }
  if (/pre-receive hook declined|hook declined/i.test(text)) {
    return 'a server-side hook of the deployment repository refused the push; its message above says why';
  }
  return undefined;
}

/**
 * Classifies the push of `refs/heads/<branch>`. Returns undefined when git printed no status for
 * the ref (it could not reach the server or authenticate): the caller explains that failure.
 */
export function classifyPush(
  result: { exitCode: number; stdout: string; stderr: string },
  branch: string,
): PushVerdict | undefined {
  const ref = `refs/heads/${branch}`;
  const line = result.stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .find((fields) => fields.length >= 3 && fields[1]?.endsWith(`:${ref}`));
  if (line === undefined) return undefined;
  const flag = line[0] ?? '';
  const summary = line[2] ?? '';
  if (flag !== '!') return { kind: 'pushed' };
  const reason = /\(([^)]*)\)/.exec(summary)?.[1] ?? summary;
  const server = remoteLines(result.stderr);
  if (summary.startsWith('[rejected]') && MOVED.includes(reason)) return { kind: 'retry', reason };
  if (LOCKED.test(result.stderr) || LOCKED.test(reason)) return { kind: 'retry', reason: 'the ref was locked' };
  const said = server.length ? `${summary}: ${server.join(' ')}` : summary;
  const hint = hintFor(`${summary}\n${result.stderr}`, branch);
  return hint === undefined ? { kind: 'refused', reason: said } : { kind: 'refused', reason: said, hint };
}

export const MAX_PUSH_ATTEMPTS = 12;

/** How many times one git command is tried when the transport, not the server's verdict, failed. */
export const MAX_TRANSPORT_ATTEMPTS = 4;

/**
 * Failures of the connection or of the server's front end that a later try can get past: an HTTP
 * 5xx, a reset or dropped connection, sshd refusing a connection over its MaxStartups. A refusal
 * (authentication, permissions, a missing repository, a host key) never is; nor is a command
 * killed at its deadline, which would only hang again.
 */
const TRANSIENT =
  /returned error: 5\d\d|kex_exchange_identification|Connection reset by peer|Connection closed by (remote host|\S+ port \d+)|the remote end hung up unexpectedly|early EOF|RPC failed|unexpected disconnect while reading sideband packet|gnutls_handshake\(\) failed|SSL_ERROR_SYSCALL|Empty reply from server/i;
const PERMANENT =
  /Permission denied|Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|returned error: 40\d|Repository not found|not found|Authentication failed|Could not resolve host/i;

export function isTransientFailure(result: { exitCode: number; stderr: string; timedOut?: boolean }): boolean {
  return (
    result.exitCode !== 0 && result.timedOut !== true && TRANSIENT.test(result.stderr) && !PERMANENT.test(result.stderr)
  );
}

/**
 * Milliseconds to wait before attempt `attempt` (2, 3, …): exponential with "equal jitter", so
 * that a matrix of jobs that lost the same race spread out instead of colliding again.
 */
export function retryDelay(attempt: number, random: () => number): number {
  const ceiling = Math.min(8_000, 250 * 2 ** Math.max(0, attempt - 2));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
