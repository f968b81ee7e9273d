import type { Config } from '../config.js';
import type { RunContext } from '../context.js';
import type { BuiltImage, OpamSetup } from '../types.js';

// SCAFFOLD (issue 4 replaces this file): configure, depend, build, find the image.
export async function buildUnikernel(_config: Config, _ctx: RunContext, _setup: OpamSetup): Promise<BuiltImage> {
  throw new Error('the build is not implemented yet');
}
