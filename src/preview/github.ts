/**
 * The REST calls of the preview: list the pull request's comments, then update the one carrying
 * this image's marker or create it; and, in comment-only mode, the pull request's head. Each call
 * has a deadline; a refusal (a token without `pull-requests: write`, a fork's read-only token, a
 * timeout) is a warning, never a failed build: the preview is a report.
 */
import * as core from '@actions/core';
import { getOctokit } from '@actions/github';
import type { RunContext } from '../context.js';
import { deadlineSignal } from '../cancel.js';
import { deadline, GITHUB_API_DEADLINE_MS, seconds } from '../deadlines.js';
import { maskSecret } from '../secrets.js';
import {
  chooseComment,
  commentBody,
  previewMarker,
  settleCreated,
  type ExistingComment,
  type Preview,
} from './plan.js';

/** Pages of 100 comments read looking for the marker. */
const MAX_COMMENT_PAGES = 30;

type Octokit = ReturnType<typeof getOctokit>;

/** The API's status, absent when it never answered (refused connection, the deadline). */
function failure(error: unknown): { readonly status?: number; readonly text: string } {
  const status = (error as { response?: { status?: unknown } }).response?.status;
  const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
  return typeof status === 'number' ? { status, text: `${status}: ${message}` } : { text: `no answer: ${message}` };
}

function warn(step: string, error: unknown): void {
  const { status, text } = failure(error);
  const fix =
    status === 403 || status === 404
      ? 'give the token `pull-requests: write` (workflow `permissions: pull-requests: write`)'
      : status === undefined
        ? `the API did not answer within ${seconds(deadline(GITHUB_API_DEADLINE_MS))} s`
        : 'the API refused it';
  core.warning(`input \`github-token\`: ${step} failed (${text}); ${fix}; the build itself is not affected`);
}

const request = () => ({ request: { signal: deadlineSignal(deadline(GITHUB_API_DEADLINE_MS)) } });

function client(token: string, ctx: RunContext): { octokit: Octokit; owner: string; repo: string } {
  maskSecret(token);
  const [owner = '', repo = ''] = ctx.repository.split('/');
  return { octokit: getOctokit(token, { baseUrl: ctx.apiUrl }), owner, repo };
}

async function listComments(octokit: Octokit, owner: string, repo: string, issue: number): Promise<ExistingComment[]> {
  const comments: ExistingComment[] = [];
  for (let page = 1; page <= MAX_COMMENT_PAGES; page++) {
    const { data } = await octokit.rest.issues.listComments({
      owner,
      repo,
      issue_number: issue,
      per_page: 100,
      page,
      ...request(),
    });
    comments.push(...data);
    if (data.length < 100) break;
  }
  return comments;
}

interface Where {
  readonly octokit: Octokit;
  readonly owner: string;
  readonly repo: string;
  readonly issue: number;
}

/**
 * After creating comment `created`: when another job created one for the same marker at the same
 * time, the older stays (updated with this body) and ours goes. The URL of the comment kept.
 */
async function settle(w: Where, marker: string, body: string, created: { id: number; html_url: string }) {
  const { octokit, owner, repo, issue } = w;
  const decision = settleCreated(await listComments(octokit, owner, repo, issue), marker, created.id);
  if (decision.kind === 'keep') return created.html_url;
  await octokit.rest.issues.deleteComment({ owner, repo, comment_id: created.id, ...request() });
  const { data } = await octokit.rest.issues.updateComment({
    owner,
    repo,
    comment_id: decision.into,
    body,
    ...request(),
  });
  core.info(`another job commented at the same time: kept its comment ${data.html_url}, removed ours`);
  return data.html_url;
}

/**
 * The preview's comment on its pull request, found by its marker among the comments and updated,
 * or created: one per `<directory>/<image>` however many pushes and matrix jobs. Its URL, or
 * undefined after a warning.
 */
export async function upsertComment(token: string, ctx: RunContext, preview: Preview): Promise<string | undefined> {
  const { octokit, owner, repo } = client(token, ctx);
  const issue = preview.pullRequest;
  const marker = previewMarker(preview.directory, preview.image);
  const body = commentBody(preview);
  let step = `listing the comments of pull request #${issue}`;
  try {
    const target = chooseComment(await listComments(octokit, owner, repo, issue), marker);
    if (target.kind === 'update') {
      step = `updating the preview comment on pull request #${issue}`;
      const { data } = await octokit.rest.issues.updateComment({
        owner,
        repo,
        comment_id: target.id,
        body,
        ...request(),
      });
      core.info(`updated the preview comment ${data.html_url} on pull request #${issue}`);
      return data.html_url;
    }
    step = `creating the preview comment on pull request #${issue}`;
    const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: issue, body, ...request() });
    core.info(`commented the preview on pull request #${issue}: ${data.html_url}`);
    step = `checking for a preview comment made at the same time on pull request #${issue}`;
    return await settle({ octokit, owner, repo, issue }, marker, body, data);
  } catch (error) {
    warn(step, error);
    return undefined;
  }
}

/**
 * Comment-only mode: whether the pull request the (untrusted) preview file names has, as its head,
 * the commit the file says it was built from; otherwise a fork could have its preview posted on
 * another pull request. False after a warning.
 */
export async function checkPullRequestHead(token: string, ctx: RunContext, preview: Preview): Promise<boolean> {
  const { octokit, owner, repo } = client(token, ctx);
  try {
    const { data } = await octokit.rest.pulls.get({ owner, repo, pull_number: preview.pullRequest, ...request() });
    if (data.head.sha === preview.headSha) return true;
    core.warning(
      `input \`pr-comment-from\`: pull request #${preview.pullRequest}'s head is ${data.head.sha}, not ` +
        `${preview.headSha} which the preview was built from (a newer push?); not commenting`,
    );
  } catch (error) {
    warn(`reading pull request #${preview.pullRequest}`, error);
  }
  return false;
}
