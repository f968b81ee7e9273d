/**
 * The boot test through the bundle (input `boot-test`): the built image runs in the build sandbox
 * before any deploy. unix images are the fixture's ordinary Linux programs (or scripts put in
 * their place by `build-command`); spt runs for real under the prebuilt solo5-spt with solo5's own
 * test images, and hvt too where /dev/kvm is usable; xen cannot run on a Linux runner.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAlbatross } from '../support/albatross.js';
import { createBareRepo, snapshotRepo } from '../support/bare-repo.js';
import { sshDeployInputs, showFile } from '../support/deploy-scenario.js';
import { useFixtureScope } from '../support/fixture-action.js';
import type { RunResult } from '../support/harness.js';
import { startSshd, type SshdServer } from '../support/sshd.js';
import { summaryValues } from '../support/summary-table.js';

const fixture = useFixtureScope('boot-test-');
const SHA = '0123456789abcdef0123456789abcdef01234567';
const solo5 = findAlbatross().found;
let repo: string;
let sshd: SshdServer;

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
});

/** A build of example/hello whose image is replaced by `script` (a unix "unikernel"), deploying. */
function unixJob(name: string, script: string | undefined, inputs: Record<string, string> = {}): Promise<RunResult> {
  return fixture.runExample({
    workspace: name,
    prepare: (dir) => {
      if (script !== undefined) writeFileSync(join(dir, 'boot.sh'), `#!/bin/sh\n${script}`, { mode: 0o755 });
    },
    inputs: {
      cache: 'false',
      deploy: 'true',
      ...sshDeployInputs(sshd),
      ...(script === undefined ? {} : { 'build-command': "sh -c 'make build && cp boot.sh dist/hello'" }),
      ...inputs,
    },
  });
}

/** A build for `target` whose image is one of solo5's test images, under the prebuilt tender. */
function solo5Job(name: string, target: string, image: string, inputs: Record<string, string> = {}) {
  const bin = solo5?.bin ?? '';
  const images = solo5?.images ?? '';
  return fixture.runExample({
    workspace: name,
    inputs: {
      cache: 'false',
      target,
      'build-command': `sh -c 'make build && cp ${join(images, image)} dist/hello.${target}'`,
      'boot-test-tender': join(bin, `solo5-${target}`),
      ...inputs,
    },
  });
}

/** Whether this machine's /dev/kvm can run hvt (GitHub's Linux runners can, once its permissions are opened). */
function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const notices = (log: string) => [...log.matchAll(/^::notice[^:]*::(.*)$/gm)].map((m) => m[1] ?? '');

