/**
 * Git plumbing on a throw-away bare repository that mirrors only the tip of the deployment branch:
 * its commit (`--depth 1 --filter=tree:0`), then by id only the trees and blobs a deploy reads, as
 * the host updater does: the root tree, the path to `<directory>/`, its listing, the folders it
 * reads. New commits are built with `hash-object` and `mktree` along the changed paths only, then
 * `commit-tree`, never in a work tree or an index of the whole tree, so no earlier image, nor the
 * tree of a folder the deploy does not touch, is ever downloaded.
 */
import * as core from '@actions/core';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  deadline,
  GIT_DEADLINE_MS,
  LOW_SPEED_BYTES,
  LOW_SPEED_SECONDS,
  PUSH_STALL_MS,
  pushDeadline,
  seconds,
} from '../../deadlines.js';
import { runCommand, type CommandResult } from '../../exec.js';
import { explainGitFailure, filterIgnored, filterIgnoredMessage } from './git-errors.js';
import {
  isTransientFailure,
  MAX_TRANSPORT_ATTEMPTS,
  parseLsTree,
  retryDelay,
  splitProgress,
  type IndexChange,
  type TreeEntry,
} from './plan.js';
import type { GitAccess } from '../credentials/plan.js';
import { defined } from '../../defined.js';

export interface Author {
  readonly name: string;
  readonly email: string;
}

/** A push's result; `lastProgress` is git's last progress line, taken out of `stderr`. */
export interface PushResult extends CommandResult {
  readonly lastProgress?: string;
}

/** Thrown when the deployment repository cannot be read or written, with the fix when known. */
export class RepositoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RepositoryError';
  }
}

/**
 * Git configuration every git process of the deploy starts with, in the command-line scope (which
 * outranks repository, global and system files): no hooks, whatever a job's `GIT_CONFIG_*` or a
 * file says, and an HTTP transfer that stalls is dropped. Access entries (the token) come after.
 */
export const BASE_GIT_CONFIG: ReadonlyArray<readonly [string, string]> = [
  ['core.hooksPath', '/dev/null'],
  ['http.lowSpeedLimit', String(LOW_SPEED_BYTES)],
  ['http.lowSpeedTime', String(Math.min(LOW_SPEED_SECONDS, seconds(deadline(GIT_DEADLINE_MS))))],
];

/**
 * The whole environment of every git process, built from nothing: none of the runner's, job's or
 * user's git configuration (a global `url.insteadOf`, a hooks path from `GIT_CONFIG_KEY_0`, a
 * credential helper must not change where or how we push, nor see the token), a private HOME,
 * English messages (push results are parsed), no prompts, and the credentials.
 */
export function gitEnvironment(access: GitAccess, home: string, author: Author): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
  const config: Array<readonly [string, string]> = [...BASE_GIT_CONFIG];
  const own = Number(access.env.GIT_CONFIG_COUNT ?? '0');
  for (let i = 0; i < own; i++) {
    config.push([access.env[`GIT_CONFIG_KEY_${i}`] ?? '', access.env[`GIT_CONFIG_VALUE_${i}`] ?? '']);
  }
  for (const [name, value] of Object.entries(access.env)) {
    if (!/^GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+)$/.test(name)) env[name] = value;
  }
  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/** The git subcommand, past any `-c` options, for messages. */
function gitCommand(args: readonly string[]): string {
  let i = 0;
  while (args[i] === '-c') i += 2;
  return args[i] ?? '';
}

/** The object format a remote advertises (`object-format=` in git's packet trace), by default SHA-1. */
export function advertisedObjectFormat(trace: string): 'sha1' | 'sha256' {
  return /\bobject-format=sha256\b/.test(trace) ? 'sha256' : 'sha1';
}

export class DeploymentRepository {
  /** Blobs fetched so far: asking git whether it has one would fetch it lazily, one by one. */
  private readonly fetched = new Set<string>();
  private filterIgnoredSaid = false;

  private constructor(
    private readonly access: GitAccess,
    private readonly gitDir: string,
    private readonly indexFile: string,
    private readonly env: Record<string, string>,
  ) {}

