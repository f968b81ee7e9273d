/** How the action writes to the job log: timed groups, sizes and durations. */
import * as core from '@actions/core';

export function formatSeconds(seconds: number): string {
  return `${seconds.toFixed(1)} s`;
}

export function formatSize(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}

/** Where a timed group adds its time: the build's table of phases (`configure`, `depend`, …). */
export interface Tally {
  readonly timings: Record<string, number>;
  readonly phase: string;
}

/**
 * The work in a log group, followed by its time (also when it fails), so that a slow run shows
 * where it went; `tally` adds that time to a phase of the job summary.
 */
export async function timedGroup<T>(title: string, work: () => Promise<T>, tally?: Tally): Promise<T> {
  core.startGroup(title);
  const start = performance.now();
  try {
    return await work();
  } finally {
    const seconds = (performance.now() - start) / 1000;
    if (tally) tally.timings[tally.phase] = (tally.timings[tally.phase] ?? 0) + seconds;
    core.endGroup();
    core.info(`${title}: ${formatSeconds(seconds)}`);
  }
}
