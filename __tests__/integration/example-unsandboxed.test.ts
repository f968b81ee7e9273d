/**
 * The quick start's one-job run on a machine that cannot make the build sandbox (here: a PATH
 * without bubblewrap, as in a plain `docker run debian:12` without it): it says so, builds and
 * deploys with the opt-out, and the action's warning about the unsandboxed build is in its log.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runProcess } from '../support/bare-repo.js';
import { NODES, PROJECT_ROOT } from '../support/harness.js';
import { pathWithout } from '../support/path-without.js';

it('without bubblewrap, the example says so, takes the opt-out and still deploys, with the warning', async () => {
  const path = pathWithout(join(mkdtempSync(join(tmpdir(), 'example-unsandboxed-')), 'bin'), ['bwrap']);
  const run = await runProcess(NODES.node24, ['--import', './scripts/ts-hooks.mjs', 'example/run.ts', 'unix'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PATH: path },
    timeoutMs: 400_000,
  });
  const output = run.stdout + run.stderr;
  expect(run.code, output).toBe(0);
  expect(output).toContain('This machine cannot run the build sandbox');
  expect(output).toContain('`allow-unsandboxed-build: true`');
  expect(output).toMatch(/the build runs unsandboxed while this job holds `deploy-token`/);
  expect(output).toMatch(/sandbox = none/);
  expect(output).toMatch(/deployed = true/);
}, 420_000);
