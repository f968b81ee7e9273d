/**
 * A git server that ignores the partial-clone filter (`uploadpack.allowFilter` unset, as on some
 * self-hosted forges) sends every file of the tip, earlier images included. Through the bundle, a
 * dry-run deploy over SSH to the real sshd: the log says so with the bytes received; with the
 * filter honoured, nothing is said.
 */
import { join } from 'node:path';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { createBareRepo } from '../support/bare-repo.js';
import { seedHistory } from '../support/deploy-history.js';
import { bareGit, sshDeployInputs } from '../support/deploy-scenario.js';
import { useFixtureScope } from '../support/fixture-action.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const IMAGES = 3;
const IMAGE_BYTES = 256 * 1024;

const fixture = useFixtureScope('deploy-filter-');
let repo: string;
let sshd: SshdServer;

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'deployment.git'));
  await seedHistory(repo, fixture.base, {
    target: 'xen',
    images: IMAGES,
    imageBytes: IMAGE_BYTES,
    start: Date.parse('2026-05-01T00:00:00Z'),
  });
  sshd = await startSshd({ repoPath: repo });
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
});

function dryRun(name: string) {
  return fixture.runExample({
    workspace: name,
    inputs: { target: 'xen', cache: 'false', deploy: 'true', 'dry-run': 'true', ...sshDeployInputs(sshd) },
  });
}

const NOTICE = /^::warning::the git server of .* ignored the partial-clone filter .*: (\d+) bytes received\./m;

describe('a git server that ignores the partial-clone filter', () => {
  it('is named in the log with the bytes it sent, and the deploy still goes through', async () => {
    await bareGit(repo, ['config', 'uploadpack.allowFilter', 'false']);
    const result = await dryRun('ignored');
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs['deploy-path']).toMatch(/^xen\/[0-9a-f]{40}$/);
    const said = NOTICE.exec(result.log);
    expect(said, result.log).not.toBeNull();
    const bytes = Number(said?.[1]);
    console.log(`filter ignored: ${bytes} bytes received for a tip holding ${IMAGES} images of ${IMAGE_BYTES} bytes`);
    expect(bytes).toBeGreaterThan(IMAGES * IMAGE_BYTES); // every earlier image came down
    expect(result.log).toContain('`uploadpack.allowFilter`');
    expect(result.log.match(/ignored the partial-clone filter/g)).toHaveLength(1);
  });

  it('says nothing when the server honours it', async () => {
    await bareGit(repo, ['config', 'uploadpack.allowFilter', 'true']);
    const result = await dryRun('honoured');
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.log).not.toContain('partial-clone filter');
  });
});
