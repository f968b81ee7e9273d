/**
 * `deploy-to: albatross` through the bundle, against the REAL albatross: two albatross-tls-endpoints
 * on 127.0.0.1 (one albatrossd each) in remote mode, with a CA made by `albatross-client generate`.
 * The images are solo5's own test unikernels, put in `dist/` by `build-command`; the tender is a
 * stand-in that prints its arguments and stays up, except where the real solo5-spt runs
 * test_exception.spt.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  delegate,
  findAlbatross,
  generateCa,
  startEndpoint,
  type AlbatrossCa,
  type AlbatrossEndpoint,
} from '../support/albatross.js';
import { createBareRepo } from '../support/bare-repo.js';
import { sshDeployInputs, showFile } from '../support/deploy-scenario.js';
import { useFixtureScope } from '../support/fixture-action.js';
import type { RunOptions, RunResult } from '../support/harness.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const { found, missing } = findAlbatross();
const SHA = '0123456789abcdef0123456789abcdef01234567';
const LATER = '89abcdef0123456789abcdef0123456789abcdef';

const fixture = useFixtureScope('albatross-');
let ca: AlbatrossCa;
let stranger: AlbatrossCa;
let first: AlbatrossEndpoint;
let second: AlbatrossEndpoint;
let real: AlbatrossEndpoint;
let repo: string;
let sshd: SshdServer;

/** Every file under `dir`, for the leftover check. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

function expectKeyNowhere(result: RunResult): void {
  const key = ca.key.split('\n')[1] ?? '';
  expect(key.length).toBeGreaterThan(20);
  expect(result.log.includes(key), 'the log holds the key').toBe(false);
  expect(JSON.stringify(result.outputs).includes(key), 'an output holds the key').toBe(false);
  expect(result.masks).toContain(key);
  for (const file of filesUnder(result.dirs.runnerTemp)) {
    expect(readFileSync(file).includes(Buffer.from(key)), `${file} holds the key`).toBe(false);
  }
}

function deploy(name: string, image: string, inputs: Record<string, string>, options: Partial<RunOptions> = {}) {
  const images = found?.images ?? '';
  return fixture.runExample({
    workspace: name,
    inputs: {
      target: 'spt',
      cache: 'false',
      'build-command': `sh -c 'mkdir -p dist && cp ${join(images, image)} dist/hello.spt'`,
      deploy: 'true',
      'deploy-to': 'albatross',
      'albatross-endpoints': `${first.endpoint}\n${second.endpoint}`,
      'albatross-ca-key': ca.key,
      'albatross-ca-cert': ca.cert,
      'albatross-server-ca': ca.cert,
      'albatross-client': join(found?.bin ?? '', 'albatross-client'),
      'albatross-boot-wait': '1',
      'albatross-memory': '16',
      ...inputs,
    },
    ...options,
  });
}

const running = (endpoint: AlbatrossEndpoint) => /\[unikernel: [^\]]*:hello\]:\s+typ solo5/.test(endpoint.info());

// Each test runs the action (setup from the fixture, a build, the deploy) once or twice: minutes on a busy machine.
describe.skipIf(!found)(
  `albatross: deploy to real albatross-tls-endpoints${missing ? ` (not run: ${missing})` : ''}`,
  { timeout: 300_000 },
  () => {
    beforeAll(async () => {
      const bin = found?.bin ?? '';
      ca = generateCa(bin, join(fixture.base, 'ca'));
      stranger = generateCa(bin, join(fixture.base, 'stranger'));
      [first, second, real] = await Promise.all([
        startEndpoint(bin, ca, 'stand-in'),
        startEndpoint(bin, ca, 'stand-in'),
        startEndpoint(bin, ca, 'real'),
      ]);
      repo = await createBareRepo(join(fixture.base, 'deployment.git'));
      sshd = await startSshd({ repoPath: repo });
    }, 120_000);

    afterAll(async () => {
      await Promise.all([first?.stop(), second?.stop(), real?.stop(), sshd?.stop()]);
    });

    it('a pull request deploys nothing', async () => {
      const result = await deploy('pr', 'test_hello.spt', {}, { event: 'pull_request-fork' });
      expect(result.main.exitCode, result.log).toBe(0);
      expect(result.outputs['albatross-running'] ?? '').toBe('');
      expect(running(first) || running(second)).toBe(false);
    });

    it('creates the unikernel on both endpoints with its boot arguments, then writes the repository', async () => {
      const result = await deploy(
        'both',
        'test_hello.spt',
        {
          'deploy-to': 'repository,albatross',
          'boot-args': '--greeting=one',
          ...sshDeployInputs(sshd),
        },
        { sha: SHA },
      );
      expect(result.main.exitCode, result.log).toBe(0);
      expect(JSON.parse(result.outputs['albatross-running'] ?? '{}')).toEqual({
        [first.endpoint]: 'running',
        [second.endpoint]: 'running',
      });
      for (const endpoint of [first, second]) {
        expect(running(endpoint)).toBe(true);
        expect(await endpoint.console('hello')).toMatch(
          /stand-in tender: --mem=16 -- \S+:hello\.img --name=hello --greeting=one/,
        );
      }
      expect((await showFile(repo, 'main', 'spt/latest')).trim()).toBe(SHA);
      expectKeyNowhere(result);
    });

    it('a failure on the second endpoint gives the first its previous image back; latest does not move', async () => {
      const { writeFileSync, rmSync } = await import('node:fs');
      writeFileSync(join(second.db, 'fail'), '');
      try {
        const result = await deploy(
          'fail-second',
          'test_hello.spt',
          {
            'deploy-to': 'repository,albatross',
            'boot-args': '--greeting=two',
            ...sshDeployInputs(sshd),
          },
          { sha: LATER },
        );
        expect(result.main.exitCode).not.toBe(0);
        expect(result.log).toMatch(/stand-in tender: refusing to boot: .*--greeting=two/);
        expect(JSON.parse(result.outputs['albatross-running'] ?? '{}')).toEqual({
          [first.endpoint]: 'restored',
          [second.endpoint]: 'failed',
        });
        const console = await first.console('hello');
        expect(console.lastIndexOf('--greeting=one')).toBeGreaterThan(console.lastIndexOf('--greeting=two'));
        expect(console).toMatch(/--greeting=two/);
        expect((await showFile(repo, 'main', 'spt/latest')).trim()).toBe(SHA);
        expectKeyNowhere(result);
      } finally {
        rmSync(join(second.db, 'fail'));
      }
    });

    it("rollback-to recreates that commit's image, with its boot arguments, on every endpoint", async () => {
      expect(running(second)).toBe(false);
      const result = await deploy('rollback', 'test_hello.spt', { 'rollback-to': SHA, ...sshDeployInputs(sshd) });
      expect(result.main.exitCode, result.log).toBe(0);
      expect(JSON.parse(result.outputs['albatross-running'] ?? '{}')).toEqual({
        [first.endpoint]: 'running',
        [second.endpoint]: 'running',
      });
      const console = await second.console('hello');
      expect(console.lastIndexOf('--greeting=one')).toBeGreaterThan(console.lastIndexOf('--greeting=two'));
      expectKeyNowhere(result);
    });

    it('dry-run checks both endpoints and creates nothing', async () => {
      const result = await deploy('dry-run', 'test_hello.spt', { 'dry-run': 'true', 'albatross-name': 'dry' });
      expect(result.main.exitCode, result.log).toBe(0);
      expect(result.log).toMatch(
        /albatross \(dry run\): would run `albatross-client create --force .*-- dry \S+hello\.spt`/,
      );
      expect(first.info() + second.info()).not.toMatch(/:dry\]/);
    });

    it('a client given as a URL is downloaded and run only with its pinned sha256', async () => {
      const binary = readFileSync(join(found?.bin ?? '', 'albatross-client'));
      const server = createServer((_, res) => res.end(binary));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/albatross-client`;
      try {
        const digest = createHash('sha256').update(binary).digest('hex');
        const inputs = { 'albatross-client': url, 'dry-run': 'true', 'albatross-name': 'fetched' };
        const pinned = await deploy('client-url', 'test_hello.spt', { ...inputs, 'albatross-client-sha256': digest });
        expect(pinned.main.exitCode, pinned.log).toBe(0);
        expect(pinned.log).toContain(`albatross: client downloaded from ${url}`);
        expect(pinned.log).toMatch(/albatross \(dry run\): would run `albatross-client create --force .*-- fetched /);
        const other = await deploy('client-url-other', 'test_hello.spt', {
          ...inputs,
          'albatross-client-sha256': '0'.repeat(64),
        });
        expect(other.main.exitCode).not.toBe(0);
        expect(other.errors.join('\n')).toMatch(
          /input `albatross-client-sha256`: \S+ has sha256 [0-9a-f]{64}, not the pinned/,
        );
        expect(other.log).not.toMatch(/mirage configure/);
      } finally {
        server.close();
      }
    });

    it('a client binary whose sha256 is not the pinned one is refused before anything runs', async () => {
      const result = await deploy('client-sha256', 'test_hello.spt', { 'albatross-client-sha256': '0'.repeat(64) });
      expect(result.main.exitCode).not.toBe(0);
      expect(result.errors.join('\n')).toMatch(
        /input `albatross-client-sha256`: \S+albatross-client has sha256 [0-9a-f]{64}/,
      );
      expect(result.log).not.toMatch(/mirage configure/);
    });

    it('a wrong albatross-server-ca is refused naming the input', async () => {
      const result = await deploy('wrong-server-ca', 'test_hello.spt', { 'albatross-server-ca': stranger.cert });
      expect(result.main.exitCode).not.toBe(0);
      expect(result.log).toMatch(/input `albatross-server-ca`: 127\.0\.0\.1:\d+ presented a certificate/);
      expect(JSON.parse(result.outputs['albatross-running'] ?? '{}')).toEqual({ [first.endpoint]: 'failed' });
    });

    it('a key the endpoints do not trust is refused naming the input', async () => {
      const result = await deploy('untrusted-key', 'test_hello.spt', {
        'albatross-ca-key': stranger.key,
        'albatross-ca-cert': stranger.cert,
      });
      expect(result.main.exitCode).not.toBe(0);
      expect(result.log).toMatch(/did not accept the certificate signed with `albatross-ca-key`/);
    });

    it("a key that is not its certificate's is refused before anything runs", async () => {
      const result = await deploy('mismatch', 'test_hello.spt', { 'albatross-ca-cert': stranger.cert });
      expect(result.main.exitCode).not.toBe(0);
      expect(result.errors.join('\n')).toMatch(/input `albatross-ca-cert`: is the certificate of another key/);
      expect(result.log).not.toMatch(/mirage configure/);
    });

    it('a sub-CA delegated with a policy deploys within it, and is refused beyond it', async () => {
      const ci = delegate(found?.bin ?? '', ca, 'ci', ['1', '--mem=32']);
      const inputs = {
        'albatross-endpoints': first.endpoint,
        'albatross-ca-key': ci.key,
        'albatross-ca-cert': ci.cert,
      };
      const within = await deploy('sub-ca', 'test_hello.spt', { ...inputs, 'albatross-name': 'delegated' });
      expect(within.main.exitCode, within.log).toBe(0);
      expect(first.info()).toMatch(/\[unikernel: :?ci:delegated\]:\s+typ solo5/);
      const beyond = await deploy('sub-ca-beyond', 'test_hello.spt', { ...inputs, 'albatross-memory': '64' });
      expect(beyond.main.exitCode).not.toBe(0);
      expect(beyond.log).toMatch(/64 MB memory assigned to unikernel exceeds policy \(32MB\)/);
    });

    it('test_exception.spt under the real solo5-spt fails the step with its console lines', async () => {
      // On a failure the action reads the image `latest` names to give it back: from the test's
      // repository, not the default one on GitHub.
      const result = await deploy('exception', 'test_exception.spt', {
        'albatross-endpoints': real.endpoint,
        ...sshDeployInputs(sshd),
      });
      expect(result.main.exitCode).not.toBe(0);
      expect(result.log).toMatch(
        /hello is no longer running on 127\.0\.0\.1:\d+ 1 s after it was created; its console:/,
      );
      expect(result.log).toMatch(/Solo5 standalone test_exception/);
      expect(JSON.parse(result.outputs['albatross-running'] ?? '{}')).toEqual({ [real.endpoint]: 'failed' });
    });
  },
);
