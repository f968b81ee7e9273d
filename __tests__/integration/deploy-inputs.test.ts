/**
 * Inputs that used to slip through, refused or redacted by the bundle before any work: a URL with
 * credentials is never echoed, a branch name git would misread and a multi-line build command are
 * refused naming the input, and nothing is run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commands } from '../support/fixture-action.js';
import { removeRun, runAction, type RunResult } from '../support/harness.js';

const runs: RunResult[] = [];
const workspace = mkdtempSync(join(tmpdir(), 'deploy-inputs-'));
writeFileSync(join(workspace, 'config.ml'), 'let () = ()\n');
afterAll(() => {
  runs.forEach(removeRun);
  rmSync(workspace, { recursive: true, force: true });
});

async function run(inputs: Record<string, string>): Promise<RunResult> {
  const result = await runAction({
    workspace,
    event: 'workflow_dispatch',
    inputs: { target: 'xen', ...inputs },
    timeoutMs: 60_000,
  });
  runs.push(result);
  return result;
}

describe('inputs through the bundle', () => {
  it('a deploy-repository URL with credentials is refused without its user information ever being printed', async () => {
    const result = await run({
      deploy: 'true',
      'rollback-to': 'a'.repeat(40),
      'deploy-repository': 'https://x-access-token:hunter2hunter2@127.0.0.1:1/o/r.git',
      'deploy-token': `github_pat_${'5'.repeat(40)}`,
    });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors.join('\n')).toMatch(/input `deploy-repository`: holds a user name or password/);
    expect(result.log).toContain('https://***@127.0.0.1:1/o/r.git');
    expect(result.log).not.toContain('hunter2hunter2');
    expect(result.summary).not.toContain('hunter2hunter2');
  });

  it('deploy-repository-branch `--force` and a two-line build-command are refused before anything runs', async () => {
    const result = await run({
      'deploy-repository-branch': '--force',
      'build-command': 'make build\ntouch /tmp/mirage-deploy-pwned',
    });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors).toEqual([
      expect.stringMatching(/^input `build-command`: holds more than one line/),
      expect.stringMatching(/^input `deploy-repository-branch`: `--force` is not a branch name git accepts/),
      '2 inputs are invalid; nothing was done',
    ]);
    expect(commands(result.log)).toEqual([]);
  });
});
