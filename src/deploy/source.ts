/**
 * What orders builds of the source: the commit time of the sha being deployed, and — when the
 * workspace holds the history — whether one commit descends from the other.
 *
 * The commit time comes from the push event's `head_commit.timestamp` (no process needed, and it
 * is there even without a checkout); otherwise from `git log -1 --format=%cI <sha>` in the
 * repository holding the unikernel's folder (the checkout may be a subfolder of the workspace,
 * `actions/checkout` with `path:`). A build whose commit time is unknown is never ordered by its
 * build time (see decideLatest).
 */
import type { RunContext } from '../context.js';
import { runCommand } from '../exec.js';
import type { Ancestry } from './repository/plan.js';

/** An ISO 8601 time with any offset, as UTC (`…Z`); undefined when it is not a time. */
export function utcTime(text: string | undefined): string | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** `git merge-base --is-ancestor` exit codes, both ways round, as an ordering. */
export function ancestryFrom(latestIsAncestorOfOurs: number, oursIsAncestorOfLatest: number): Ancestry {
  if (latestIsAncestorOfOurs === 0) return 'ours-newer';
  if (oursIsAncestorOfLatest === 0) return 'ours-older';
  return 'unknown';
}

/**
 * A read-only git query in the source checkout. It may belong to another user (containers), so it
 * is trusted for these queries: `dir` itself, or any folder (`*`) while its top is not yet known.
 */
function sourceGit(dir: string, args: readonly string[], trusted = dir) {
  return runCommand('git', ['-c', `safe.directory=${trusted}`, '-C', dir, ...args], {
    silent: true,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LC_ALL: 'C',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_NO_REPLACE_OBJECTS: '1',
    },
  });
}

/** The top folder of the git repository holding `dir` (the unikernel's folder), if any. */
export async function sourceRepository(dir: string): Promise<string | undefined> {
  const result = await sourceGit(dir, ['rev-parse', '--show-toplevel'], '*');
  const top = result.stdout.trim();
  return result.exitCode === 0 && top !== '' ? top : undefined;
}

export async function sourceCommitTime(ctx: RunContext, sha: string, dir: string): Promise<string | undefined> {
  const headCommit = ctx.payload.head_commit;
  // The payload's head commit is the pushed sha on GitHub; a payload naming another commit is not trusted.
  if (ctx.eventName === 'push' && sha === ctx.sha && (headCommit?.id ?? sha) === sha) {
    const pushed = utcTime(headCommit?.timestamp);
    if (pushed !== undefined) return pushed;
  }
  const repo = await sourceRepository(dir);
  if (repo === undefined) return undefined;
  const result = await sourceGit(repo, ['log', '-1', '--format=%cI', `${sha}^{commit}`, '--']);
  return result.exitCode === 0 ? utcTime(result.stdout) : undefined;
}

/** How our commit relates to the one `latest` names, when the source repository's history shows it. */
export async function sourceAncestry(dir: string, ours: string, latest: string): Promise<Ancestry> {
  if (ours === latest) return 'unknown';
  const repo = await sourceRepository(dir);
  if (repo === undefined) return 'unknown';
  const forward = await sourceGit(repo, ['merge-base', '--is-ancestor', latest, ours]);
  if (forward.exitCode === 0) return 'ours-newer';
  // 1 means "not an ancestor"; anything else (128: the commit is not in a shallow checkout) means unknown.
  if (forward.exitCode !== 1) return 'unknown';
  const backward = await sourceGit(repo, ['merge-base', '--is-ancestor', ours, latest]);
  return ancestryFrom(forward.exitCode, backward.exitCode);
}
