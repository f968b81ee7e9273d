/**
 * `npm run local` shows what a real run shows: main and then the post step through
 * @github/local-action, the commit checked out as GITHUB_SHA, and the job summary written.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/harness.js';

describe('npm run local', () => {
  it('runs main and the post step, with GITHUB_SHA, and writes the job summary', () => {
    const run = spawnSync('npm', ['run', 'local'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 300_000 });
    const log = `${run.stdout}\n${run.stderr}`;
    expect(run.status, log).toBe(0);
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).stdout.trim();
    expect(log).toContain(`event: workflow_dispatch on refs/heads/main at ${head}`);
    expect(log).toContain('Running Post Step');
    expect(log).not.toContain('does not export a run() function');

    const image = /::set-output name=image-sha256::([0-9a-f]{64})/.exec(log)?.[1];
    expect(image, log).toBeDefined();
    const summary = readFileSync(join(PROJECT_ROOT, '.tmp/local/summary.md'), 'utf8');
    expect(summary).toContain('<h3>mirage-deploy: unix (hello)</h3>');
    expect(summary).toContain('<tr><td>target</td><td>unix</td></tr>');
    expect(summary).toContain(`<tr><td>sha256</td><td><code>${image}</code></td></tr>`);
    // The post step runs in the same process here: it must not write main's table again.
    expect(summary.split('<td>target</td>').length).toBe(2);
  });
});
