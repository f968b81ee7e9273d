/**
 * host/mirage-deploy-pull --albatross NAME against a real local albatross daemon (albatrossd and
 * albatross-console v2.7.2, see support/albatross-local.ts), with real solo5 images booted by the
 * real solo5-spt: the first image created, a new deploy replacing it, a boot-arguments-only change
 * recreating it, and a crashing image replaced by the previous one.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo, runProcess } from '../support/bare-repo.js';
import { findAlbatross, startLocalAlbatross, type LocalAlbatross } from '../support/albatross-local.js';
import { shaOf } from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import { startGithubApi } from '../support/github-api.js';
import { current, runPull, seedDeploy, sha256 } from '../support/host-pull.js';

const install = findAlbatross();
if (typeof install === 'string') console.warn(`host-pull-albatross: not run: ${install}`);

const scratch = useDeployScratch('host-pull-albatross-');
let daemon: LocalAlbatross;
let repo: string;
let state: string;

describe.skipIf(typeof install === 'string')('--albatross web against a local albatrossd', () => {
  beforeAll(async () => {
    if (typeof install === 'string') return;
    daemon = await startLocalAlbatross(install, scratch.base);
    repo = await createBareRepo(path.join(scratch.base, 'deployment.git'));
    state = path.join(scratch.base, 'state');
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  const image = async (name: string) => {
    if (typeof install === 'string') throw new Error(install);
    return readFile(path.join(install.images, name));
  };

  const seed = async (sha: string, file: string, args?: string) =>
    seedDeploy(repo, scratch.base, {
      directory: 'spt',
      sha,
      images: [{ file: 'web.spt', bytes: await image(file), ...(args === undefined ? {} : { args }) }],
    });

  const pull = (extra: string[] = []) =>
    runPull(
      [
        '--repository',
        repo,
        '--directory',
        'spt',
        '--state',
        state,
        '--albatross',
        'web',
        '--albatross-socket',
        daemon.socket,
        '--albatross-arg',
        '--mem=32',
        ...extra,
      ],
      { home: scratch.base, env: { PATH: `${daemon.bin}:${process.env.PATH ?? ''}` } },
    );

  // the console streams until it is cut: 3 s is enough for the lines already there
  const client = (args: string[]) =>
    runProcess('timeout', ['3', path.join(daemon.bin, 'albatross-client'), ...args], { timeoutMs: 20_000 });

  /** What albatrossd lists for `web` (`no unikernels` when it runs nothing of that name). */
  const info = async () => {
    const r = await client(['info', '--name=web', `--socket=${daemon.socket}`]);
    return r.stdout + r.stderr;
  };

  /** The console lines of `web` since the daemon started (the stream is cut after 3 s). */
  const console_ = async () => {
    const r = await client([
      'console',
      'web',
      '--since=1970-01-01T00:00:00Z',
      `--socket=${path.join(path.dirname(daemon.socket), 'console.sock')}`,
      '--count=200',
    ]);
    return r.stdout;
  };

  const ONE = shaOf('albatross one');
  const TWO = shaOf('albatross two');
  const THREE = shaOf('albatross three');
  const CRASH = shaOf('albatross crash');

  it('the first image is created with its boot arguments', async () => {
    await seed(ONE, 'test_hello.spt', '--hello=one');
    const r = await pull();
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`updated: spt/${ONE} (web.spt) runs`);
    expect(await info()).toContain('[unikernel: :web]: typ solo5');
    expect(await info()).toContain(`digest ${sha256(await image('test_hello.spt'))}`);
    expect(await console_()).toContain("Command line is: '--name=web --hello=one'");
  }, 60_000);

  it('a boot-arguments-only change recreates it with the new arguments', async () => {
    await seed(TWO, 'test_hello.spt', '--hello=two');
    const r = await pull();
    expect(r.code, r.output).toBe(0);
    expect(current(state)).toBe(`images/${TWO}`);
    expect(await console_()).toContain("Command line is: '--name=web --hello=two'");
  }, 60_000);

  it('a new deploy replaces it', async () => {
    await seed(THREE, 'mirage-hello.spt');
    const r = await pull();
    expect(r.code, r.output).toBe(0);
    expect(await info()).toContain(`digest ${sha256(await image('mirage-hello.spt'))}`);
    expect(await console_()).toContain('[application] hello');
  }, 60_000);

  it('an image that crashes at boot is replaced by the previous one (exit 1), its console in the log', async () => {
    await seed(CRASH, 'test_exception.spt');
    const r = await pull();
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain(`spt/${CRASH} (web.spt): web is not running after albatross-client create`);
    expect(r.stderr).toContain(`rolled back: ${THREE} (web.spt) runs again`);
    expect(r.stderr).toContain("the last lines of web's console:");
    expect(r.stderr).toContain('test_exception');
    expect(current(state)).toBe(`images/${THREE}`);
    expect(await info()).toContain(`digest ${sha256(await image('mirage-hello.spt'))}`);
    const again = await pull();
    expect(again.code, again.output).toBe(1);
    expect(again.stderr).toContain('failed before and is not tried again');
  }, 90_000);

  it("reporting to GitHub: the failure is posted, the console's last lines in the host log", async () => {
    const api = await startGithubApi();
    try {
      const sha = shaOf('albatross crash reported');
      const deployment = api.addDeployment('mirage/www', sha);
      await seedDeploy(repo, scratch.base, {
        directory: 'spt',
        sha,
        images: [{ file: 'web.spt', bytes: await image('test_exception.spt'), args: '--reported=1' }],
        record: `repository=mirage/www\nid=${deployment.id}\nenvironment=spt\nsha=${sha}\n`,
      });
      const token = path.join(scratch.base, 'github-token');
      await writeFile(token, 'github_pat_albatross\n', { mode: 0o600 });
      const r = await pull([
        '--github-token-file',
        token,
        '--github-repository',
        'mirage/www',
        '--github-api-url',
        api.url,
      ]);
      expect(r.code, r.output).toBe(1);
      expect(r.stderr).toContain("the last lines of web's console:");
      expect(r.stderr).toContain('test_exception');
      expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
      const description = String(deployment.statuses[1]?.description);
      expect(description).toMatch(
        /^web is not running after albatross-client create \(its console's last lines are in the host log\)/,
      );
      expect(description.length).toBeLessThanOrEqual(140);
      expect(current(state)).toBe(`images/${THREE}`);
    } finally {
      await api.stop();
    }
  }, 90_000);
});
