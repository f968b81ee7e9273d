import type { Config } from '../config.js';
import type { RunContext } from '../context.js';
import type { BuiltImage, DeployOutcome, OpamSetup } from '../types.js';

// SCAFFOLD (issue 6 replaces this file): the deployment repository writer.
export async function deployImage(
  _config: Config,
  _ctx: RunContext,
  _image: BuiltImage,
  _setup: OpamSetup,
): Promise<DeployOutcome> {
  throw new Error('deploy is not implemented yet');
}

export async function rollback(_config: Config, _ctx: RunContext, _sha: string): Promise<DeployOutcome> {
  throw new Error('rollback is not implemented yet');
}
