// The host updater (host/mirage-deploy-pull) as a host runs it, and deploy folders laid out as the
// action writes them (`<directory>/<sha>/<image><ext>.<compression>`, side files, `<image>.args`,
// config.ml, manifest.json, SHA256SUMS, `<directory>/latest`), committed straight into a bare
// repository with plain git. SHA256SUMS as src/deploy/plan.ts writes it: a `sha256sum -c` line
// per file, sorted, then `# unpacked: <sha256>  <name>` per compressed image.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runProcess, serverGitEnv, type RunResult } from './bare-repo.js';
import { PROJECT_ROOT } from './harness.js';

export const HOST_PULL = path.join(PROJECT_ROOT, 'host/mirage-deploy-pull');

export type Compression = 'bzip2' | 'xz' | 'gzip' | 'none';

const SUFFIX: Record<Compression, string> = { bzip2: '.bz2', xz: '.xz', gzip: '.gz', none: '' };

export interface SeedImage {
  /** The unpacked image's file name: `hello` (unix), `mir-www.xen`. */
  readonly file: string;
  readonly bytes: Buffer;
  readonly compression?: Compression;
  /** `<base>.args`, the boot arguments (one a line there); absent: no .args file. */
  readonly args?: string;
  /** Other files of this image, by name (`mir-www.xl.in`). */
  readonly sideFiles?: Record<string, string>;
}

