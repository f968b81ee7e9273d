/**
 * How long a network step may take before the action gives up on it. A server that accepts a
 * connection and never answers would otherwise hold the job until the runner's own timeout (six
 * hours on GitHub), leaving git and ssh processes and work folders behind.
 */
import { onCancel } from './cancel.js';

/**
 * For the test suite only: caps every deadline below at this many milliseconds, so that tests of
 * servers that never answer end in seconds. Documented in docs/layout.md; never set it in a workflow.
 */
export const TEST_DEADLINE_ENV = 'MIRAGE_DEPLOY_TEST_DEADLINE_MS';

/** One git command on the deployment repository (clone, fetch, one push attempt). */
export const GIT_DEADLINE_MS = 15 * 60_000;
/**
 * A push attempt that prints no new byte of progress (`git push --progress`) for this long has
 * stalled: the server stopped reading or answering while the connection stays up (ssh's
 * keep-alives still answered), which git's own transfer limits do not see over SSH. It is
 * stopped, the branch read again (the push may have landed), and tried once more.
 */
export const PUSH_STALL_MS = 2 * 60_000;
/** One cache restore or save, download or upload included. */
export const CACHE_DEADLINE_MS = 20 * 60_000;
/**
 * The cache service's answer to a lookup, connecting included: a service that answers at all does
 * so in well under a second, so one that has not after this is taken as down for the run.
 */
export const CACHE_ANSWER_DEADLINE_MS = 15_000;
/** The download of opam's release binary (about 10 MB; tens of seconds on a poor link). */
export const OPAM_DOWNLOAD_DEADLINE_MS = 5 * 60_000;
/** Downloading albatross-client (input `albatross-client` as a URL). */
export const ALBATROSS_CLIENT_DOWNLOAD_DEADLINE_MS = 5 * 60_000;
/** Connecting to a server for one of opam's downloads (curl's --connect-timeout). */
export const CONNECT_SECONDS = 30;
/** One request of a GitHub deployment record (`github-token`). */
export const GITHUB_API_DEADLINE_MS = 20_000;
/**
 * `wait-for-host`: the record's statuses are asked again after HOST_POLL_FIRST_MS, the pause doubling
 * up to HOST_POLL_INTERVAL_MS: a host that reports within seconds is seen within seconds, and a slow
 * one costs a request every 10 s.
 */
export const HOST_POLL_FIRST_MS = 1_000;
export const HOST_POLL_INTERVAL_MS = 10_000;
/**
 * Waiting for apt's and dpkg's locks (unattended-upgrades on a fresh VM, another job of the same
 * machine): apt-get update and install are retried, and dpkg's lock waited for, until this much
 * time has passed since the first attempt.
 */
export const APT_LOCK_DEADLINE_MS = 5 * 60_000;
/** A transfer slower than this many bytes a second ... */
export const LOW_SPEED_BYTES = 1000;
/** ... for this many seconds is a stalled one (git's http.lowSpeedLimit/Time). */
export const LOW_SPEED_SECONDS = 60;

/** `ms`, or less when the test variable asks for shorter deadlines. */
export function deadline(ms: number): number {
  const cap = Number(process.env[TEST_DEADLINE_ENV] ?? '');
  return Number.isInteger(cap) && cap > 0 ? Math.min(ms, cap) : ms;
}

/**
 * One push attempt's whole-command bound: git's, and never under two progress deadlines, so that a
 * stalled push is always stopped as one (under the test variable too, which caps both alike).
 */
export function pushDeadline(): number {
  return Math.max(deadline(GIT_DEADLINE_MS), 2 * deadline(PUSH_STALL_MS));
}

/** A deadline in whole seconds, for messages and for git's own settings (at least 1). */
export function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export const TIMED_OUT = Symbol('timed out');

/**
 * `work`'s value, or TIMED_OUT once `ms` have passed or the job is cancelled (src/cancel.ts). The
 * work is abandoned, not stopped: use it only for clients that cannot be cancelled, and end the
 * process when the step is done.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: () => boolean = () => false;
  const expiry = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
    unsubscribe = onCancel(() => resolve(TIMED_OUT));
  });
  try {
    return await Promise.race([work, expiry]);
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}

/** One albatross-client command on an endpoint (`create` uploads the image). */
export const ALBATROSS_COMMAND_DEADLINE_MS = 5 * 60_000;
/** The TLS handshake that checks an endpoint's certificate against `albatross-server-ca`. */
export const ALBATROSS_PROBE_DEADLINE_MS = 20_000;
/** Reading a console's buffered lines: the client then waits for more, and is ended here. */
export const ALBATROSS_CONSOLE_MS = 5_000;
