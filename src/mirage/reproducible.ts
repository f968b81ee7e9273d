/**
 * The reproducibility check's decisions: what the second build copies, where two builds' images
 * first differ, and what the `reproducible` input makes of it. The second build runs in a copy of
 * the unikernel's folder elsewhere, so the check also catches an image that depends on its folder
 * (a restored cache from another folder, a path the compilers' mapping misses: mirage/plan.ts
 * pathPrefixMap).
 */
import type { ReproducibleMode } from '../config.js';

/**
 * Whether the copy for the second build leaves out this path of the unikernel's folder (relative,
 * with `/`): the first build's `_build` and its image, so that nothing of the first build is reused
 * and a second build that makes no image cannot pass for one that makes the same.
 */
export function leftOutOfCopy(path: string, image: string): boolean {
  return path === '_build' || path.startsWith('_build/') || path === image;
}

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
    return {
      reproducible: true,
      row: 'yes: a second build in another folder, from a clean state, gave the same sha256',
    };
  }
  const where =
    c.offset === undefined
      ? 'the bytes are the same but the sha256 differ'
      : `first difference at byte offset ${c.offset} (sizes ${c.first.size} and ${c.second.size} bytes)`;
  const problem =
    `${image} is not reproducible: a second build in another folder from a clean state (a copy of the ` +
    `unikernel's folder without \`_build\`, dune cache off) gave sha256 ${c.second.sha256}, the first ${c.first.sha256}; ${where}`;
  return {
    reproducible: false,
    row: `no: ${where}`,
    problem:
      mode === 'strict'
        ? `input \`reproducible\`: ${problem}; nothing was deployed. Find what the build writes that changes ` +
          'between runs or folders (a time, a random value, an absolute path), or set `reproducible: check` to deploy anyway'
        : problem,
  };
}
