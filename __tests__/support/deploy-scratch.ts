// A test file's deploy scratch folder (see makeDeployScratch), made before its tests and removed
// after them. Apart from deploy-scenario.ts, which the deploy benchmark bundles without vitest.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';
import type { RunContext } from '../../src/context.js';
import { deployContext, makeDeployScratch, type ContextOptions, type DeployScratch } from './deploy-scenario.js';

export interface DeployScratchScope extends DeployScratch {
  /** deployContext in this scratch folder's workspace and RUNNER_TEMP. */
  context(o: Omit<ContextOptions, 'workspace' | 'runnerTemp'>): RunContext;
}

/** Registers this test file's hooks; the folders are there once its beforeAll hooks run. */
export function useDeployScratch(prefix: string): DeployScratchScope {
  const scope = {
    base: '',
    workspace: '',
    runnerTemp: '',
    context: (o: Omit<ContextOptions, 'workspace' | 'runnerTemp'>): RunContext =>
      deployContext({ ...o, workspace: scope.workspace, runnerTemp: scope.runnerTemp }),
  };
  beforeAll(async () => {
    Object.assign(scope, await makeDeployScratch(prefix));
  });
  afterAll(async () => {
    if (scope.base) await rm(scope.base, { recursive: true, force: true });
  });
  return scope;
}
