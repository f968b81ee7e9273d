/**
 * host/mirage-deploy-pull against deployment repositories laid out as the action writes them:
 * over the real sshd with a read-only deploy key and a pinned host key, or from a local path.
 * The end-to-end run behind the bundle is host-pull-bundle.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo, runProcess, snapshotRepo } from '../support/bare-repo.js';
import { seedHistory } from '../support/deploy-history.js';
import { imageBytes, shaOf } from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import {
  HOST_PULL,
  MIRAGE_XL_IN,
  current,
  recordingRestart,
  restarts,
  runPull,
  runningSha256,
  seedDeploy,
  sha256,
  type SeedDeploy,
  type SeedImage,
} from '../support/host-pull.js';
import { basicAuthHeader, startGitHttp } from '../support/git-http.js';
import { startSshd, writeKeyFile, type SshdServer } from '../support/sshd.js';

const scratch = useDeployScratch('host-pull-');
let seq = 0;

/** A fresh folder in the scratch space. */
async function folder(name: string): Promise<string> {
  const dir = path.join(scratch.base, `${name}-${++seq}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A "unikernel" for these tests: a small program whose bytes differ by label. */
const unixImage = (label: string, extra: Partial<SeedImage> = {}): SeedImage => ({
  file: 'hello',
  bytes: Buffer.from(`#!/bin/sh\necho ${label}\nexit 0\n# ${imageBytes(label, 2048).toString('hex')}\n`),
  args: `--hello=${label}`,
  ...extra,
});

describe('the script itself', () => {
  it('is clean under shellcheck (POSIX sh, every warning level) and sh -n', async () => {
    const sc = await runProcess('shellcheck', ['--shell=sh', '--severity=style', HOST_PULL]);
    expect(sc.stdout + sc.stderr).toBe('');
    expect(sc.code).toBe(0);
    const syntax = await runProcess('sh', ['-n', HOST_PULL]);
    expect(syntax.code, syntax.stderr).toBe(0);
    expect(statSync(HOST_PULL).mode & 0o111).toBe(0o111);
  });

  it('--help prints the interface and the exit codes', async () => {
    const home = await folder('home');
    const help = await runPull(['--help'], { home });
    expect(help.code).toBe(0);
    for (const option of [
      '--repository URL',
      '--directory DIR',
      '--state STATE_DIR',
      '--restart CMD',
      '[--image NAME]',
      '[--branch BRANCH]',
      '[--health CMD]',
      '[--health-timeout SECONDS]',
      '[--keep N]',
      '[--ssh-key FILE]',
      '[--known-hosts FILE]',
      '[--xl-set NAME=VALUE]...',
      '[--verify CMD]',
      '[--health-try-timeout SECONDS]',
      '[--max-image-size BYTES]',
      '[--max-file-size BYTES]',
      '--albatross NAME [--albatross-socket PATH] [--albatross-arg ARG]...',
      '[--dry-run]',
      '[--github-token-file FILE --github-repository OWNER/NAME [--github-api-url URL]',
      '[--environment-url URL] [--log-url URL]]',
      'gh attestation verify "$MIRAGE_IMAGE" --repo OWNER/NAME',
    ]) {
      expect(help.stdout).toContain(option);
    }
    for (const code of [
      '0 up to date, updated, or its image is not deployed yet',
      '1 the new image failed and\nthe previous one runs again',
      '2 usage error',
      '3 download or verification failed (nothing changed)',
      '4 another run holds the lock',
      '5 the new image failed and nothing healthy runs',
    ]) {
      expect(help.stdout).toContain(code);
    }
  });

  it('usage errors exit 2 naming the option, before touching anything', async () => {
    const home = await folder('home');
    const state = path.join(await folder('usage'), 'state');
    const base = ['--repository', '/nonexistent', '--state', state, '--restart', 'true'];
    const cases: Array<[string[], RegExp]> = [
      [['--state', state, '--restart', 'true', '--directory', 'xen'], /--repository is required/],
      [[...base], /--directory is required/],
      [[...base, '--directory', '../xen'], /--directory \.\.\/xen: '\.\.' is not a folder name/],
      [[...base, '--directory', 'xen/latest'], /name the folder that holds latest/],
      [[...base, '--directory', '/xen'], /a relative folder/],
      [[...base, '--directory', 'xen', '--image', 'a/b'], /--image a\/b: one file name/],
      [[...base, '--directory', 'xen', '--keep', '0'], /--keep 0: a whole number, at least 1/],
      [[...base, '--directory', 'xen', '--health-timeout', 'soon'], /--health-timeout soon/],
      [[...base, '--directory', 'xen', '--xl-set', 'br0'], /--xl-set br0: expected NAME=VALUE/],
      [
        [...base, '--directory', 'xen', '--ssh-key', '/nonexistent/key'],
        /--ssh-key \/nonexistent\/key: no readable file/,
      ],
      [[...base, '--directory', 'xen', '--colour'], /unknown option --colour/],
      [[...base, '--directory', 'xen', '--keep'], /option --keep needs a value/],
      [[...base, '--directory', 'xen', '--health-try-timeout', '0'], /--health-try-timeout 0: a whole number/],
      [[...base, '--directory', 'xen', '--max-image-size', '1T'], /--max-image-size 1T: a number of bytes/],
      [[...base, '--directory', 'xen', '--max-file-size', 'M'], /--max-file-size M: a number of bytes/],
      [[...base, '--directory', 'xen', '--albatross', 'web'], /--restart and --albatross: choose one/],
      [
        [...base, '--directory', 'xen', '--xl-set', 'NETWORK:service=bridge=br0,script=/tmp/x'],
        /a network is a bridge name, or bridge=NAME\[,backend=DOMAIN\]/,
      ],
      [[...base, '--directory', 'xen', '--xl-set', 'NAME=a"b'], /the value holds a quote/],
    ];
    for (const [args, message] of cases) {
      const r = await runPull(args, { home });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('(see --help)');
    }
    expect(existsSync(state)).toBe(false);
  });
});

