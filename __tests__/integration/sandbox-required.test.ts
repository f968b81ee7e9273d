/**
 * Secure by default: on a runner without bubblewrap (a PATH without `bwrap`, given to the bundle),
 * a job that builds while holding a secret is refused before anything is built, naming the
 * two-job pattern (`image-path`) and the opt-out; with `allow-unsandboxed-build` it builds,
 * deploys and warns; a build-only job without secrets builds, with a notice.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { pathWithout } from '../support/path-without.js';
import { createBareRepo } from '../support/bare-repo.js';
import { sshDeployInputs } from '../support/deploy-scenario.js';
import { useFixtureScope } from '../support/fixture-action.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const fixture = useFixtureScope('sandbox-required-');
let sshd: SshdServer;
let repo: string;
/** PATH: one folder linking every program of this machine's PATH but bwrap. */
let noBwrapPath: string;

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'srv', 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
  noBwrapPath = pathWithout(join(fixture.base, 'no-bwrap-bin'), ['bwrap']);
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
});

const tip = () =>
  execFileSync('git', ['--git-dir', repo, 'rev-parse', '--verify', '-q', 'refs/heads/main'], {
    encoding: 'utf8',
  }).trim();
const safeTip = () => {
  try {
    return tip();
  } catch {
    return '';
  }
};

const job = (workspace: string, inputs: Record<string, string>) =>
  fixture.runExample({
    workspace,
    opamRoot: 'unsandboxed-opam-root',
    // opam's own per-package sandbox needs bwrap too: it is turned off with its own input.
    inputs: { target: 'unix', cache: 'false', 'opam-disable-sandboxing': 'true', ...inputs },
    env: { PATH: noBwrapPath },
    event: 'push-default-branch',
  });

describe('a job holding a secret where no sandbox can be made', () => {
  it('is refused before building, naming `image-path` and the opt-out', async () => {
    const before = safeTip();
    const result = await job('refused', { deploy: 'true', ...sshDeployInputs(sshd) });
    expect(result.main.exitCode, result.log).toBe(1);
    const [error] = result.errors;
    expect(error).toContain('`deploy-key`');
    expect(error).toContain('`image-path`');
    expect(error).toContain('allow-unsandboxed-build');
    expect(error).toContain('bubblewrap (`bwrap`) is not installed');
    expect(result.outputs.sandbox).toBe('none');
    // Nothing ran: no opam, no configure, no image, nothing pushed.
    expect(result.log).not.toMatch(/mirage configure|Install opam/);
    expect(existsSync(join(fixture.base, 'refused', 'hello', 'dist'))).toBe(false);
    expect(safeTip()).toBe(before);
  }, 300_000);

  it('builds and deploys with `allow-unsandboxed-build`, warning in the log and the summary', async () => {
    const result = await job('opted-out', {
      deploy: 'true',
      ...sshDeployInputs(sshd),
      'allow-unsandboxed-build': 'true',
    });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs.deployed).toBe('true');
    expect(result.outputs.sandbox).toBe('none');
    expect(result.log).toMatch(/^::warning title=Unsandboxed build holding secrets::.*`deploy-key`/m);
    expect(result.summary).toContain('allow-unsandboxed-build');
    expect(safeTip()).not.toBe('');
  }, 300_000);
});

describe('a build-only job without secrets where no sandbox can be made', () => {
  it('builds, with a notice, and says sandbox=none', async () => {
    const result = await job('build-only', { deploy: 'false' });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs.sandbox).toBe('none');
    expect(result.outputs['image-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(result.log).toMatch(/^::notice title=Unsandboxed build::the build runs unsandboxed/m);
  }, 300_000);
});