describe('boot test through the bundle', () => {
  it('an image that exits 1 at boot fails the step, shows its console, and is not pushed', async () => {
    const before = await snapshotRepo(repo);
    const result = await unixJob('exits-1', 'echo "first console line"\necho "cannot start: no config"\nexit 1\n');
    expect(result.main.exitCode, result.log).toBe(1);
    expect(result.outputs['boot-test']).toBe('failed');
    const error = result.errors.join('\n');
    expect(error).toContain('boot test: hello failed to boot: it exited with code 1');
    expect(error).toContain('first console line\ncannot start: no config');
    expect(summaryValues(result.summary)['boot test']).toBe(
      'failed: it exited with code 1; console: first console line / cannot start: no config',
    );
    expect(result.outputs.deployed).toBeUndefined();
    expect(await snapshotRepo(repo)).toBe(before);
  }, 300_000);

  it('an image still running at the timeout passes, had no network but loopback, is stopped, and is pushed', async () => {
    // The image tries the deploy server on the host's loopback (in its own network namespace it cannot
    // reach it) and to change its own folder (read-only to it: only its scratch folder is writable).
    const script =
      `if bash -c 'exec 3<>/dev/tcp/127.0.0.1/${sshd.port}' 2>/dev/null; then echo reached the host; exit 1; fi\n` +
      `if touch ${join(fixture.base, 'keeps-running', 'hello', 'dist', 'hello.args')} 2>/dev/null; then echo wrote the workspace; exit 1; fi\n` +
      'touch written-here\necho "listening on loopback only"\nexec sleep 987654\n';
    const result = await unixJob('keeps-running', script, { 'boot-test-timeout': '3' });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs['boot-test']).toBe('passed');
    expect(result.log).toContain('listening on loopback only');
    expect(existsSync(join(result.dirs.workspace, 'hello', 'dist', 'hello.args'))).toBe(false);
    expect(summaryValues(result.summary)['boot test']).toBe('passed: still running after 3 s, then stopped');
    expect(result.outputs.deployed).toBe('true');
    expect(await showFile(repo, 'main', 'unix/latest')).toBe(`${SHA}\n`);
    // The sandbox's PID namespace took the image down with it.
    expect(() => execFileSync('pgrep', ['-f', 'sleep 987654'])).toThrow();
  }, 300_000);

  it('the fixture image, which exits 0, passes and is pushed; `boot-test: off` skips it', async () => {
    const good = await unixJob('exits-0', undefined);
    expect(good.main.exitCode, good.log).toBe(0);
    expect(good.outputs['boot-test']).toBe('passed');
    expect(summaryValues(good.summary)['boot test']).toBe('passed: it exited 0');
    expect(good.outputs.deployed).toBe('true');

    const off = await unixJob('off', 'exit 1\n', { 'boot-test': 'off', deploy: 'false' });
    expect(off.main.exitCode, off.log).toBe(0);
    expect(off.outputs['boot-test']).toBe('skipped');
    expect(off.log).toContain('the boot test skipped: input `boot-test` is off');
  }, 300_000);
});

describe.runIf(solo5 !== undefined)('boot test of Solo5 images under the real tender', () => {
  it("spt: solo5's test_exception fails the step, test_hello passes", async () => {
    const bad = await solo5Job('spt-exception', 'spt', 'test_exception.spt');
    expect(bad.main.exitCode, bad.log).toBe(1);
    expect(bad.outputs['boot-test']).toBe('failed');
    expect(bad.errors.join('\n')).toMatch(/boot test: hello\.spt failed to boot: it exited with code \d+/);
    expect(bad.errors.join('\n')).toContain('**** Solo5 standalone test_exception ****');

    const good = await solo5Job('spt-hello', 'spt', 'test_hello.spt', { 'boot-test-args': 'from the boot test' });
    expect(good.main.exitCode, good.log).toBe(0);
    expect(good.outputs['boot-test']).toBe('passed');
    expect(good.log).toContain("Command line is: 'from the boot test'");
  }, 300_000);

  it('spt: an image with a network device is skipped under auto (the notice says why)', async () => {
    const result = await solo5Job('spt-net', 'spt', 'test_net.spt');
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs['boot-test']).toBe('skipped');
    expect(notices(result.log)).toContain(
      'boot test skipped: the image declares devices the boot test cannot set up (no network but loopback, no disk): service0 (NET_BASIC)',
    );
  }, 300_000);

  it.runIf(kvmUsable())(
    'hvt: test_hello boots under solo5-hvt with /dev/kvm bound into the sandbox',
    async () => {
      const result = await solo5Job('hvt-hello', 'hvt', 'test_hello.hvt');
      expect(result.main.exitCode, result.log).toBe(0);
      expect(result.outputs['boot-test']).toBe('passed');
      expect(result.log).toContain('Solo5: solo5_exit(0) called');
    },
    300_000,
  );
});

