import type { Config } from '../config.js';
import type { RunContext } from '../context.js';
import type { OpamSetup } from '../types.js';

// SCAFFOLD (issue 3 replaces this file): opam download, init, switch, mirage, cache.
export async function setupOpam(_config: Config, _ctx: RunContext): Promise<OpamSetup> {
  throw new Error('opam setup is not implemented yet');
}
