/**
 * The programs the action itself runs by name (git and ssh for the deploy, tar and zstd for the
 * cache client, the compressors, bubblewrap), found only in folders the build cannot write: a
 * build that puts its own `git` first on PATH must not see the deploy's key.
 */
import * as core from '@actions/core';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { findProgram } from '../exec.js';
import { isInside } from './plan.js';

export const TOOLS = ['git', 'ssh', 'ssh-keygen', 'tar', 'zstd', 'bzip2', 'xz', 'gzip', 'bwrap'] as const;
export type Tool = (typeof TOOLS)[number];

/** Folders the build may write, or whose content a previous step or build may have put there. */
export interface UntrustedFolders {
  readonly workspace: string;
  readonly home: string;
  readonly runnerTemp: string;
  readonly toolCache: string;
  readonly opamRoot: string;
  readonly others?: readonly string[];
}

/** PATH's absolute folders that lie outside every untrusted folder, in their order. */
export function trustedPath(path: string, untrusted: UntrustedFolders): string[] {
  const avoid = [
    untrusted.workspace,
    untrusted.home,
    untrusted.runnerTemp,
    untrusted.toolCache,
    untrusted.opamRoot,
    ...(untrusted.others ?? []),
  ].filter((d) => d !== '');
  return path
    .split(delimiter)
    .filter((dir) => dir.startsWith('/') && !avoid.some((bad) => isInside(dir, bad)))
    .filter((dir, i, all) => all.indexOf(dir) === i);
}

/** The job's untrusted folders, from the runner's variables (the same in main and post). */
export function untrustedFolders(env: NodeJS.ProcessEnv = process.env): UntrustedFolders {
  const home = env.HOME || homedir();
  return {
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    home,
    runnerTemp: env.RUNNER_TEMP || tmpdir(),
    toolCache: env.RUNNER_TOOL_CACHE || '/opt/hostedtoolcache',
    opamRoot: env.OPAMROOT || join(home, '.opam'),
    others: env.DUNE_CACHE_ROOT ? [env.DUNE_CACHE_ROOT] : [],
  };
}

const resolved = new Map<Tool, string>();
let jobFolders: string | undefined;

/**
 * Sets this process's PATH to the trusted folders, before anything runs a program by name (the
 * cache client runs tar and zstd so), and resolves the tools there. Call it first in main and post.
 */
export function pinTools(untrusted: UntrustedFolders): ReadonlyMap<Tool, string> {
  jobFolders ??= process.env.PATH ?? '';
  const folders = trustedPath(jobFolders, untrusted);
  process.env.PATH = folders.join(delimiter);
  resolved.clear();
  for (const tool of TOOLS) {
    const found = findProgram(tool, { PATH: process.env.PATH });
    if (found !== undefined) resolved.set(tool, found);
  }
  core.debug(`trusted PATH: ${process.env.PATH}; tools: ${[...resolved.values()].join(' ')}`);
  return resolved;
}

/**
 * The job's PATH as the step was started with it, before pinTools: the build's programs are
 * looked up there (read-only inside the sandbox), never the action's.
 */
export function jobPath(): string {
  return jobFolders ?? process.env.PATH ?? '';
}

/** A tool's absolute path as pinned, or undefined when none was found in the trusted folders. */
export function toolPath(tool: Tool): string | undefined {
  return resolved.get(tool);
}

/**
 * Sets a variable for the job's later steps without changing this process's environment: the
 * value may come from what the build wrote (`opam env`), and the deploy's programs inherit ours.
 */
export function exportForLaterSteps(name: string, value: string): void {
  const before = process.env[name];
  core.exportVariable(name, value);
  if (before === undefined) delete process.env[name];
  else process.env[name] = before;
}

/** Adds a folder to the later steps' PATH, leaving this process's trusted PATH as it is. */
export function addPathForLaterSteps(dir: string): void {
  const before = process.env.PATH;
  core.addPath(dir);
  process.env.PATH = before;
}
