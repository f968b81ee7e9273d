/**
 * host/mirage-deploy-pull's decisions around an update, through the real script against a
 * deployment repository behind the loopback sshd (a read-only deploy key, the host key pinned),
 * each test following its own folder of it: what
 * counts as up to date, the confirmed swap and a run killed in the middle, the health check's
 * tries, the dry run, the folder it follows, the size caps, and the .xl it writes for xen.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo, runProcess } from '../support/bare-repo.js';
import { seedHistory } from '../support/deploy-history.js';
import { imageBytes, shaOf } from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import {
  HOST_PULL,
  MIRAGE_XL_IN,
  current,
  parseXl,
  recordingRestart,
  restarts,
  runPull,
  seedDeploy,
  sha256,
  type SeedDeploy,
  type SeedImage,
} from '../support/host-pull.js';
import { startSshd, writeKeyFile, type SshdServer } from '../support/sshd.js';

const scratch = useDeployScratch('host-pull-update-');
let seq = 0;
let home: string;

async function folder(name: string): Promise<string> {
  const dir = path.join(scratch.base, `${name}-${++seq}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

let sshd: SshdServer;
let repo: string;
let key: string;
let knownHosts: string;

beforeAll(async () => {
  home = await folder('home');
  const dir = await folder('server');
  repo = await createBareRepo(path.join(dir, 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
  key = await writeKeyFile(path.join(dir, 'read-only-key'), sshd.readOnlyKey);
  knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `${sshd.knownHosts}\n`);
});

afterAll(async () => {
  await sshd?.stop();
});

/** Every file under `dir`, with its size: what a run left behind. */
function listing(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** The updater's view of the shared repository: one folder of it, `<folder>/` for `www.xen`. */
async function setup(name: string) {
  const dir = await folder(name);
  const directory = `xen-${name}-${seq}`;
  const state = path.join(dir, 'state');
  const log = path.join(dir, 'restarts.log');
  const remote = ['--repository', sshd.url, '--ssh-key', key, '--known-hosts', knownHosts];
  const pull = (extra: string[] = [], restart = recordingRestart(log), env: NodeJS.ProcessEnv = {}) =>
    runPull([...remote, '--directory', directory, '--state', state, '--restart', restart, ...extra], { home, env });
  const seed = (sha: string, bytes: Buffer, image: Partial<SeedImage> = {}, deploy: Partial<SeedDeploy> = {}) =>
    seedDeploy(repo, scratch.base, { directory, sha, images: [{ file: 'www.xen', bytes, ...image }], ...deploy });
  return { dir, directory, state, log, remote, pull, seed };
}

/** A restart command that kills the updater running it (SIGKILL, as a power loss would) the first
 * time, when `once` exists: the updater has swapped `current` and not yet restarted anything. */
const killingRestart = (log: string, once: string) =>
  [
    recordingRestart(log),
    `if [ -e '${once}' ]; then`,
    `  rm -f '${once}'`,
    // the updater is the ancestor running this script file (argv[1]), not the sh -c of this command
    '  p=$PPID',
    `  while [ "$p" -gt 1 ] && [ "$(tr '\\0' '\\n' <"/proc/$p/cmdline" | sed -n 2p)" != '${HOST_PULL}' ]; do`,
    `    p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status")`,
    '  done',
    '  kill -9 "$p"',
    'fi',
  ].join('\n');

describe('up to date means the same image, the same boot arguments and the same .xl.in', () => {
  it('an args-only redeploy restarts with the new MIRAGE_ARGS; a .xl.in-only one restarts too; the same again does nothing', async () => {
    const t = await setup('args');
    const sha = shaOf('args');
    const bytes = imageBytes('args', 3000);
    const sets = ['--xl-set', 'NAME=www', '--xl-set', 'NETWORK:service=br0'];
    const xlIn = (memory: string) => ({
      'www.xl.in': MIRAGE_XL_IN.replace('@MEMORY@', memory).replace(/^disk.*$/m, ''),
    });
    await t.seed(sha, bytes, { args: '--ipv4=10.0.0.2/24', sideFiles: xlIn('@MEMORY@') });
    expect((await t.pull(sets)).code).toBe(0);
    await t.seed(sha, bytes, { args: '--ipv4=10.0.0.3/24', sideFiles: xlIn('@MEMORY@') });
    const r = await t.pull(sets);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`updated: ${t.directory}/${sha} (www.xen) runs`);
    expect(restarts(t.log).map((x) => x.args)).toEqual(['--ipv4=10.0.0.2/24', '--ipv4=10.0.0.3/24']);
    const xl = parseXl(readFileSync(restarts(t.log).at(-1)!.xl, 'utf8'));
    expect(xl.get('cmdline')).toBe('--ipv4=10.0.0.3/24');
    await t.seed(sha, bytes, { args: '--ipv4=10.0.0.3/24', sideFiles: xlIn('128') });
    expect((await t.pull(sets)).code).toBe(0);
    expect(restarts(t.log)).toHaveLength(3);
    expect(parseXl(readFileSync(restarts(t.log).at(-1)!.xl, 'utf8')).get('memory')).toBe(128);
    const same = await t.pull(sets);
    expect(same.stdout).toContain(`up to date: ${t.directory}/${sha} (www.xen) runs`);
    expect(restarts(t.log)).toHaveLength(3);
  });

  it('the failed/ marker is keyed on all three: an args-only fix of a failed image is tried', async () => {
    const t = await setup('failed-key');
    const good = shaOf('fk good');
    const fixed = shaOf('fk fixed');
    const restart = `${recordingRestart(t.log)}; case "$MIRAGE_ARGS" in *bad*) exit 7 ;; esac`;
    await t.seed(good, imageBytes('fk1', 3000), { args: '--ok' });
    expect((await t.pull([], restart)).code).toBe(0);
    await t.seed(fixed, imageBytes('fk2', 3000), { args: '--bad' });
    const failed = await t.pull([], restart);
    expect(failed.code, failed.output).toBe(1);
    expect((await t.pull([], restart)).stderr).toContain('failed before and is not tried again');
    await t.seed(fixed, imageBytes('fk2', 3000), { args: '--fixed' });
    const r = await t.pull([], restart);
    expect(r.code, r.output).toBe(0);
    expect(restarts(t.log).map((x) => `${x.sha === good ? 'good' : 'new'} ${x.args}`)).toEqual([
      'good --ok',
      'new --bad',
      'good --ok',
      'new --fixed',
    ]);
  });
});

