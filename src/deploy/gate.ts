import { ConfigError, type DeployConfig } from '../config.js';
import type { RunContext } from '../context.js';

export interface GateDecision {
  readonly deploy: boolean;
  /** Why, in words for a notice: "pull requests never deploy", "refs/heads/x is not a deploy branch". */
  readonly reason: string;
}

/** Events whose run holds code from a pull request; with a fork, code its author controls. */
const PULL_REQUEST_EVENTS = ['pull_request', 'pull_request_review', 'pull_request_review_comment'];
const DEPLOYING_EVENTS = ['push', 'workflow_dispatch'];

const no = (reason: string): GateDecision => ({ deploy: false, reason });

/** Names the fork a pull request comes from, or undefined when its head is in the base repository. */
function forkOf(ctx: RunContext): string | undefined {
  const pr = ctx.payload.pull_request;
  if (!pr) return undefined;
  const head = pr.head?.repo?.full_name;
  const base = pr.base?.repo?.full_name ?? ctx.payload.repository?.full_name;
  // A deleted fork leaves `head.repo` null: nobody can tell whose code it is, so it counts as one.
  if (head === undefined || head === null) return 'a fork that was deleted';
  return head !== base ? `a fork (${head})` : undefined;
}

/**
 * Whether this run may deploy, decided from the inputs and the event alone. Only a push to a
 * deploy branch, or a manual run on one, deploys: a pull request's code must never reach the
 * deploy secret or the deployment repository.
 */
export function decideDeploy(deploy: DeployConfig, ctx: RunContext): GateDecision {
  if (!deploy.enabled) return no('input `deploy` is false');
  if (ctx.eventName === 'pull_request_target') {
    throw new ConfigError([
      {
        input: 'deploy',
        message:
          "is `true` in a `pull_request_target` run; that event runs with the base repository's secrets while " +
          'a workflow that builds the pull request builds code its author controls, even from a fork, so a ' +
          'deploy there would hand the deploy key to anyone who opens a pull request. Deploy from `push` ' +
          '(or `workflow_dispatch`) on a deploy branch, and set `deploy: false` for pull request events, e.g. ' +
          "`deploy: ${{ github.event_name == 'push' }}`",
      },
    ]);
  }
  const fork = forkOf(ctx);
  if (fork !== undefined) return no(`a pull request from ${fork} never deploys`);
  if (PULL_REQUEST_EVENTS.includes(ctx.eventName)) return no('pull requests never deploy');
  if (!DEPLOYING_EVENTS.includes(ctx.eventName)) {
    return no(
      `\`${ctx.eventName || '(no event)'}\` runs never deploy; only push and workflow_dispatch on a deploy branch do`,
    );
  }
  if (!ctx.ref.startsWith('refs/heads/')) {
    return no(`${ctx.ref || '(no ref)'} is not a branch; only a deploy branch deploys`);
  }
  const branch = ctx.ref.slice('refs/heads/'.length);
  const defaultBranch = ctx.payload.repository?.default_branch;
  const branches = deploy.branches.length > 0 ? deploy.branches : defaultBranch ? [defaultBranch] : [];
  if (branches.length === 0) {
    return no(
      "the event does not name the repository's default branch, so no branch deploys; list the branches in `deploy-branches`",
    );
  }
  if (!branches.includes(branch)) {
    const which = deploy.branches.length > 0 ? '`deploy-branches`' : 'the default branch';
    return no(`${ctx.ref} is not a deploy branch (${which}: ${branches.join(', ')})`);
  }
  return {
    deploy: true,
    reason: `${ctx.eventName === 'push' ? 'push to' : 'manual run on'} ${branch}, a deploy branch`,
  };
}
