import { readFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import type { RunnerOs } from './mirage/targets.js';

/** What the runner tells the action about the run, read once from its environment. */
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
    head?: { repo?: { full_name?: string } | null; ref?: string };
    base?: { repo?: { full_name?: string }; ref?: string };
  };
  ref?: string;
  head_commit?: { id?: string; timestamp?: string } | null;
}

const OS_NAMES: Record<string, RunnerOs> = {
  Linux: 'Linux',
  macOS: 'macOS',
  Windows: 'Windows',
  linux: 'Linux',
  darwin: 'macOS',
  win32: 'Windows',
};

function readPayload(path: string | undefined): EventPayload {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EventPayload;
  } catch (error) {
    throw new Error(`GITHUB_EVENT_PATH: cannot read the event payload at ${path}: ${String(error)}`);
  }
}

export function readContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const runnerOs = OS_NAMES[env.RUNNER_OS ?? process.platform] ?? 'Linux';
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    payload: readPayload(env.GITHUB_EVENT_PATH),
    ref: env.GITHUB_REF ?? '',
    sha: env.GITHUB_SHA ?? '',
    repository: env.GITHUB_REPOSITORY ?? '',
    serverUrl: (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, ''),
    apiUrl: (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, ''),
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '1',
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
