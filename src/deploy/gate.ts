import type { DeployConfig } from '../config.js';
import type { RunContext } from '../context.js';

export interface GateDecision {
  readonly deploy: boolean;
  /** Why, in words for a notice: "pull requests never deploy", "refs/heads/x is not a deploy branch". */
  readonly reason: string;
}

// SCAFFOLD (issue 5 replaces this file): the deploy gate, a pure function.
export function decideDeploy(deploy: DeployConfig, _ctx: RunContext): GateDecision {
  return deploy.enabled
    ? { deploy: false, reason: 'the deploy gate is not implemented yet' }
    : { deploy: false, reason: 'input `deploy` is false' };
}