describe('a swap counts once its health check passed', () => {
  it('kill -9 between the swap and the restart: the next run starts and health-checks the new image', async () => {
    const t = await setup('killed');
    const one = shaOf('killed one');
    const two = shaOf('killed two');
    await t.seed(one, imageBytes('k1', 3000));
    expect((await t.pull()).code).toBe(0);
    await t.seed(two, imageBytes('k2', 3000));
    const once = path.join(t.dir, 'kill-once');
    await writeFile(once, '');
    const health = path.join(t.dir, 'health.log');
    const args = ['--health', `echo "$MIRAGE_SHA" >>'${health}'`];
    const killed = await t.pull(args, killingRestart(t.log, once));
    expect(killed.signal ?? killed.code, killed.output).toBe('SIGKILL');
    expect(current(t.state)).toBe(`images/${two}`);
    expect(existsSync(health)).toBe(false);
    const r = await t.pull(args, killingRestart(t.log, once));
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`current (${t.directory}/${two}) was swapped in but never confirmed healthy`);
    expect(r.stdout).toContain(`up to date: ${t.directory}/${two} (www.xen) runs`);
    expect(restarts(t.log).map((x) => x.sha)).toEqual([one, two, two]);
    expect(readFileSync(health, 'utf8')).toBe(`${two}\n`);
    expect(readFileSync(path.join(t.state, 'confirmed'), 'utf8').trim()).toBe(two);
    const again = await t.pull(args);
    expect(again.stdout).toContain('up to date');
    expect(restarts(t.log)).toHaveLength(3);
  });

  it('kill -9 between the swap and the restart of an image that fails its health check: the next run rolls it back (exit 1)', async () => {
    const t = await setup('killed-bad');
    const good = shaOf('kb good');
    const bad = shaOf('kb bad');
    await t.seed(good, imageBytes('kb1', 3000));
    const health = ['--health', `test "$MIRAGE_SHA" != ${bad}`, '--health-timeout', '1'];
    expect((await t.pull(health)).code).toBe(0);
    await t.seed(bad, imageBytes('kb2', 3000));
    const once = path.join(t.dir, 'kill-once');
    await writeFile(once, '');
    const killed = await t.pull(health, killingRestart(t.log, once));
    expect(killed.signal, killed.output).toBe('SIGKILL');
    const r = await t.pull(health, killingRestart(t.log, once));
    expect(r.code, r.output).toBe(1);
    expect(r.stderr).toContain(
      `${t.directory}/${bad} (www.xen): the health check did not pass within 1s; rolled back: ${good} (www.xen) runs again`,
    );
    expect(current(t.state)).toBe(`images/${good}`);
    expect(readFileSync(path.join(t.state, 'confirmed'), 'utf8').trim()).toBe(good);
    expect(restarts(t.log).map((x) => x.sha)).toEqual([good, bad, bad, good]);
    expect((await t.pull(health)).stderr).toContain('failed before and is not tried again');
  });
});