describe('over SSH with a read-only deploy key and a pinned host key', () => {
  let repo: string;
  let sshd: SshdServer;
  let home: string;
  let key: string;
  let knownHosts: string;
  let state: string;
  let log: string;
  const FIRST = shaOf('host first');
  const SECOND = shaOf('host second');

  const pull = (extra: string[] = [], restart = recordingRestart(log), pinned = knownHosts) =>
    runPull(
      [
        '--repository',
        sshd.url,
        '--directory',
        'unix',
        '--state',
        state,
        '--ssh-key',
        key,
        '--known-hosts',
        pinned,
        '--restart',
        restart,
        ...extra,
      ],
      { home },
    );

  beforeAll(async () => {
    const dir = await folder('ssh');
    repo = await createBareRepo(path.join(dir, 'deployment.git'));
    sshd = await startSshd({ repoPath: repo });
    home = path.join(dir, 'home');
    await mkdir(home);
    key = await writeKeyFile(path.join(dir, 'read-only-key'), sshd.readOnlyKey);
    knownHosts = path.join(dir, 'known_hosts');
    await writeFile(knownHosts, `${sshd.knownHosts}\n`);
    state = path.join(dir, 'state');
    log = path.join(dir, 'restarts.log');
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('an empty repository: nothing to run, exit 0', async () => {
    const r = await pull();
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain('nothing to run');
    expect(restarts(log)).toEqual([]);
  });

  it('the first image: checked, unpacked executable into images/<sha>/, current points at it, restart gets the environment', async () => {
    const image = unixImage('first');
    await seedDeploy(repo, scratch.base, { directory: 'unix', sha: FIRST, images: [image] });
    const r = await pull();
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`updated: unix/${FIRST} (hello) runs`);
    expect(current(state)).toBe(`images/${FIRST}`);
    const dir = path.join(state, 'images', FIRST);
    expect(readFileSync(path.join(dir, 'hello'))).toEqual(image.bytes);
    expect(statSync(path.join(dir, 'hello')).mode & 0o755).toBe(0o755);
    expect(readdirSync(dir).sort()).toEqual(['.mirage', 'config.ml', 'hello', 'hello.args', 'manifest.json']);
    expect(execFileSync(path.join(dir, 'hello'), { encoding: 'utf8' })).toBe('first\n');
    expect(restarts(log)).toEqual([
      { sha: FIRST, image: path.join(dir, 'hello'), dir, args: '--hello=first', previous: '', xl: '', cwd: dir },
    ]);
    // only the read-only key's sessions, and only upload-pack
    expect(sshd.commands().every((c) => c.startsWith('git-upload-pack '))).toBe(true);
  });

  it('a second run with nothing new does nothing', async () => {
    const before = readdirSync(path.join(state, 'images'));
    const r = await pull();
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`up to date: unix/${FIRST} (hello) runs`);
    expect(restarts(log)).toHaveLength(1);
    expect(readdirSync(path.join(state, 'images'))).toEqual(before);
  });

  it('a newer deploy is swapped in; MIRAGE_PREVIOUS names the image it replaces', async () => {
    await seedDeploy(repo, scratch.base, { directory: 'unix', sha: SECOND, images: [unixImage('second')] });
    const r = await pull();
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`replacing ${FIRST}`);
    expect(current(state)).toBe(`images/${SECOND}`);
    const last = restarts(log).at(-1);
    expect(last).toMatchObject({ sha: SECOND, args: '--hello=second' });
    expect(last?.previous).toBe(path.join(state, 'images', FIRST, 'hello'));
  });

  it('a host key that is not the pinned one: exit 3, nothing changed', async () => {
    const mitm = path.join(path.dirname(knownHosts), 'known_hosts.mitm');
    await writeFile(mitm, `${sshd.otherKnownHosts}\n`);
    await seedDeploy(repo, scratch.base, { directory: 'unix', sha: shaOf('host third'), images: [unixImage('third')] });
    const r = await pull([], recordingRestart(log), mitm);
    expect(r.code, r.output).toBe(3);
    expect(r.stderr).toContain('Host key verification failed.');
    expect(r.stderr).toMatch(/fetching .* failed \(nothing changed\)/);
    expect(current(state)).toBe(`images/${SECOND}`);
    expect(restarts(log)).toHaveLength(2);
  });
});