export interface SeedDeploy {
  readonly directory: string;
  readonly sha: string;
  readonly images: readonly SeedImage[];
  /** Move `<directory>/latest` to this sha (default true). */
  readonly latest?: boolean;
  /** Replace a stored file's bytes AFTER SHA256SUMS is written: what a corrupted upload looks like. */
  readonly corrupt?: string;
  /** `<directory>/latest.deployment`, written beside `latest` in the same commit. */
  readonly record?: string;
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

export function compress(data: Buffer, compression: Compression): Buffer {
  if (compression === 'none') return data;
  return execFileSync(compression, ['-c'], { input: data, maxBuffer: 1 << 30 });
}

/** The files of one deploy folder, by name. */
export function deployFolderFiles(seed: SeedDeploy): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const unpacked: string[] = [];
  files.set('config.ml', Buffer.from(`(* ${seed.sha} *)\nlet () = Mirage.register "hello" []\n`));
  for (const image of seed.images) {
    const compression = image.compression ?? 'bzip2';
    files.set(`${image.file}${SUFFIX[compression]}`, compress(image.bytes, compression));
    if (compression !== 'none') unpacked.push(`# unpacked: ${sha256(image.bytes)}  ${image.file}\n`);
    const base = image.file.replace(/\.(xen|hvt|spt|virtio|muen|genode|qemu|fc)$/, '');
    if (image.args !== undefined) {
      files.set(
        `${base}.args`,
        Buffer.from(
          image.args
            .split(' ')
            .filter(Boolean)
            .map((a) => `${a}\n`)
            .join(''),
        ),
      );
    }
    for (const [name, text] of Object.entries(image.sideFiles ?? {})) files.set(name, Buffer.from(text));
  }
  files.set('manifest.json', Buffer.from(`${JSON.stringify({ schema: 2, sha: seed.sha }, null, 2)}\n`));
  const names = [...files.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = names.map((name) => `${sha256(files.get(name)!)}  ${name}\n`);
  files.set('SHA256SUMS', Buffer.from([...lines, ...unpacked.sort()].join('')));
  if (seed.corrupt !== undefined) {
    const data = files.get(seed.corrupt);
    if (data === undefined) throw new Error(`corrupt: no file ${seed.corrupt}`);
    const bad = Buffer.from(data);
    const at = bad.length >> 1;
    bad[at] = (bad[at] ?? 0) ^ 0xff;
    files.set(seed.corrupt, bad);
  }
  return files;
}

async function git(repo: string, work: string, args: string[]): Promise<string> {
  const env = serverGitEnv({
    GIT_AUTHOR_NAME: 'deploy',
    GIT_AUTHOR_EMAIL: 'deploy@example.invalid',
    GIT_COMMITTER_NAME: 'deploy',
    GIT_COMMITTER_EMAIL: 'deploy@example.invalid',
    GIT_DIR: repo,
    GIT_WORK_TREE: work,
    GIT_INDEX_FILE: path.join(work, '.index'),
  });
  const r = await runProcess('git', args, { cwd: work, env, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Commits one deploy folder (and `latest`) on top of `main` of the bare repository; returns the commit. */
export async function seedDeploy(repo: string, scratch: string, seed: SeedDeploy): Promise<string> {
  const work = await mkdtemp(path.join(scratch, 'seed-'));
  try {
    const hasMain =
      (
        await runProcess('git', ['--git-dir', repo, 'rev-parse', '--verify', '--quiet', 'main'], {
          env: serverGitEnv(),
        })
      ).code === 0;
    if (hasMain) await git(repo, work, ['read-tree', 'main']);
    const folder = path.join(work, seed.directory, seed.sha);
    await mkdir(folder, { recursive: true });
    for (const [name, data] of deployFolderFiles(seed)) await writeFile(path.join(folder, name), data);
    const paths = [`${seed.directory}/${seed.sha}`];
    if (seed.latest ?? true) {
      await writeFile(path.join(work, seed.directory, 'latest'), `${seed.sha}\n`);
      paths.push(`${seed.directory}/latest`);
    }
    if (seed.record !== undefined) {
      await writeFile(path.join(work, seed.directory, 'latest.deployment'), seed.record);
      paths.push(`${seed.directory}/latest.deployment`);
    }
    // a folder deployed again replaces its files: drop the old entries first
    await git(repo, work, [
      'rm',
      '-r',
      '--cached',
      '--quiet',
      '--ignore-unmatch',
      '--',
      `${seed.directory}/${seed.sha}`,
    ]);
    await git(repo, work, ['add', '--', ...paths]);
    await git(repo, work, ['commit', '--quiet', '-m', `adding ${seed.sha} for ${seed.directory}`]);
    await unlink(path.join(work, '.index'));
    return (await git(repo, work, ['rev-parse', 'HEAD'])).trim();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface PullRun extends RunResult {
  readonly output: string;
}

/** Runs the updater with `args`, in an environment with nothing of the user's but PATH. */
export async function runPull(
  args: readonly string[],
  o: { home: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<PullRun> {
  const r = await runProcess(HOST_PULL, args, {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: o.home,
      LC_ALL: 'C',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      ...o.env,
    },
    timeoutMs: o.timeoutMs ?? 120_000,
  });
  return { ...r, output: `${r.stdout}${r.stderr}` };
}

/** A restart command that records what it was given, one line per call, in `log`. */
export const recordingRestart = (log: string, fail = '') =>
  `printf '%s|%s|%s|%s|%s|%s|%s\\n' "$MIRAGE_SHA" "$MIRAGE_IMAGE" "$MIRAGE_DIR" "$MIRAGE_ARGS" "$MIRAGE_PREVIOUS" "$MIRAGE_XL" "$(pwd)" >>'${log}'` +
  (fail ? ` && case "$(cat "$MIRAGE_DIR/config.ml")" in *${fail}*) exit 7 ;; esac` : '');

export interface Restart {
  sha: string;
  image: string;
  dir: string;
  args: string;
  previous: string;
  xl: string;
  cwd: string;
}

/** What recordingRestart wrote, one entry per restart. */
export function restarts(log: string): Restart[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [sha = '', image = '', dir = '', args = '', previous = '', xl = '', cwd = ''] = l.split('|');
      return { sha, image, dir, args, previous, xl, cwd };
    });
}

/** The .xl.in mirage 4.x writes for a xen unikernel with one block device and one network. */
export const MIRAGE_XL_IN = [
  "name = '@NAME@'",
  "kernel = '@KERNEL@'",
  "type = 'pvh'",
  'memory = @MEMORY@',
  "on_crash = 'preserve'",
  '',
  "disk = [ 'format=raw, vdev=xvdb, access=rw, target=@BLOCK:disk.img@' ]",
  '',
  '# if your system uses openvswitch then either edit /etc/xen/xl.conf and set',
  '#     vif.default.script="vif-openvswitch"',
  '# or add "script=vif-openvswitch," before the "bridge=" below:',
  "vif = [ 'bridge=@NETWORK:service@' ]",
  '',
].join('\n');

/** Where `STATE_DIR/current` points (`images/<folder>`). */
export const current = (state: string) => readlinkSync(path.join(state, 'current'));

/** The sha256 of the image `current` runs. */
export const runningSha256 = (state: string) => {
  const dir = path.join(state, 'current');
  const name = /^image=(.*)$/m.exec(readFileSync(path.join(dir, '.mirage'), 'utf8'))?.[1] ?? '';
  return sha256(readFileSync(path.join(dir, name)));
};

/** Parses an xl configuration as xl's own lexer does (libxlu_cfg_l.l): `key = value` settings
 * separated by newlines or `;`, values numbers, quoted strings with backslash escapes, or lists. */
export function parseXl(text: string): Map<string, string | number | string[]> {
  const settings = new Map<string, string | number | string[]>();
  let at = 0;
  const skip = () => {
    for (;;) {
      const m = /^(?:[ \t\n;]+|#[^\n]*)/.exec(text.slice(at));
      if (!m) return;
      at += m[0].length;
    }
  };
  const string = (): string => {
    const m = /^(["'])((?:[^\\\n]|\\.)*?)\1/.exec(text.slice(at));
    if (!m) throw new Error(`xl: a string expected at ${at}: ${text.slice(at, at + 40)}`);
    at += m[0].length;
    return (m[2] ?? '').replace(/\\(.)/g, '$1');
  };
  const value = (): string | number | string[] => {
    const rest = text.slice(at);
    const number = /^[0-9]+/.exec(rest);
    if (number) {
      at += number[0].length;
      return Number(number[0]);
    }
    if (!rest.startsWith('[')) return string();
    at += 1;
    const items: string[] = [];
    for (;;) {
      const m = /^[ \t\n]*(,?)[ \t\n]*/.exec(text.slice(at));
      at += m?.[0].length ?? 0;
      if (text[at] === ']') {
        at += 1;
        return items;
      }
      items.push(string());
    }
  };
  for (skip(); at < text.length; skip()) {
    const m = /^([a-z][a-z0-9_]*)[ \t]*=[ \t]*/.exec(text.slice(at));
    if (!m?.[1]) throw new Error(`xl: a setting expected at ${at}: ${text.slice(at, at + 40)}`);
    at += m[0].length;
    if (settings.has(m[1])) throw new Error(`xl: ${m[1]} set twice`);
    settings.set(m[1], value());
  }
  return settings;
}