  /**
   * Clones the tip of `branch` (or of the remote's default branch) into `workDir`, which must be
   * empty and private to this run: commit and trees only, in one request. A branch that does not
   * exist yet, like an empty repository, has no tip: the first commit starts it.
   */
  static async open(
    access: GitAccess,
    workDir: string,
    author: Author,
    branch: string | undefined,
  ): Promise<{ repo: DeploymentRepository; branch: string; tip?: string }> {
    const home = join(workDir, 'home');
    await mkdir(home, { recursive: true });
    const gitDir = join(workDir, 'repo.git');
    const repo = new DeploymentRepository(access, gitDir, join(workDir, 'index'), gitEnvironment(access, home, author));
    const args = [
      // what an empty repository's HEAD names when the server does not say (protocol v2 does)
      '-c',
      'init.defaultBranch=main',
      'clone',
      '--bare',
      '--quiet',
      '--no-tags',
      '--depth=1',
      '--filter=tree:0',
      '--template=',
      ...(branch === undefined ? [] : ['--branch', branch]),
      '--',
      access.url,
      gitDir,
    ];
    const cloned = await repo.git(args, { bare: false, network: true });
    if (cloned.exitCode === 0) {
      await repo.reportIgnoredFilter(cloned.stderr, 0);
      const name = branch ?? (await repo.mustGit(['symbolic-ref', '--short', 'HEAD'])).trim();
      const tip = await repo.resolve(`refs/heads/${name}`);
      if (tip !== undefined) return { repo, branch: name, tip };
      // An empty repository: git 2.39's clone makes a SHA-1 mirror whatever the server's format.
      await repo.initMirror();
      return { repo, branch: name };
    }
    if (branch === undefined || !/Remote branch \S+ not found in upstream/i.test(cloned.stderr)) {
      throw repo.failure(args.slice(2), cloned, true);
    }
    await repo.initMirror();
    return { repo, branch };
  }

  /**
   * The remote's object format (SHA-1 or SHA-256), from its capability advertisement: a branch
   * that does not exist yet gives the mirror nothing to learn it from.
   */
  private async remoteObjectFormat(): Promise<'sha1' | 'sha256'> {
    const args = ['ls-remote', '--', this.access.url, 'HEAD'];
    const result = await this.git(args, { bare: false, network: true, trace: true });
    if (result.exitCode !== 0) {
      const stderr = result.stderr
        .split('\n')
        .filter((line) => !/ packet: /.test(line))
        .join('\n');
      throw this.failure(args, { ...result, stderr }, true);
    }
    return advertisedObjectFormat(result.stderr);
  }

  /** An empty mirror in the remote's object format, for a branch the first commit starts. */
  private async initMirror(): Promise<void> {
    const format = await this.remoteObjectFormat();
    await rm(this.gitDir, { recursive: true, force: true });
    const init = ['init', '--quiet', '--bare', '--template=', `--object-format=${format}`, this.gitDir];
    await this.mustGit(init, { bare: false });
    await this.mustGit(['remote', 'add', 'origin', this.access.url]);
    // A promisor remote, as clone --filter makes it: the objects a blob-less fetch leaves out are
    // known to be on the server, so that pushes and tree writes do not ask for them.
    await this.mustGit(['config', 'remote.origin.promisor', 'true']);
    await this.mustGit(['config', 'remote.origin.partialclonefilter', 'tree:0']);
  }

  /** Bytes of the packs git stored: what the server sent, since nothing is repacked here. */
  private async packBytes(): Promise<number> {
    const dir = join(this.gitDir, 'objects', 'pack');
    const packs = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.pack'));
    const sizes = await Promise.all(packs.map(async (f) => (await stat(join(dir, f))).size));
    return sizes.reduce((a, b) => a + b, 0);
  }

  /** A server that ignores `--filter` sends every blob of the tip: said once, with the cost. */
  private async reportIgnoredFilter(stderr: string, bytesBefore: number): Promise<void> {
    if (this.filterIgnoredSaid || !filterIgnored(stderr)) return;
    this.filterIgnoredSaid = true;
    core.warning(filterIgnoredMessage(this.access, (await this.packBytes()) - bytesBefore));
  }