describe("over smart HTTP, with the credentials of the host's git configuration", () => {
  it('fetches by object id through http-backend too', async () => {
    const dir = await folder('http');
    const repo = await createBareRepo(path.join(dir, 'deployment.git'));
    const sha = shaOf('http');
    await seedDeploy(repo, scratch.base, {
      directory: 'xen',
      sha,
      images: [{ file: 'www.xen', bytes: imageBytes('http', 5000) }],
    });
    const token = 'host-read-token';
    const server = await startGitHttp({ repoPath: repo, token });
    try {
      const gitconfig = path.join(dir, 'gitconfig');
      await writeFile(gitconfig, `[http]\n\textraHeader = Authorization: ${basicAuthHeader(token)}\n`);
      const state = path.join(dir, 'state');
      const r = await runPull(
        ['--repository', server.url, '--directory', 'xen', '--state', state, '--restart', 'true'],
        { home: dir, env: { GIT_CONFIG_GLOBAL: gitconfig } },
      );
      expect(r.code, r.output).toBe(0);
      expect(current(state)).toBe(`images/${sha}`);
      expect(runningSha256(state)).toBe(sha256(imageBytes('http', 5000)));
      expect(server.requests().every((q) => q.status === 200)).toBe(true);
    } finally {
      await server.stop();
    }
  });
});

