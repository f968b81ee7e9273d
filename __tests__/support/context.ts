// A RunContext as the action would read it on a Linux runner for a push to main of
// mirage/mirage-www; each test names only the fields it is about.
import type { RunContext } from '../../src/context.js';

export type ContextOverrides = Partial<RunContext> & Pick<RunContext, 'workspace' | 'runnerTemp'>;

export function testContext(overrides: ContextOverrides): RunContext {
  return {
    eventName: 'push',
    payload: {},
    ref: 'refs/heads/main',
    sha: 'a'.repeat(40),
    repository: 'mirage/mirage-www',
    serverUrl: 'https://github.com',
    apiUrl: 'https://api.github.com',
    runId: '1',
    runAttempt: '1',
    runnerOs: 'Linux',
    runnerArch: 'X64',
    cores: 2,
    ...overrides,
  };
}
