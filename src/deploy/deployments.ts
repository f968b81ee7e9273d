/**
 * GitHub deployment records of the source commit (`github-token`): created before the push with
 * status `in_progress`, then `success` or `failure`. They show the deploy on the commit and in the
 * repository's Environments; they are a report, so an API that refuses them (a token without
 * `deployments: write`, GHES without the feature, a timeout) gives a warning, never a failed deploy.
 */
import * as core from '@actions/core';
import { getOctokit } from '@actions/github';
import type { RunContext } from '../context.js';
import { deadlineSignal } from '../cancel.js';
import { deadline, GITHUB_API_DEADLINE_MS } from '../deadlines.js';
import { maskSecret } from '../secrets.js';

export interface DeploymentRequest {
  readonly ref: string;
  readonly environment: string;
  readonly description: string;
  /**
   * Without these two the API merges the default branch into the ref first and answers 409 while
   * other checks of the commit are still running: the image is already built from this sha.
   */
  readonly auto_merge: false;
  readonly required_contexts: string[];
  readonly transient_environment: false;
}

export function deploymentRequest(sha: string, environment: string, what: string): DeploymentRequest {
  return {
    ref: sha,
    environment,
    description: what.slice(0, 140),
    auto_merge: false,
    required_contexts: [],
    transient_environment: false,
  };
}

export type DeploymentState = 'in_progress' | 'success' | 'failure';

export interface StatusRequest {
  readonly state: DeploymentState;
  readonly log_url?: string;
  readonly environment_url?: string;
  readonly description: string;
}

export function statusRequest(
  state: DeploymentState,
  logUrl: string,
  environmentUrl?: string,
  description?: string,
): StatusRequest {
  const fallback =
    state === 'in_progress' ? 'pushing the image' : state === 'success' ? 'image deployed' : 'deploy failed';
  return {
    state,
    description: (description ?? fallback).slice(0, 140),
    ...(logUrl ? { log_url: logUrl } : {}),
    ...(environmentUrl ? { environment_url: environmentUrl } : {}),
  };
}

/** The warning for a refused or failed request: what to change, never the token. */
export function recordWarning(step: string, status: number | undefined, message: string): string {
  const fix =
    status === 403 || status === 404
      ? 'give the token `deployments: write` (workflow `permissions: deployments: write`), or leave `github-token` empty'
      : status === 409
        ? 'the API wanted to merge the default branch or required status checks first'
        : 'the deploy itself is not affected';
  return `input \`github-token\`: ${step} failed (${status ?? 'no answer'}: ${message}); ${fix}`;
}

type Octokit = ReturnType<typeof getOctokit>;

function failure(error: unknown): { status: number | undefined; message: string } {
  const status =
    typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : undefined;
  const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
  return { status, message };
}

/** One deployment record: `finish` sets its last status; every call only warns on failure. */
export class DeploymentRecord {
  private constructor(
    private readonly octokit: Octokit,
    private readonly owner: string,
    private readonly repo: string,
    readonly id: number,
    private readonly logUrl: string,
  ) {}

  /** Creates the record and sets it `in_progress`; undefined (after a warning) when the API refuses. */
  static async start(
    token: string,
    ctx: RunContext,
    sha: string,
    environment: string,
    what: string,
    logUrl: string,
  ): Promise<DeploymentRecord | undefined> {
    maskSecret(token);
    const [owner = '', repo = ''] = ctx.repository.split('/');
    const octokit = getOctokit(token, { baseUrl: ctx.apiUrl });
    let id: number | undefined;
    try {
      const created = await octokit.rest.repos.createDeployment({
        owner,
        repo,
        ...deploymentRequest(sha, environment, what),
        request: { signal: deadlineSignal(deadline(GITHUB_API_DEADLINE_MS)) },
      });
      id = 'id' in created.data ? created.data.id : undefined;
      if (id === undefined) {
        core.warning(recordWarning('creating the GitHub deployment', created.status, 'no deployment was created'));
        return undefined;
      }
    } catch (error) {
      const { status, message } = failure(error);
      core.warning(recordWarning('creating the GitHub deployment', status, message));
      return undefined;
    }
    const record = new DeploymentRecord(octokit, owner, repo, id, logUrl);
    core.info(`GitHub deployment ${id} of ${sha.slice(0, 12)} in environment \`${environment}\``);
    await record.status('in_progress');
    return record;
  }

  /** The record's statuses, newest first (what the host reported); throws when the API fails. */
  async statuses(): Promise<ReadonlyArray<{ readonly state: string; readonly description?: string | null }>> {
    const listed = await this.octokit.rest.repos.listDeploymentStatuses({
      owner: this.owner,
      repo: this.repo,
      deployment_id: this.id,
      per_page: 100,
      request: { signal: deadlineSignal(deadline(GITHUB_API_DEADLINE_MS)) },
    });
    return listed.data;
  }

  async status(state: DeploymentState, environmentUrl?: string, description?: string): Promise<void> {
    try {
      await this.octokit.rest.repos.createDeploymentStatus({
        owner: this.owner,
        repo: this.repo,
        deployment_id: this.id,
        ...statusRequest(state, this.logUrl, environmentUrl, description),
        request: { signal: deadlineSignal(deadline(GITHUB_API_DEADLINE_MS)) },
      });
    } catch (error) {
      const { status, message } = failure(error);
      core.warning(recordWarning(`setting GitHub deployment ${this.id} to \`${state}\``, status, message));
    }
  }
}