describe('from a local path', () => {
  let home: string;
  beforeAll(async () => {
    home = await folder('home');
  });

  async function setup(name: string) {
    const dir = await folder(name);
    const repo = await createBareRepo(path.join(dir, 'deployment.git'));
    const state = path.join(dir, 'state');
    const log = path.join(dir, 'restarts.log');
    const pull = (extra: string[] = [], restart = recordingRestart(log)) =>
      runPull(['--repository', repo, '--directory', 'xen', '--state', state, '--restart', restart, ...extra], { home });
    /** Deploys one `www.xen` image of these bytes as `sha` into `xen/`. */
    const seed = (sha: string, bytes: Buffer, image: Partial<SeedImage> = {}, deploy: Partial<SeedDeploy> = {}) =>
      seedDeploy(repo, scratch.base, {
        directory: 'xen',
        sha,
        images: [{ file: 'www.xen', bytes, ...image }],
        ...deploy,
      });
    return { dir, repo, state, log, pull, seed };
  }

  it('a corrupted image (sha256 mismatch) is refused with exit 3; the running one stays', async () => {
    const t = await setup('corrupt');
    const good = shaOf('good');
    await t.seed(good, imageBytes('good', 9000));
    expect((await t.pull()).code).toBe(0);
    const bad = shaOf('bad');
    await t.seed(bad, imageBytes('bad', 9000), {}, { corrupt: 'www.xen.bz2' });
    const r = await t.pull();
    expect(r.code, r.output).toBe(3);
    expect(r.stderr).toMatch(
      new RegExp(
        `xen/${bad}/www\\.xen\\.bz2: sha256 [0-9a-f]{64}, SHA256SUMS says [0-9a-f]{64}: refusing the image \\(nothing changed\\)`,
      ),
    );
    expect(current(t.state)).toBe(`images/${good}`);
    expect(readdirSync(path.join(t.state, 'images'))).toEqual([good]);
    expect(restarts(t.log)).toHaveLength(1);
  });

  it('an image that unpacks to other bytes than SHA256SUMS says is refused too (xz)', async () => {
    const t = await setup('unpacked');
    const sha = shaOf('unpacked');
    await t.seed(sha, imageBytes('u', 5000), { compression: 'xz' });
    // rewrite SHA256SUMS's line for the unpacked image only
    const work = await folder('rewrite');
    execFileSync('git', ['clone', '--quiet', t.repo, work]);
    const sums = path.join(work, 'xen', sha, 'SHA256SUMS');
    await writeFile(
      sums,
      (await readFile(sums, 'utf8')).replace(
        /^# unpacked: [0-9a-f]{64}( {2}www\.xen)$/m,
        `# unpacked: ${'0'.repeat(64)}$1`,
      ),
    );
    execFileSync('git', [
      '-C',
      work,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@t',
      'commit',
      '--quiet',
      '-am',
      'tamper',
    ]);
    execFileSync('git', ['-C', work, 'push', '--quiet', 'origin', 'HEAD:main']);
    const r = await t.pull();
    expect(r.code, r.output).toBe(3);
    expect(r.stderr).toContain(
      `xen/${sha}/www.xen: sha256 ${sha256(imageBytes('u', 5000))}, SHA256SUMS says ${'0'.repeat(64)}`,
    );
    expect(existsSync(path.join(t.state, 'current'))).toBe(false);
    expect(restarts(t.log)).toEqual([]);
  });

  it('--verify refusing the image: exit 3, the running one stays; accepting it: swapped', async () => {
    const t = await setup('verify');
    const one = shaOf('verify one');
    const two = shaOf('verify two');
    await t.seed(one, imageBytes('v1', 3000));
    expect((await t.pull()).code).toBe(0);
    await t.seed(two, imageBytes('v2', 3000));
    const seen = path.join(t.dir, 'verified');
    const refuse = await t.pull(['--verify', `echo "$MIRAGE_IMAGE" >'${seen}'; echo 'no attestation' >&2; exit 1`]);
    expect(refuse.code, refuse.output).toBe(3);
    expect(refuse.stderr).toContain(
      `the --verify command refused xen/${two} (www.xen, sha256 ${sha256(imageBytes('v2', 3000))}): nothing changed, ${one} still runs`,
    );
    expect(readFileSync(seen, 'utf8').trim()).toMatch(new RegExp(`/images/${two}/www\\.xen$`));
    expect(current(t.state)).toBe(`images/${one}`);
    expect(readdirSync(path.join(t.state, 'images'))).toEqual([one]);
    expect(restarts(t.log)).toHaveLength(1);
    const accept = await t.pull([
      '--verify',
      `test "$(sha256sum <"$MIRAGE_IMAGE" | cut -c1-64)" = ${sha256(imageBytes('v2', 3000))}`,
    ]);
    expect(accept.code, accept.output).toBe(0);
    expect(current(t.state)).toBe(`images/${two}`);
  });

  it('a failing restart rolls back and restarts the previous image (exit 1), and is not retried', async () => {
    const t = await setup('rollback');
    const good = shaOf('rb good');
    const broken = shaOf('rb broken');
    await t.seed(good, imageBytes('g', 3000));
    const restart = recordingRestart(t.log, broken);
    expect((await t.pull([], restart)).code).toBe(0);
    await t.seed(broken, imageBytes('b', 3000));
    const r = await t.pull([], restart);
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain(
      `xen/${broken} (www.xen): the restart command failed; rolled back: ${good} (www.xen) runs again`,
    );
    expect(current(t.state)).toBe(`images/${good}`);
    expect(restarts(t.log).map((x) => [x.sha, path.basename(path.dirname(x.previous))])).toEqual([
      [good, '.'],
      [broken, good],
      [good, broken],
    ]);
    expect(readdirSync(path.join(t.state, 'images'))).toEqual([good]);
    const again = await t.pull([], restart);
    expect(again.code, again.output).toBe(1);
    expect(again.stderr).toMatch(
      new RegExp(
        `xen/${broken} \\(www\\.xen\\) failed before and is not tried again: .*the restart command failed \\(remove .*/failed/[0-9a-f]{64} to retry\\)`,
      ),
    );
    expect(restarts(t.log)).toHaveLength(3);
  });

  it('a health check that never passes rolls back within --health-timeout; with no previous image: exit 5', async () => {
    const t = await setup('health');
    const sha = shaOf('health');
    await t.seed(sha, imageBytes('h', 3000));
    // No clock here (no timed tests): the message below is printed only on the timeout's path.
    const r = await t.pull(['--health', 'exit 1', '--health-timeout', '2']);
    expect(r.code, r.output).toBe(5);
    expect(r.stderr).toContain(
      `xen/${sha} (www.xen): the health check did not pass within 2s; there is no previous image: nothing runs`,
    );
    expect(existsSync(path.join(t.state, 'current'))).toBe(false);
  });

  it('when the previous image fails to come back too: exit 5, saying so', async () => {
    const t = await setup('both');
    const one = shaOf('both one');
    const two = shaOf('both two');
    await t.seed(one, imageBytes('b1', 3000));
    expect((await t.pull()).code).toBe(0);
    await t.seed(two, imageBytes('b2', 3000));
    const r = await t.pull([], 'exit 1');
    expect(r.code, r.output).toBe(5);
    expect(r.stderr).toContain(`rolling back to ${one} failed too (the restart command failed): nothing healthy runs`);
  });

  it('a second run while one holds the lock exits 4 at once and touches nothing', async () => {
    const t = await setup('lock');
    await t.seed(shaOf('lock'), imageBytes('l', 3000));
    await mkdir(t.state, { recursive: true });
    const holder = await runProcess('flock', [
      path.join(t.state, 'lock'),
      'sh',
      '-c',
      `${HOST_PULL} --repository ${t.repo} --directory xen --state ${t.state} --restart 'true'`,
    ]);
    expect(holder.code).toBe(4); // flock(1) holds it, the script inside cannot take it
    expect(holder.stderr).toContain(`another run holds ${t.state}/lock: exiting without touching anything`);
    expect(readdirSync(t.state).sort()).toEqual(['lock']);
  });

  it('without flock a lock directory does the same, and a lock left by a dead run is taken over', async () => {
    const t = await setup('lockdir');
    await t.seed(shaOf('lockdir'), imageBytes('ld', 3000));
    // every program of the machine but flock
    const bin = await folder('bin-without-flock');
    for (const dir of ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        if (name !== 'flock' && !existsSync(path.join(bin, name)))
          symlinkSync(path.join(dir, name), path.join(bin, name));
      }
    }
    const pull = () =>
      runProcess(
        HOST_PULL,
        ['--repository', t.repo, '--directory', 'xen', '--state', t.state, '--restart', recordingRestart(t.log)],
        {
          env: { PATH: bin, HOME: home, LC_ALL: 'C' },
        },
      );
    await mkdir(path.join(t.state, 'lock.d'), { recursive: true });
    await writeFile(path.join(t.state, 'lock.d', 'pid'), `${process.pid}\n`);
    const held = await pull();
    expect(held.code, held.stderr).toBe(4);
    expect(held.stderr).toContain(`another run (pid ${process.pid}) holds ${t.state}/lock.d`);
    expect(readdirSync(t.state)).toEqual(['lock.d']);
    // a pid no process has: the run that left it is gone
    await writeFile(path.join(t.state, 'lock.d', 'pid'), '999999999\n');
    const taken = await pull();
    expect(taken.code, taken.stderr).toBe(0);
    expect(existsSync(path.join(t.state, 'lock.d'))).toBe(false);
    expect(existsSync(path.join(t.state, 'lock'))).toBe(false);
    expect(restarts(t.log)).toHaveLength(1);
  });

  it('waits (exit 0) while the folder latest names lacks --image; several images need --image (exit 2)', async () => {
    const t = await setup('multi');
    const sha = shaOf('multi');
    await seedDeploy(t.repo, scratch.base, {
      directory: 'xen',
      sha,
      images: [
        {
          file: 'mir-openmirage.org.xen',
          bytes: imageBytes('o', 3000),
          args: '--ipv4=10.0.0.2/24',
          sideFiles: { 'mir-openmirage.org.xl': 'kernel = "/build/host/path"\n' },
        },
      ],
    });
    const waiting = await t.pull(['--image', 'mir-mirage.io']);
    expect(waiting.code, waiting.output).toBe(0);
    expect(waiting.stdout).toContain(`xen/${sha} does not hold mir-mirage.io yet`);
    expect(restarts(t.log)).toEqual([]);
    await seedDeploy(t.repo, scratch.base, {
      directory: 'xen',
      sha,
      images: [
        { file: 'mir-openmirage.org.xen', bytes: imageBytes('o', 3000), args: '--ipv4=10.0.0.2/24' },
        { file: 'mir-mirage.io.xen', bytes: imageBytes('m', 300_000), args: '--ipv4=10.0.0.3/24' },
      ],
    });
    const ambiguous = await t.pull();
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(
      'holds 2 images (mir-mirage.io.xen mir-openmirage.org.xen ): choose one with --image',
    );
    const ok = await t.pull(['--image', 'mir-openmirage.org']);
    expect(ok.code, ok.output).toBe(0);
    expect(restarts(t.log).at(-1)).toMatchObject({ sha, args: '--ipv4=10.0.0.2/24' });
    // the other image of the folder never came down
    expect(readdirSync(path.join(t.state, 'images', sha)).filter((f) => f.startsWith('mir-mirage.io'))).toEqual([
      'mir-mirage.io.args',
    ]);
  });

  it('xen: <image>.xl is written from the .xl.in mirage 4 makes, name, disk and vif from --xl-set; a value left open is exit 2', async () => {
    const t = await setup('xl');
    const sha = shaOf('xl');
    await seedDeploy(t.repo, scratch.base, {
      directory: 'xen',
      sha,
      images: [
        {
          file: 'www.xen',
          bytes: imageBytes('xl', 3000),
          args: '--ipv4=46.43.42.146/25 --ipv4-gateway=46.43.42.129',
          sideFiles: { 'www.xl.in': MIRAGE_XL_IN, 'www.xl': "kernel = '/home/runner/work/dist/www.xen'\n" },
        },
      ],
    });
    const missing = await t.pull();
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      'www.xl.in needs @BLOCK:disk.img@ @NETWORK:service@ NAME: pass --xl-set NAME=VALUE for each',
    );
    expect(existsSync(path.join(t.state, 'current'))).toBe(false);
    const r = await t.pull([
      '--xl-set',
      'NAME=mirage.io',
      '--xl-set',
      'NETWORK:service=br0',
      '--xl-set',
      'BLOCK:disk.img=/var/lib/www/disk.img',
      '--xl-set',
      'MEMORY=64',
    ]);
    expect(r.code, r.output).toBe(0);
    const dir = path.join(t.state, 'images', sha);
    expect(restarts(t.log).at(-1)?.xl).toBe(path.join(dir, 'www.xl'));
    expect(readFileSync(path.join(dir, 'www.xl'), 'utf8')).toBe(
      [
        '# written by mirage-deploy-pull from www.xl.in: the settings it accepts, name, disks and networks from --xl-set',
        'name = "mirage.io"',
        `kernel = "${path.join(dir, 'www.xen')}"`,
        'type = "pvh"',
        'memory = 64',
        'on_crash = "preserve"',
        'disk = [ "format=raw, vdev=xvdb, access=rw, target=/var/lib/www/disk.img" ]',
        'vif = [ "bridge=br0" ]',
        'cmdline = "--ipv4=46.43.42.146/25 --ipv4-gateway=46.43.42.129"',
        '',
      ].join('\n'),
    );
  });

  it('the same sha deployed again with another image is swapped (by sha256), into images/<sha>-<hash>', async () => {
    const t = await setup('redeploy');
    const sha = shaOf('redeploy');
    await t.seed(sha, imageBytes('r1', 3000), { compression: 'gzip' });
    expect((await t.pull()).code).toBe(0);
    const next = imageBytes('r2', 3000);
    await t.seed(sha, next, { compression: 'none', args: '' });
    const r = await t.pull();
    expect(r.code, r.output).toBe(0);
    expect(current(t.state)).toMatch(new RegExp(`^images/${sha}-[0-9a-f]{12}$`));
    expect(runningSha256(t.state)).toBe(sha256(next));
  });

  it('--keep N keeps the running image and N-1 others; --dry-run changes nothing', async () => {
    const t = await setup('keep');
    const shas = [1, 2, 3, 4].map((i) => shaOf(`keep ${i}`));
    for (const [i, sha] of shas.entries()) {
      await t.seed(sha, imageBytes(`k${i}`, 2000));
      expect((await t.pull(['--keep', '2'])).code).toBe(0);
    }
    expect(readdirSync(path.join(t.state, 'images')).sort()).toEqual([shas[2], shas[3]].sort());
    const fifth = shaOf('keep 5');
    await t.seed(fifth, imageBytes('k5', 2000));
    const before = readdirSync(path.join(t.state, 'images')).sort();
    const dry = await t.pull(['--dry-run']);
    expect(dry.code, dry.output).toBe(0);
    expect(dry.stdout).toContain(
      `dry run: xen/${fifth} (www.xen, sha256 ${sha256(imageBytes('k5', 2000))}) checks out`,
    );
    expect(readdirSync(path.join(t.state, 'images')).sort()).toEqual(before);
    expect(current(t.state)).toBe(`images/${shas[3]}`);
    expect(restarts(t.log)).toHaveLength(4);
  });
});

