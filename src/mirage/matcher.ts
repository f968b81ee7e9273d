/**
 * A problem matcher for the OCaml compiler and dune, so that a failed build annotates the pull
 * request. The runner applies it line by line while it is registered; the JSON is written at run
 * time so that dist/ ships no data file beside the bundle.
 *
 * What OCaml (4.08 to 5.x) prints for each error or warning:
 *
 *   File "unikernel.ml", line 12, characters 8-15:      (or `lines 12-14`, or no characters)
 *   12 | let x = 1 + "a"                                  (0 to 10 lines quoting the source,
 *                    ^^^                                   with `...` when it elides some)
 *   Error: This expression has type string but ...      (or `Warning 26 [unused-var]: ...`,
 *            int                                         `Error (warning 8 [...]): ...`, `Alert ...:`)
 *
 * The runner's multi-line matchers need consecutive lines, so the second pattern loops: it accepts
 * the quoted source lines with an empty message (the runner skips those) and reports the line that
 * carries the message.
 */
import * as core from '@actions/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';

export const MATCHER_OWNER = 'mirage-deploy-ocaml';

export interface MatcherPattern {
  readonly regexp: string;
  readonly file?: number;
  readonly line?: number;
  readonly column?: number;
  readonly severity?: number;
  readonly code?: number;
  readonly message?: number;
  readonly loop?: boolean;
}

export interface ProblemMatcher {
  readonly owner: string;
  /** Used when the severity group is empty: OCaml's alerts, which are warnings. */
  readonly severity: 'error' | 'warning';
  readonly pattern: readonly MatcherPattern[];
}

const LOCATION = String.raw`^File "([^"]+)", lines? (\d+)(?:-\d+)?(?:, characters (\d+)-\d+)?:$`;
const QUOTED_SOURCE = String.raw`\s*\d+ \|.*|\.\.\.|\s*\^+\s*`;
const MESSAGE = String.raw`(?:(Error|Warning)|Alert [\w-]+)(?: \(?(?:warning )?(\d+(?: \[[\w-]+\])?)\)?)?: (.*\S.*)`;

export function ocamlProblemMatcher(): { problemMatcher: ProblemMatcher[] } {
  return {
    problemMatcher: [
      {
        owner: MATCHER_OWNER,
        severity: 'warning',
        pattern: [
          { regexp: LOCATION, file: 1, line: 2, column: 3 },
          { regexp: `^(?:${QUOTED_SOURCE}|${MESSAGE})$`, severity: 1, code: 2, message: 3, loop: true },
        ],
      },
    ],
  };
}

/**
 * OCaml names files relative to the folder it builds in, the unikernel's, while the runner resolves
 * an annotation's file against the workspace and drops the link to the file when nothing is there.
 * So location lines get the unikernel's folder (relative to the workspace) put in front of a
 * relative path; every other line is left as it is.
 */
export function rootLocation(line: string, folder: string): string {
  if (folder === '' || folder === '.' || folder.startsWith('..') || isAbsolute(folder)) return line;
  const match = /^File "([^"]+)"(.*)$/.exec(line);
  if (!match?.[1] || isAbsolute(match[1])) return line;
  return `File "${posix.join(folder, match[1])}"${match[2] ?? ''}`;
}

/**
 * Runs `work` with the matcher registered, and removes it afterwards whether or not `work` failed,
 * so that later steps' output is not read as OCaml's.
 */
export async function withProblemMatcher<T>(runnerTemp: string, work: () => Promise<T>): Promise<T> {
  const dir = join(runnerTemp, 'mirage-deploy');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${MATCHER_OWNER}.json`);
  writeFileSync(file, JSON.stringify(ocamlProblemMatcher(), null, 2));
  core.info(`::add-matcher::${file}`);
  try {
    return await work();
  } finally {
    core.info(`::remove-matcher owner=${MATCHER_OWNER}::`);
  }
}
