import { context } from '@actions/github';
import { tmpdir, cpus } from 'node:os';
import type { RunnerOs } from './mirage/targets.js';

/** What the runner tells the action about the run, read once. */
export interface RunContext {
  readonly eventName: string;
  /** The webhook payload of the triggering event, `{}` when the runner gave none. */
  readonly payload: EventPayload;
  readonly ref: string;
  readonly sha: string;
  /** `owner/name` of the repository the workflow runs in. */
  readonly repository: string;
  readonly serverUrl: string;
  /** The REST API of that server (GITHUB_API_URL: api.github.com, or `<server>/api/v3` on GHES). */
  readonly apiUrl: string;
  readonly runId: string;
  readonly runAttempt: string;
  readonly workspace: string;
  readonly runnerTemp: string;
  readonly runnerOs: RunnerOs;
  readonly runnerArch: string;
  readonly cores: number;
}

/** The parts of GitHub's event payloads that the action reads. */
export interface EventPayload {
  repository?: { full_name?: string; default_branch?: string; html_url?: string };
  pull_request?: {
    number?: number;
    head?: { repo?: { full_name?: string } | null; ref?: string; sha?: string };
    base?: { repo?: { full_name?: string }; ref?: string };
  };
  ref?: string;
  head_commit?: { id?: string; timestamp?: string } | null;
  /** A `workflow_run` event: the run whose artifact a comment-only job reads (src/preview/). */
  workflow_run?: { head_sha?: string; event?: string };
}

const OS_NAMES: Record<string, RunnerOs> = {
  Linux: 'Linux',
  macOS: 'macOS',
  Windows: 'Windows',
  linux: 'Linux',
  darwin: 'macOS',
  win32: 'Windows',
};

/** `owner/name` from GITHUB_REPOSITORY or the event; '' when the runner gave neither. */
function repositoryName(github: typeof context): string {
  try {
    const { owner, repo } = github.repo;
    return `${owner}/${repo}`;
  } catch {
    return '';
  }
}

/** A number the toolkit parsed from the environment, back as the text the outputs and URLs use. */
function numberText(value: number, otherwise: string): string {
  return Number.isNaN(value) ? otherwise : String(value);
}

/**
 * The run and its event from the toolkit's `context` (@actions/github); what it lacks (the
 * workspace, RUNNER_TEMP, the runner's OS, architecture and cores) from the runner's variables.
 */
export function readContext(github: typeof context = context): RunContext {
  const env = process.env;
  const runnerOs = OS_NAMES[env.RUNNER_OS ?? process.platform] ?? 'Linux';
  return {
    eventName: github.eventName ?? '',
    payload: github.payload as EventPayload,
    ref: github.ref ?? '',
    sha: github.sha ?? '',
    repository: repositoryName(github),
    serverUrl: github.serverUrl.replace(/\/+$/, ''),
    apiUrl: github.apiUrl.replace(/\/+$/, ''),
    runId: numberText(github.runId, ''),
    runAttempt: numberText(github.runAttempt, '1'),
    workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
    runnerTemp: env.RUNNER_TEMP ?? tmpdir(),
    runnerOs,
    runnerArch: env.RUNNER_ARCH ?? process.arch.toUpperCase(),
    cores: Math.max(1, cpus().length),
  };
}

/** Link to this workflow run, for manifests, commit bodies and summaries. */
export function runUrl(ctx: RunContext): string {
  return ctx.repository && ctx.runId ? `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}` : '';
}