describe('the health check', () => {
  it('passing on its third try keeps the image', async () => {
    const t = await setup('third');
    const sha = shaOf('third');
    await t.seed(sha, imageBytes('third', 3000));
    const tries = path.join(t.dir, 'tries');
    const health = `echo try >>'${tries}'; test "$(wc -l <'${tries}')" -ge 3`;
    const r = await t.pull(['--health', health, '--health-timeout', '30']);
    expect(r.code, r.output).toBe(0);
    expect(readFileSync(tries, 'utf8')).toBe('try\ntry\ntry\n');
    expect(r.stderr).toContain('health check try 2: exit 1');
    expect(current(t.state)).toBe(`images/${sha}`);
  });

  it('a try that hangs is cut at --health-try-timeout (its processes ended) and the next try passes', async () => {
    const t = await setup('hang');
    const sha = shaOf('hang');
    await t.seed(sha, imageBytes('hang', 3000));
    const tries = path.join(t.dir, 'tries');
    const pids = path.join(t.dir, 'pids');
    // the first try waits on a child that ignores nothing: a connect that never gets an answer
    const health = `echo try >>'${tries}'; if [ "$(wc -l <'${tries}')" -eq 1 ]; then sleep 600 & echo $! >'${pids}'; wait; fi`;
    const r = await t.pull(['--health', health, '--health-timeout', '20', '--health-try-timeout', '1']);
    expect(r.code, r.output).toBe(0);
    expect(r.stderr).toContain('health check try 1: no answer within 1s, cut');
    expect(readFileSync(tries, 'utf8')).toBe('try\ntry\n');
    const sleeper = readFileSync(pids, 'utf8').trim();
    expect(
      existsSync(`/proc/${sleeper}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${sleeper}/status`, 'utf8')),
    ).toBe(false);
  });
});

