/**
 * The reproducibility check's decisions: where two builds' images first differ, and what the
 * `reproducible` input makes of it. The second build runs in the same folder as the first, since
 * a MirageOS build compiles absolute paths into the image: two builds in different folders differ
 * for that reason alone (which is why robur's reproducible builds use a fixed build directory).
 */
import type { ReproducibleMode } from '../config.js';

/** The offset of the first byte that differs; the shorter length when one is a prefix of the other. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number | undefined {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? undefined : length;
}

export interface Comparison {
  readonly first: { readonly sha256: string; readonly size: number };
  readonly second: { readonly sha256: string; readonly size: number };
  /** From firstDifference; undefined when the images are identical. */
  readonly offset?: number;
}

export interface Verdict {
  readonly reproducible: boolean;
  /** The summary row. */
  readonly row: string;
  /** The annotation for a difference: a notice (`check`) or the job's error (`strict`). */
  readonly problem?: string;
}

export function judge(mode: Exclude<ReproducibleMode, 'off'>, image: string, c: Comparison): Verdict {
  if (c.offset === undefined && c.first.sha256 === c.second.sha256) {
    return { reproducible: true, row: `yes: a second build from a clean state gave the same sha256` };
  }
  const where =
    c.offset === undefined
      ? 'the bytes are the same but the sha256 differ'
      : `first difference at byte offset ${c.offset} (sizes ${c.first.size} and ${c.second.size} bytes)`;
  const problem =
    `${image} is not reproducible: a second build in the same folder from a clean state (fresh \`_build\`, ` +
    `dune cache off) gave sha256 ${c.second.sha256}, the first ${c.first.sha256}; ${where}`;
  return {
    reproducible: false,
    row: `no: ${where}`,
    problem:
      mode === 'strict'
        ? `input \`reproducible\`: ${problem}; nothing was deployed. Find what the build writes that changes ` +
          'between runs (a time, a random value, a path outside the folder), or set `reproducible: check` to deploy anyway'
        : problem,
  };
}