describe('a target that cannot run here', () => {
  const why = 'target `xen` cannot run on a Linux runner (it needs its own hypervisor)';

  it('is skipped under auto (the notice says why); under required the step fails and nothing is pushed', async () => {
    const auto = await fixture.runExample({ workspace: 'xen-auto', inputs: { cache: 'false', target: 'xen' } });
    expect(auto.main.exitCode, auto.log).toBe(0);
    expect(auto.outputs['boot-test']).toBe('skipped');
    expect(notices(auto.log)).toContain(`boot test skipped: ${why}`);
    expect(summaryValues(auto.summary)['boot test']).toBe(`skipped: ${why}`);

    const before = await snapshotRepo(repo);
    const required = await fixture.runExample({
      workspace: 'xen-required',
      inputs: { cache: 'false', target: 'xen', 'boot-test': 'required', deploy: 'true', ...sshDeployInputs(sshd) },
    });
    expect(required.main.exitCode, required.log).toBe(1);
    expect(required.outputs['boot-test']).toBe('failed');
    expect(required.errors).toContain(`boot test: input \`boot-test\` is required, but ${why}`);
    expect(required.outputs.deployed).toBeUndefined();
    expect(await snapshotRepo(repo)).toBe(before);
  }, 300_000);
});

describe.runIf(solo5 !== undefined)(
  'a deploy-only job (`image-path`): off by default, asked for, in a sandbox of its own',
  () => {
    /** A build job (its boot test off) leaving solo5's `image` as dist/hello.spt, kept as an artifact. */
    async function artifactOf(name: string, image: string): Promise<string> {
      const built = await solo5Job(`${name}-build`, 'spt', image, { 'boot-test': 'off' });
      expect(built.main.exitCode, built.log).toBe(0);
      const artifact = join(fixture.base, `${name}-artifact`);
      cpSync(join(built.dirs.workspace, 'hello', 'dist'), artifact, { recursive: true });
      return artifact;
    }

    function deployJob(name: string, artifact: string, inputs: Record<string, string>): Promise<RunResult> {
      const workspace = join(fixture.base, `${name}-deploy`);
      rmSync(workspace, { recursive: true, force: true });
      mkdirSync(workspace, { recursive: true });
      cpSync(artifact, join(workspace, 'dist'), { recursive: true });
      return fixture.run({
        workspace,
        inputs: { target: 'spt', 'image-path': 'dist', deploy: 'true', ...sshDeployInputs(sshd), ...inputs },
        timeoutMs: 120_000,
      });
    }

    it('test_exception is not pushed, test_hello is; without `boot-test-tender` or by default nothing runs', async () => {
      const tender = { 'boot-test': 'auto', 'boot-test-tender': join(solo5?.bin ?? '', 'solo5-spt') };
      const bad = await artifactOf('exception', 'test_exception.spt');
      const before = await snapshotRepo(repo);
      const refused = await deployJob('exception', bad, tender);
      expect(refused.main.exitCode, refused.log).toBe(1);
      expect(refused.outputs['boot-test']).toBe('failed');
      expect(refused.errors.join('\n')).toMatch(/boot test: hello\.spt failed to boot: it exited with code \d+/);
      expect(await snapshotRepo(repo)).toBe(before);

      const byDefault = await deployJob('default', bad, { deploy: 'false' });
      expect(byDefault.main.exitCode, byDefault.log).toBe(0);
      expect(byDefault.outputs['boot-test']).toBe('skipped');
      expect(byDefault.log).not.toContain('Solo5 standalone');
      const noTender = await deployJob('no-tender', bad, { 'boot-test': 'auto', deploy: 'false' });
      expect(noTender.outputs['boot-test']).toBe('skipped');
      expect(notices(noTender.log)).toContain(
        'boot test skipped: a deploy-only job (`image-path`) runs spt only under input `boot-test-tender`',
      );

      const good = await artifactOf('hello', 'test_hello.spt');
      const deployed = await deployJob('hello', good, tender);
      expect(deployed.main.exitCode, deployed.log).toBe(0);
      expect(deployed.outputs['boot-test']).toBe('passed');
      expect(deployed.log).toContain('**** Solo5 standalone test_hello ****');
      expect(deployed.outputs.deployed).toBe('true');
      expect(await showFile(repo, 'main', 'spt/latest')).toBe(`${SHA}\n`);
    }, 300_000);
  },
);