describe('--dry-run', () => {
  it('runs --verify on the downloaded image: a refusal is exit 3, and no state, lock or work folder is left', async () => {
    const t = await setup('dry-refuse');
    const sha = shaOf('dry refuse');
    await t.seed(sha, imageBytes('dry', 3000));
    const tmp = await folder('tmp');
    const seen = path.join(t.dir, 'verified');
    const r = await t.pull(
      ['--dry-run', '--verify', `sha256sum <"$MIRAGE_IMAGE" | cut -c1-64 >'${seen}'; exit 1`],
      recordingRestart(t.log),
      { TMPDIR: tmp },
    );
    expect(r.code, r.output).toBe(3);
    expect(r.stderr).toContain(`dry run: the --verify command refused ${t.directory}/${sha} (www.xen, sha256 `);
    expect(readFileSync(seen, 'utf8').trim()).toBe(sha256(imageBytes('dry', 3000)));
    expect(existsSync(t.state)).toBe(false);
    expect(await readdir(tmp)).toEqual([]);
    expect(restarts(t.log)).toEqual([]);
  });

  it("gives --verify the image's Sigstore bundle as MIRAGE_ATTESTATION, empty when the folder has none", async () => {
    const t = await setup('attestation');
    const seen = path.join(t.dir, 'attestation');
    const verify = `printf '%s|' "$MIRAGE_ATTESTATION" >'${seen}'; if [ -n "$MIRAGE_ATTESTATION" ]; then cat "$MIRAGE_ATTESTATION" >>'${seen}'; fi`;
    const bundle = '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}\n';
    const signed = shaOf('attested');
    await t.seed(signed, imageBytes('att', 3000), { sideFiles: { 'www.sigstore.json': bundle } });
    const r = await t.pull(['--dry-run', '--verify', verify]);
    expect(r.code, r.output).toBe(0);
    expect(readFileSync(seen, 'utf8')).toMatch(
      new RegExp(`^/\\S+/www\\.sigstore\\.json\\|${bundle.replace(/[.+]/g, '\\$&')}$`),
    );
    await t.seed(shaOf('unattested'), imageBytes('un', 3000));
    expect((await t.pull(['--dry-run', '--verify', verify])).code).toBe(0);
    expect(readFileSync(seen, 'utf8')).toBe('|');
  });

  it('with a running image: every check, nothing changed in the state folder (not even a lock)', async () => {
    const t = await setup('dry-accept');
    const one = shaOf('dry one');
    const two = shaOf('dry two');
    await t.seed(one, imageBytes('d1', 3000));
    expect((await t.pull()).code).toBe(0);
    await t.seed(two, imageBytes('d2', 3000));
    const before = listing(t.state);
    const ok = await t.pull(['--dry-run', '--verify', 'test -x "$MIRAGE_IMAGE"']);
    expect(ok.code, ok.output).toBe(0);
    expect(ok.stdout).toContain(
      `dry run: ${t.directory}/${two} (www.xen, sha256 ${sha256(imageBytes('d2', 3000))}) checks out`,
    );
    expect(listing(t.state)).toEqual(before);
    await t.seed(two, imageBytes('d2', 3000), { sideFiles: { 'www.xl.in': "bootloader = '/bin/sh'\n" } });
    const hostile = await t.pull(['--dry-run', '--xl-set', 'NAME=www']);
    expect(hostile.code, hostile.output).toBe(3);
    expect(hostile.stderr).toContain('www.xl.in line 1: bootloader is not a setting the updater takes');
    expect(listing(t.state)).toEqual(before);
    expect(restarts(t.log)).toHaveLength(1);
  });
});

describe('the folder it follows', () => {
  it('a --directory the repository lacks while it has other deploy folders: exit 2 listing them; none at all: exit 0', async () => {
    const t = await setup('typo');
    await t.seed(shaOf('typo'), imageBytes('typo', 3000));
    await seedDeploy(repo, scratch.base, {
      directory: 'hvt/eu',
      sha: shaOf('typo eu'),
      images: [{ file: 'www.hvt', bytes: imageBytes('eu', 3000) }],
    });
    const r = await runPull([...t.remote, '--directory', 'xne', '--state', t.state, '--restart', 'true'], { home });
    expect(r.code, r.output).toBe(2);
    expect(r.stderr).toMatch(
      /the deployment repository has no xne\/, but it has deploy folders: .*\bhvt\/eu\b.*; check --directory/,
    );
    expect(r.stderr).toContain(` ${t.directory}`);
    // a repository with commits but no deploy folder yet
    const bare = await createBareRepo(path.join(t.dir, 'new.git'));
    await seedHistory(bare, t.dir, { target: 'xen', images: 0, imageBytes: 0, start: 0 });
    const fresh = await runPull(['--repository', bare, '--directory', 'xne', '--state', t.state, '--restart', 'true'], {
      home,
    });
    expect(fresh.code, fresh.output).toBe(0);
    expect(fresh.stdout).toContain('the deployment repository has no xne/ yet: nothing to run');
  });

  it('a file name the action never writes refuses the folder (exit 3), even with a SHA256SUMS line', async () => {
    const t = await setup('names');
    for (const name of ['-rf', ';reboot']) {
      await t.seed(shaOf(`names ${name}`), imageBytes(`n${name}`, 3000), { sideFiles: { [name]: 'x\n' } });
      const r = await t.pull();
      expect(r.code, r.output).toBe(3);
      expect(r.stderr).toContain(`holds a file named '${name}', which mirage-deploy never writes (nothing changed)`);
      expect(existsSync(path.join(t.state, 'current'))).toBe(false);
    }
  });
});

