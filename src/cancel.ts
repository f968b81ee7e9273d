/**
 * A cancelled job: the runner sends SIGINT, then SIGTERM 7.5 s later, then SIGKILL. On the first
 * signal every network step stops at once (each kills its process group, every pending deadline
 * expires) and no new one starts, so a cancelled job pushes nothing more; what already happened
 * (a push git reported done) is still reported, which takes the step a moment. A second signal, or
 * that moment passing, ends the process. SIGKILL cannot be caught: the network commands die with
 * this process through their parent-death signal (see src/exec.ts).
 */
import * as core from '@actions/core';

/** How long, after the first signal, the step may take to report what it did before it is ended. */
export const REPORT_GRACE_MS = 3_000;

/** The exit status of a process ended by `signal`, as a shell reports it. */
const SIGNAL_STATUS: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

let cancelledBy: NodeJS.Signals | undefined;
const listeners = new Set<(signal: NodeJS.Signals) => void>();
const aborted = new AbortController();
let handling = false;

/** The signal that cancelled this step, if one did. */
export function cancelled(): NodeJS.Signals | undefined {
  return cancelledBy;
}

/** Calls `listener` once, when the step is cancelled (at once if it was already); returns the unsubscribe. */
export function onCancel(listener: (signal: NodeJS.Signals) => void): () => boolean {
  if (cancelledBy !== undefined) {
    listener(cancelledBy);
    return () => false;
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Stops every network step now; the first call wins. */
export function cancel(signal: NodeJS.Signals): void {
  if (cancelledBy !== undefined) return;
  cancelledBy = signal;
  aborted.abort(new CancelledError('the rest of this request', signal));
  for (const listener of [...listeners]) listener(signal);
  listeners.clear();
}

/** For a request that takes an AbortSignal: aborted at `ms`, or when the job is cancelled. */
export function deadlineSignal(ms: number): AbortSignal {
  return AbortSignal.any([AbortSignal.timeout(ms), aborted.signal]);
}

/** Thrown by a network step asked to start after the job was cancelled. */
export class CancelledError extends Error {
  constructor(what: string, signal: NodeJS.Signals) {
    super(`the job was cancelled (${signal}): ${what} was not started`);
    this.name = 'CancelledError';
  }
}

/**
 * SIGINT and SIGTERM cancel (above) and leave REPORT_GRACE_MS for the step to say what it did; a
 * second signal ends it at once. Node's default for these signals would end the process without
 * running any `exit` handler, leaving the network commands' groups running.
 */
export function handleCancelSignals(): void {
  if (handling) return;
  handling = true;
  const onSignal = (signal: NodeJS.Signals) => {
    const status = SIGNAL_STATUS[signal] ?? 1;
    if (cancelledBy !== undefined) process.exit(status);
    core.warning(`${signal}: the job was cancelled; network steps are stopped, nothing more is pushed`);
    cancel(signal);
    setTimeout(() => process.exit(status), REPORT_GRACE_MS);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