describe('bytes from the server per update', () => {
  const EARLIER_IMAGE_BYTES = 256 * 1024;

  async function measure(earlier: number) {
    const dir = await folder(`bytes-${earlier}`);
    const repo = await createBareRepo(path.join(dir, 'deployment.git'));
    await seedHistory(repo, dir, {
      target: 'xen',
      images: earlier,
      imageBytes: EARLIER_IMAGE_BYTES,
      start: Date.parse('2026-05-01T00:00:00Z'),
    });
    const sha = shaOf(`bytes ${earlier}`);
    await seedDeploy(repo, dir, {
      directory: 'xen',
      sha,
      images: [{ file: 'www.xen', bytes: imageBytes('measured', 64 * 1024) }],
    });
    const sshd = await startSshd({ repoPath: repo });
    try {
      const key = await writeKeyFile(path.join(dir, 'key'), sshd.readOnlyKey);
      const knownHosts = path.join(dir, 'known_hosts');
      await writeFile(knownHosts, `${sshd.knownHosts}\n`);
      const home = path.join(dir, 'home');
      await mkdir(home);
      const before = await snapshotRepo(repo);
      sshd.resetCounters();
      const r = await runPull(
        [
          '--repository',
          sshd.url,
          '--directory',
          'xen',
          '--state',
          path.join(dir, 'state'),
          '--ssh-key',
          key,
          '--known-hosts',
          knownHosts,
          '--restart',
          'true',
        ],
        { home },
      );
      expect(r.code, r.output).toBe(0);
      expect(await snapshotRepo(repo)).toBe(before);
      return { bytes: sshd.uploadPackBytes(), sessions: sshd.commands().length };
    } finally {
      await sshd.stop();
    }
  }

  it('0 and 40 earlier images: no earlier image crosses the wire', async () => {
    const none = await measure(0);
    const forty = await measure(40);
    console.log(
      `host update, upload-pack bytes: 0 earlier images ${none.bytes} (${none.sessions} sessions), 40: ${forty.bytes} (${forty.sessions} sessions)`,
    );
    // the new image (64 KiB, incompressible) is what comes down; the difference is the listing of
    // xen/ (one tree entry per earlier folder), never an earlier image or folder
    expect(none.bytes).toBeGreaterThan(64 * 1024);
    expect(forty.bytes - none.bytes).toBeLessThan(40 * 100);
    expect(forty.sessions).toBe(none.sessions);
  }, 240_000);
});