describe('size caps', () => {
  it('a bz2 bomb stops at --max-image-size, on a disk smaller than the bomb: exit 3, current unchanged', async () => {
    const t = await setup('bomb');
    const good = shaOf('bomb good');
    await t.seed(good, imageBytes('bomb good', 3000));
    expect((await t.pull()).code).toBe(0);
    const bomb = shaOf('bomb');
    await t.seed(bomb, Buffer.alloc(64 << 20));
    // bzip2 as a stand-in that records how many bytes the real one could write: no more than the
    // cap (plus the 512-byte block the limit is counted in), however large the bomb; and the whole
    // run may write no file over 8 MiB, a disk smaller than the bomb
    const bin = await folder('bin');
    const written = path.join(t.dir, 'written');
    const bzip2 = execFileSync('sh', ['-c', 'command -v bzip2'], { encoding: 'utf8' }).trim();
    writeFileSync(path.join(bin, 'bzip2'), `#!/bin/sh\n${bzip2} "$@" | dd bs=65536 2>>'${written}'\n`, { mode: 0o755 });
    const r = await runProcess(
      'sh',
      [
        '-c',
        'ulimit -f 16384; exec "$@"',
        'sh',
        HOST_PULL,
        ...[...t.remote, '--directory', t.directory, '--state', t.state, '--restart', recordingRestart(t.log)],
        '--max-image-size',
        '1M',
      ],
      {
        env: {
          PATH: `${bin}:${process.env.PATH ?? ''}`,
          HOME: home,
          LC_ALL: 'C',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
        },
        timeoutMs: 60_000,
      },
    );
    const copied = Number(/^(\d+) bytes/m.exec(readFileSync(written, 'utf8'))?.[1]);
    expect(copied).toBeGreaterThan(1 << 20);
    expect(copied).toBeLessThanOrEqual((1 << 20) + 512);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(
      `${t.directory}/${bomb}/www.xen.bz2 unpacks to more than --max-image-size 1048576 bytes: stopped there, refusing the image (nothing changed)`,
    );
    expect(current(t.state)).toBe(`images/${good}`);
    expect(readdirSync(path.join(t.state, 'images'))).toEqual([good]);
    expect(restarts(t.log)).toHaveLength(1);
  });

  it('a side file over --max-file-size is refused before it is written', async () => {
    const t = await setup('side');
    const sha = shaOf('side');
    await t.seed(sha, imageBytes('side', 3000), { sideFiles: { 'www.xl': 'x'.repeat(100_000) } });
    const r = await t.pull(['--max-file-size', '64K']);
    expect(r.code, r.output).toBe(3);
    expect(r.stderr).toContain(
      `${t.directory}/${sha}/www.xl is 100000 bytes, over --max-file-size 65536: refusing the folder`,
    );
    expect(existsSync(path.join(t.state, 'current'))).toBe(false);
  });
});