  private async resolve(ref: string): Promise<string | undefined> {
    const result = await this.git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  private async git(
    args: readonly string[],
    options: {
      input?: string;
      index?: boolean;
      bare?: boolean;
      network?: boolean;
      trace?: boolean;
      deadlineMs?: number;
      stallMs?: number;
    } = {},
  ): Promise<CommandResult> {
    const env = { ...this.env };
    if (options.bare ?? true) env.GIT_DIR = this.gitDir;
    // The pkt-lines only (capabilities, refs): never a credential, which travels in headers or ssh.
    if (options.trace) env.GIT_TRACE_PACKET = '1';
    if (options.index) env.GIT_INDEX_FILE = this.indexFile;
    // Every command gets the deadline: a local one can still fetch a missing blob lazily.
    const run = () =>
      runCommand('git', args, {
        env,
        silent: true,
        deadlineMs: options.deadlineMs ?? deadline(GIT_DEADLINE_MS),
        ...defined({ input: options.input, stallMs: options.stallMs }),
      });
    let result = await run();
    for (
      let attempt = 2;
      options.network && attempt <= MAX_TRANSPORT_ATTEMPTS && isTransientFailure(result);
      attempt++
    ) {
      const delay = retryDelay(attempt, Math.random);
      const said = result.stderr.trim().split('\n').slice(-1)[0] ?? '';
      core.info(`\`git ${gitCommand(args)}\` failed in transport (${said}); trying again in ${delay} ms`);
      await sleep(delay);
      result = await run();
    }
    return result;
  }

  private async mustGit(
    args: readonly string[],
    options: { input?: string; index?: boolean; bare?: boolean; network?: boolean } = {},
  ): Promise<string> {
    const result = await this.git(args, options);
    if (result.exitCode !== 0) throw this.failure(args, result, options.network ?? false);
    return result.stdout;
  }

  private failure(args: readonly string[], result: CommandResult, network: boolean): RepositoryError {
    const command = `git ${gitCommand(args)}`;
    if (result.timedOut) return new RepositoryError(this.timedOut(command));
    const stderr = result.stderr.trim();
    const explained = network ? explainGitFailure(stderr, this.access) : undefined;
    const detail = stderr.split('\n').slice(-15).join('\n');
    return new RepositoryError(
      explained === undefined
        ? `\`${command}\` on the deployment repository ${this.access.display} failed (exit code ${result.exitCode})` +
            (detail ? `:\n${detail}` : '')
        : `${explained}\n(\`${command}\` said: ${detail})`,
    );
  }

  /** The message for a git command killed at its deadline. */
  timedOut(command: string): string {
    return (
      `\`${command}\` on the deployment repository ${this.access.display} did not finish within ` +
      `${seconds(deadline(GIT_DEADLINE_MS))} s: the server accepted the connection but stopped answering; ` +
      'it was stopped with every process it started. Check the host of `deploy-repository`, then re-run the job'
    );
  }

  /**
   * Fetches the tip of `branch` and the `depth - 1` commits below it (commits only, no trees);
   * undefined when the branch does not exist.
   */
  async fetchTip(branch: string, depth = 1): Promise<string | undefined> {
    const tracking = `refs/remotes/origin/${branch}`;
    const args = [
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      `--depth=${depth}`,
      '--filter=tree:0',
      'origin',
      `+refs/heads/${branch}:${tracking}`,
    ];
    const before = await this.packBytes();
    const result = await this.git(args, { network: true });
    if (result.exitCode !== 0) {
      if (/couldn't find remote ref/i.test(result.stderr)) return undefined;
      throw this.failure(args, result, true);
    }
    await this.reportIgnoredFilter(result.stderr, before);
    return this.resolve(tracking);
  }

  /**
   * The root tree's id, read from the commit: `rev-parse <commit>^{tree}` would check that the tree
   * is here, and git would fetch it lazily with every tree below it.
   */
  private async treeOf(commit: string): Promise<string> {
    const text = await this.mustGit(['cat-file', 'commit', commit]);
    const tree = /^tree ([0-9a-f]+)$/m.exec(text)?.[1];
    if (tree === undefined) throw new RepositoryError(`commit ${commit} of the deployment repository names no tree`);
    return tree;
  }

  /** The entries of one tree, fetched if need be, with `prefix` before each name. */
  private async readTree(oid: string, prefix: string): Promise<TreeEntry[]> {
    await this.fetchObjects([oid]);
    const entries = parseLsTree(await this.mustGit(['ls-tree', '-z', oid]));
    return entries.map((e) => ({ ...e, path: `${prefix}${e.path}` }));
  }

  /**
   * The entries of `<directory>/` at `commit` (its `latest` and one tree per deploy folder), each
   * tree on the way fetched alone by id; none when the folder does not exist.
   */
  async listDirectory(commit: string, directory: string): Promise<TreeEntry[]> {
    let tree = await this.treeOf(commit);
    const parts = directory.split('/').filter((p) => p !== '');
    for (const [i, part] of parts.entries()) {
      const entry = (await this.readTree(tree, '')).find((e) => e.path === part);
      if (entry === undefined || entry.type !== 'tree') return [];
      tree = entry.oid;
      if (i === parts.length - 1) return this.readTree(tree, `${directory}/`);
    }
    return [];
  }

  /** The files of the given deploy folders (name → tree id), their trees fetched in one request. */
  async listFolders(directory: string, trees: ReadonlyMap<string, string>): Promise<TreeEntry[]> {
    await this.fetchObjects(trees.values(), 'tree:0');
    const listed = await Promise.all([...trees].map(([name, oid]) => this.readTree(oid, `${directory}/${name}/`)));
    return listed.flat();
  }

  /** Downloads the given blobs in one request. */
  async fetchBlobs(oids: Iterable<string>): Promise<void> {
    await this.fetchObjects(oids, 'blob:none');
  }

  /**
   * Downloads objects by id in one request; a tree comes alone (`tree:0`), without what it names.
   * Objects fetched before are not asked for again: asking git whether it has one would fetch it
   * lazily, one by one.
   */
  private async fetchObjects(oids: Iterable<string>, filter = 'tree:0'): Promise<void> {
    const missing = [...new Set(oids)].filter((oid) => !this.fetched.has(oid));
    // A server that ignored the filter sent the whole tip: asking again would send it again.
    if (missing.length === 0 || this.filterIgnoredSaid) return;
    await this.mustGit(
      [
        '-c',
        'fetch.negotiationAlgorithm=noop',
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-write-fetch-head',
        '--recurse-submodules=no',
        `--filter=${filter}`,
        'origin',
        ...missing,
      ],
      { network: true },
    );
    for (const oid of missing) this.fetched.add(oid);
  }

  /** A blob already fetched or written, as text. */
  async readText(oid: string): Promise<string> {
    return this.mustGit(['cat-file', 'blob', oid]);
  }

  /** Stores files as blobs; returns their ids in the same order. */
  async writeFiles(paths: readonly string[]): Promise<string[]> {
    if (paths.length === 0) return [];
    const out = await this.mustGit(['hash-object', '-w', '--no-filters', '--stdin-paths'], {
      input: `${paths.join('\n')}\n`,
    });
    const oids = out.trim().split('\n');
    for (const oid of oids) this.fetched.add(oid);
    return oids;
  }

  async writeText(text: string): Promise<string> {
    const oid = (await this.mustGit(['hash-object', '-w', '--no-filters', '--stdin'], { input: text })).trim();
    this.fetched.add(oid);
    return oid;
  }

  /**
   * The tree `tree` (absent: an empty one) with `changes` applied (paths relative to it); undefined
   * when nothing is left in it. Only the trees along the changed paths are read: the deploy read
   * them already, so git has them; an unchanged folder's tree stays an id that may be missing here.
   */
  private async changeTree(tree: string | undefined, changes: readonly IndexChange[]): Promise<string | undefined> {
    const entries = new Map<string, string>();
    for (const e of tree === undefined ? [] : await this.readTree(tree, '')) {
      entries.set(e.path, `${e.mode} ${e.type} ${e.oid}`);
    }
    const below = new Map<string, IndexChange[]>();
    for (const change of changes) {
      const slash = change.path.indexOf('/');
      if (slash < 0) {
        if (change.oid === undefined) entries.delete(change.path);
        else entries.set(change.path, `100644 blob ${change.oid}`);
        continue;
      }
      const name = change.path.slice(0, slash);
      below.set(name, [...(below.get(name) ?? []), { ...change, path: change.path.slice(slash + 1) }]);
    }
    for (const [name, inner] of below) {
      const [mode, type, oid] = entries.get(name)?.split(' ') ?? [];
      const sub = await this.changeTree(mode === '040000' && type === 'tree' ? oid : undefined, inner);
      if (sub === undefined) entries.delete(name);
      else entries.set(name, `040000 tree ${sub}`);
    }
    if (entries.size === 0) return undefined;
    const input = [...entries].map(([name, entry]) => `${entry}\t${name}\0`).join('');
    return (await this.mustGit(['mktree', '-z', '--missing'], { input })).trim();
  }

  /**
   * The commits of `tip`'s history fetched so far: at most the depth of the last fetch, since the
   * shallow boundary ends the walk there.
   */
  async countCommits(tip: string): Promise<number> {
    return Number((await this.mustGit(['rev-list', '--count', tip])).trim());
  }

  /** A parentless commit of `tip`'s tree as it is: the new root `keep-history` starts from. */
  async rootCommit(tip: string, message: string): Promise<string> {
    return (await this.mustGit(['commit-tree', await this.treeOf(tip), '-F', '-'], { input: message })).trim();
  }

  /** A commit of the tree of `parent` (or an empty one) with `changes` applied. */
  async commit(parent: string | undefined, changes: readonly IndexChange[], message: string): Promise<string> {
    const base = parent === undefined ? undefined : await this.treeOf(parent);
    const tree = (await this.changeTree(base, changes)) ?? (await this.mustGit(['mktree'], { input: '' })).trim();
    const args = ['commit-tree', tree, ...(parent === undefined ? [] : ['-p', parent]), '-F', '-'];
    return (await this.mustGit(args, { input: message })).trim();
  }

  /**
   * Pushes `commit` to `branch`, forced only with a lease on the tip read (`keep-history`); the
   * caller reads the porcelain result. Not a thin pack: a thin one deltifies against the files
   * being replaced at the same paths, which git would first download — an earlier image, when a
   * build is re-deployed with another image. With its progress meter, which the push's progress
   * deadline watches (`stalled` in the result); its stderr comes back without the meter.
   */
  async push(commit: string, branch: string, lease?: string): Promise<PushResult> {
    const ref = `refs/heads/${branch}`;
    // A new root replaces the branch only while it is still at the tip read: a push since breaks the lease.
    const force = lease === undefined ? [] : [`--force-with-lease=${ref}:${lease}`];
    const result = await this.git(
      ['push', '--porcelain', '--progress', '--no-thin', ...force, 'origin', `${commit}:${ref}`],
      { network: true, deadlineMs: pushDeadline(), stallMs: deadline(PUSH_STALL_MS) },
    );
    const { text, last } = splitProgress(result.stderr);
    return { ...result, stderr: text, ...defined({ lastProgress: last }) };
  }

  get display(): string {
    return this.access.display;
  }

  explain(stderr: string): string | undefined {
    return explainGitFailure(stderr, this.access);
  }

  /**
   * Writes the given blobs as `<dest>/<name>`, fetching them first in one request: the few small
   * files whose hashes a schema 1 manifest did not record.
   */
  async checkoutBlobs(entries: ReadonlyArray<{ readonly name: string; readonly oid: string }>, dest: string) {
    await this.fetchBlobs(entries.map((e) => e.oid));
    await mkdir(dest, { recursive: true });
    await this.mustGit(['read-tree', '--empty'], { index: true });
    const lines = entries.map((e) => `100644 ${e.oid}\t${e.name}`);
    await this.mustGit(['update-index', '--index-info'], { index: true, input: `${lines.join('\n')}\n` });
    await this.mustGit([`--work-tree=${dest}`, 'checkout-index', '--all', '--force'], { index: true });
  }

  /**
   * Writes the files of one deploy folder into `dest` (for verifying an image before a rollback),
   * fetching its blobs in one request first. Only that folder is ever materialised.
   */
  async checkoutFolder(commit: string, entries: readonly TreeEntry[], prefix: string, dest: string): Promise<void> {
    await this.fetchBlobs(entries.map((e) => e.oid));
    await mkdir(dest, { recursive: true });
    await this.mustGit(['read-tree', `${commit}:${prefix}`], { index: true });
    await this.mustGit([`--work-tree=${dest}`, 'checkout-index', '--all', '--force'], { index: true });
  }
}
