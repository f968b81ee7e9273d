/**
 * What orders builds of the source: the commit time of the sha being deployed, and — when the
 * workspace holds the history — whether one commit descends from the other.
 *
 * The commit time comes from the push event's `head_commit.timestamp` (no process needed, and it
 * is there even without a checkout); otherwise from `git log -1 --format=%cI <sha>` in the
 * repository holding the unikernel's folder (the checkout may be a subfolder of the workspace,
 * `actions/checkout` with `path:`). A build whose commit time is unknown is never ordered by its
 * build time (see decideLatest). Everything here is read once, before the build, by main.
 */
import type { RunContext } from '../context.js';
import { runCommand } from '../exec.js';
import { defined } from '../defined.js';
import { isSourceSha } from './plan.js';
import type { Ancestry } from './repository/plan.js';

/**
 * The source facts the deploy orders builds by, read before the build: the commit time, and the
 * commits the checkout shows before and after this one (empty when it holds no history).
 */
export interface SourceFacts {
  readonly sha: string;
  readonly commitTime?: string;
  /** This commit and those it descends from, newest first. */
  readonly ancestors: readonly string[];
  /** Commits of the checkout's refs that descend from this one. */
  readonly descendants: readonly string[];
}

/** GITHUB_SHA, lower case: the name of the deploy folder. */
export function sourceSha(ctx: RunContext): string {
  const sha = ctx.sha.toLowerCase();
  if (!isSourceSha(sha)) {
    throw new Error(
      `GITHUB_SHA is \`${ctx.sha}\`, not a full commit sha, so there is no \`<directory>/<sha>\` folder to deploy to; ` +
        'run the action from a workflow triggered by a commit',
    );
  }
  return sha;
}

/** How our commit relates to the one `latest` names, as far as the facts read before the build show. */
export function ancestryOf(facts: SourceFacts, latest: string): Ancestry {
  if (latest === facts.sha) return 'unknown';
  if (facts.ancestors.includes(latest)) return 'ours-newer';
  if (facts.descendants.includes(latest)) return 'ours-older';
  return 'unknown';
}

/** An ISO 8601 time with any offset, as UTC (`…Z`); undefined when it is not a time. */
export function utcTime(text: string | undefined): string | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
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

async function commitTime(ctx: RunContext, sha: string, repo: string | undefined): Promise<string | undefined> {
  const headCommit = ctx.payload.head_commit;
  // The payload's head commit is the pushed sha on GitHub; a payload naming another commit is not trusted.
  if (ctx.eventName === 'push' && sha === ctx.sha && (headCommit?.id ?? sha) === sha) {
    const pushed = utcTime(headCommit?.timestamp);
    if (pushed !== undefined) return pushed;
  }
  if (repo === undefined) return undefined;
  const result = await sourceGit(repo, ['log', '-1', '--format=%cI', `${sha}^{commit}`, '--']);
  return result.exitCode === 0 ? utcTime(result.stdout) : undefined;
}

/**
 * At most this many commits each way: a `latest` further back in a long history is then ordered by
 * commit time, as one the checkout does not hold.
 */
export const MAX_RELATED_COMMITS = 100_000;

/** Commits `git rev-list` prints, none when the query fails (a sha a shallow checkout lacks). */
async function revList(repo: string, args: readonly string[]): Promise<string[]> {
  const result = await sourceGit(repo, ['rev-list', `--max-count=${MAX_RELATED_COMMITS}`, ...args, '--']);
  return result.exitCode === 0 ? result.stdout.split('\n').filter((line) => line !== '') : [];
}

/**
 * Reads what orders this build among the deployed ones, once, before any build code runs: after
 * that the checkout is the build's to change (a planted hook, a rewritten ref), so git never runs
 * in it again. Refuses a GITHUB_SHA that is no commit sha, before anything is built.
 */
export async function readSourceFacts(ctx: RunContext, dir: string): Promise<SourceFacts> {
  const sha = sourceSha(ctx);
  const repo = await sourceRepository(dir);
  const time = await commitTime(ctx, sha, repo);
  const ancestors = repo === undefined ? [] : await revList(repo, [sha]);
  const descendants = repo === undefined ? [] : await revList(repo, ['--ancestry-path', '--all', `^${sha}`]);
  return { sha, ...defined({ commitTime: time }), ancestors, descendants };
}

/**
 * The commit the checkout holding `dir` is at (`git rev-parse HEAD`), read before any build code
 * runs; GITHUB_SHA when `dir` is in no git repository. A `schedule:` run checks out another commit
 * than GITHUB_SHA (`actions/checkout` with `ref:`), so HEAD, not GITHUB_SHA, is what gets built.
 */
export async function checkoutCommit(ctx: RunContext, dir: string): Promise<string> {
  const repo = await sourceRepository(dir);
  if (repo === undefined) return sourceSha(ctx);
  const head = await sourceGit(repo, ['rev-parse', '--verify', 'HEAD^{commit}']);
  const sha = head.stdout.trim().toLowerCase();
  if (head.exitCode !== 0 || !isSourceSha(sha)) {
    throw new Error(`the checkout in ${repo} has no commit at HEAD (${head.stderr.trim() || 'git said nothing'})`);
  }
  return sha;
}