describe('xen: the .xl the updater writes', () => {
  const sets = [
    '--xl-set',
    'NAME=mirage.io',
    '--xl-set',
    'NETWORK:service=br0',
    '--xl-set',
    'BLOCK:disk.img=/srv/disk.img',
  ];

  it.each([
    [
      'bootloader',
      "bootloader = '/usr/bin/pygrub'\n",
      'bootloader is not a setting the updater takes from the repository',
    ],
    [
      'a vif script',
      "vif = [ 'script=/tmp/x,bridge=@NETWORK:service@' ]\n",
      'the vif script=/tmp/x,bridge=@NETWORK:service@ is not bridge=@NETWORK:<name>@',
    ],
    ['a device model', "device_model_override = '/tmp/qemu'\n", 'device_model_override is not a setting'],
    [
      'a disk script',
      "disk = [ 'script=/tmp/x, vdev=xvda, target=@BLOCK:disk.img@' ]\n",
      'the disk setting script=/tmp/x is not one the updater accepts',
    ],
    ['another kernel', "kernel = '/boot/vmlinuz'\n", 'kernel must be @KERNEL@'],
    ['hvm', "type = 'hvm'\n", 'type hvm (only pvh or pv'],
  ])('a hostile .xl.in (%s): exit 3, nothing changed', async (_, line, message) => {
    const t = await setup('hostile');
    const good = shaOf('hostile good');
    await t.seed(good, imageBytes('hg', 3000), { sideFiles: { 'www.xl.in': MIRAGE_XL_IN } });
    expect((await t.pull(sets)).code).toBe(0);
    const evil = shaOf('hostile evil');
    await t.seed(evil, imageBytes('he', 3000), { sideFiles: { 'www.xl.in': `${MIRAGE_XL_IN}${line}` } });
    const r = await t.pull(sets);
    expect(r.code, r.output).toBe(3);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('refusing the image (nothing changed)');
    expect(current(t.state)).toBe(`images/${good}`);
    expect(readdirSync(path.join(t.state, 'images'))).toEqual([good]);
    expect(restarts(t.log)).toHaveLength(1);
  });

  it('a " in .args cannot add an xl setting: the boot arguments are one quoted cmdline', async () => {
    const t = await setup('quote');
    const sha = shaOf('quote');
    const args = ['--ipv4=46.43.42.146/25', '--x=a";bootloader="/bin/sh', '--y=b\\', "--z='"];
    await t.seed(sha, imageBytes('q', 3000), { args: args.join(' '), sideFiles: { 'www.xl.in': MIRAGE_XL_IN } });
    const r = await t.pull(sets);
    expect(r.code, r.output).toBe(0);
    const xl = parseXl(readFileSync(path.join(t.state, 'current', 'www.xl'), 'utf8'));
    expect([...xl.keys()]).toEqual(['name', 'kernel', 'type', 'memory', 'on_crash', 'disk', 'vif', 'cmdline']);
    expect(xl.get('cmdline')).toBe(args.join(' '));
    expect(xl.get('name')).toBe('mirage.io');
    expect(xl.get('disk')).toEqual(['format=raw, vdev=xvdb, access=rw, target=/srv/disk.img']);
  });
});

describe('issue 19: the swap of current is atomic', () => {
  // A reader polling for a missing `current` would have to hit a window of microseconds on a
  // shared 2-core machine, so it would pass against rm + ln most of the time; instead every
  // command that changes `current` is recorded by stand-ins of rm, ln and mv, and each must be a
  // rename of a new link over it (rename(2) replaces a name atomically).
  it('every change of current is mv -T current.new current: never rm or ln on current itself', async () => {
    const t = await setup('atomic');
    const bin = await folder('recording-bin');
    const log = path.join(t.dir, 'commands.log');
    for (const tool of ['rm', 'ln', 'mv']) {
      const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
      writeFileSync(path.join(bin, tool), `#!/bin/sh\nprintf '%s\\n' "${tool} $*" >>'${log}'\nexec ${real} "$@"\n`, {
        mode: 0o755,
      });
    }
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
    const shas = [1, 2, 3].map((i) => shaOf(`atomic ${i}`));
    const restart = `${recordingRestart(t.log)}; test "$MIRAGE_SHA" != ${shas[2]}`;
    for (const [i, sha] of shas.entries()) {
      await t.seed(sha, imageBytes(`a${i}`, 2000));
      expect((await t.pull([], restart, env)).code).toBe(i === 2 ? 1 : 0);
    }
    const link = path.join(t.state, 'current');
    const touching = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.split(' ').includes(link));
    // the first image, the second, the third, and the rollback to the second
    expect(touching).toEqual(Array(4).fill(`mv -T ${link}.new ${link}`));
  });
});
