/**
 * `wait-for-host`: after the push, the deployment record's statuses are asked (`hostPollPause`
 * apart) until the host's updater (host/mirage-deploy-pull --github-token-file)
 * reports `success` (its health check passed) or `failure` (it rolled back), or the time runs out.
 */
import * as core from '@actions/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCancel } from '../cancel.js';
import { deadline, HOST_POLL_FIRST_MS, HOST_POLL_INTERVAL_MS } from '../deadlines.js';
import type { HostReport } from '../types.js';

export interface ListedStatus {
  readonly state: string;
  readonly description?: string | null;
}

/** The host's verdict in statuses listed newest first: its last `success` or `failure`, if any. */
export function hostVerdict(statuses: readonly ListedStatus[]): ListedStatus | undefined {
  return statuses.find((s) => s.state === 'success' || s.state === 'failure' || s.state === 'error');
}

/** What the step says of the host's verdict, or of none within `seconds`. */
export function hostReport(verdict: ListedStatus | undefined, seconds: number, where: string): HostReport {
  const reason = verdict?.description ?? '';
  if (verdict?.state === 'success') {
    return { status: 'success', message: `the host runs ${where}${reason ? `: ${reason}` : ''}` };
  }
  if (verdict !== undefined) {
    return {
      status: 'failure',
      message: `the host did not keep ${where} and rolled back: ${reason || 'no reason given'}`,
    };
  }
  return {
    status: 'timeout',
    message:
      `input \`wait-for-host\`: no report from the host within ${seconds} s that it runs ${where}; on the host, ` +
      'check the updater (`journalctl -u mirage-deploy-pull@<site>`, or run `mirage-deploy-pull … ' +
      '--github-token-file FILE --github-repository OWNER/NAME` by hand): is its timer running, and does it report?',
  };
}

/** The pause after the `asked`-th request (1 for the first): doubling from the first pause up to the interval. */
export function hostPollPause(asked: number): number {
  return Math.min(HOST_POLL_FIRST_MS * 2 ** Math.min(Math.max(asked - 1, 0), 16), HOST_POLL_INTERVAL_MS);
}

/** Polls `statuses` until the host's verdict or `seconds` pass (or the job is cancelled). */
export async function waitForHost(
  statuses: () => Promise<readonly ListedStatus[]>,
  seconds: number,
  where: string,
): Promise<HostReport> {
  const end = Date.now() + seconds * 1000;
  const stop = new AbortController();
  const unsubscribe = onCancel(() => stop.abort());
  try {
    core.info(`waiting up to ${seconds} s for the host to report on ${where}`);
    for (let asked = 1; ; asked += 1) {
      const verdict = await poll(statuses);
      if (verdict !== undefined || Date.now() >= end || stop.signal.aborted) {
        return hostReport(verdict, seconds, where);
      }
      const pause = Math.min(deadline(hostPollPause(asked)), Math.max(0, end - Date.now()));
      await sleep(pause, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    unsubscribe();
  }
}

async function poll(statuses: () => Promise<readonly ListedStatus[]>): Promise<ListedStatus | undefined> {
  try {
    return hostVerdict(await statuses());
  } catch (error) {
    core.info(
      `asking the deployment record's statuses failed (${error instanceof Error ? error.message : error}); asking again`,
    );
    return undefined;
  }
}
