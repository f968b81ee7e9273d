// Bare "deployment repositories" for the loopback git servers (__tests__/support/sshd.ts, git-http.ts).
//
// Everything here runs git with the machine's and the user's git configuration switched off
// (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null) and without templates, so a developer's
// ~/.gitconfig (init.defaultBranch, init.templateDir, hooks, ...) can never change what a test sees.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, readdir, readlink, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a program (never through a shell) and collect its output; never rejects on a non-zero exit. */
export function runProcess(
  file: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 30_000,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // the program may exit without reading its input
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.end(opts.input ?? '');
  });
}

/** An environment for server-side git: no system or global git configuration, C locale. */
export function serverGitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    ...extra,
  };
}

async function git(args: readonly string[], cwd?: string): Promise<string> {
  const r = await runProcess('git', args, { cwd, env: serverGitEnv() });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Single-quote a string for POSIX sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Create an empty bare repository AT `dir` (parents are created; name it `something.git`) and
 * return its absolute, symlink-free path. Configured like a hosted repository:
 * - `receive.fsckObjects`: corrupt objects are refused, as GitHub does;
 * - `http.receivepack`: pushes over smart HTTP are allowed (authentication is the HTTP server's job);
 * - `uploadpack.allowFilter` / `allowReachableSHA1InWant`: partial and by-SHA fetches work as on GitHub;
 * - `gc.auto 0` / `receive.autogc false`: no background repacking, so `snapshotRepo` is deterministic.
 * No templates are copied (no sample hooks, no description file). `objectFormat: sha256` makes a SHA-256
 * repository, as Gitea, Forgejo and GitLab can host.
 */
export async function createBareRepo(
  dir: string,
  opts: { defaultBranch?: string; objectFormat?: 'sha1' | 'sha256' } = {},
): Promise<string> {
  const abs = path.resolve(dir);
  await mkdir(abs, { recursive: true });
  await git([
    'init',
    '--quiet',
    '--bare',
    '--template=',
    `--initial-branch=${opts.defaultBranch ?? 'main'}`,
    `--object-format=${opts.objectFormat ?? 'sha1'}`,
    abs,
  ]);
  const settings: Array<[string, string]> = [
    ['receive.fsckObjects', 'true'],
    ['http.receivepack', 'true'],
    ['uploadpack.allowFilter', 'true'],
    ['uploadpack.allowReachableSHA1InWant', 'true'],
    ['gc.auto', '0'],
    ['receive.autogc', 'false'],
  ];
  for (const [key, value] of settings) await git(['config', '--file', path.join(abs, 'config'), key, value]);
  return realpath(abs);
}

export type PreReceiveMode = 'none' | 'reject-once' | 'reject-always';

const REJECT_ONCE_STATE = 'reject-once.state';

/**
 * Install (or remove, with 'none') a pre-receive hook in a bare repository.
 *
 * - 'reject-once': the first push loses a simulated race. The hook leaves `<ref>.lock` files for the
 *   refs being pushed, exactly what a concurrent pusher holds, and lets git fail on them, so the
 *   client gets git's own message (below); the next push clears those locks and is accepted:
 *     remote: error: cannot lock ref 'refs/heads/main': Unable to create '<repo>/refs/heads/main.lock': File exists.
 *      ! [remote rejected] main -> main (failed to update ref)
 * - 'reject-always': every push is declined like a protected branch:
 *     remote: error: GH006: Protected branch update failed for refs/heads/main.
 *     remote: error: Changes must be made through a pull request.
 *      ! [remote rejected] main -> main (pre-receive hook declined)
 */
export async function setPreReceiveHook(repo: string, mode: PreReceiveMode): Promise<void> {
  const hooks = path.join(repo, 'hooks');
  const hook = path.join(hooks, 'pre-receive');
  // a 'reject-once' that fired but was never retried leaves its ref locks behind: release them
  const state = path.join(hooks, REJECT_ONCE_STATE);
  const locks = await readFile(state, 'utf8').catch(() => '');
  for (const lock of locks.split('\n').filter((l) => l.endsWith('.lock'))) await rm(lock, { force: true });
  await rm(state, { force: true });
  if (mode === 'none') {
    await rm(hook, { force: true });
    return;
  }
  await mkdir(hooks, { recursive: true });
  await writeFile(hook, mode === 'reject-once' ? rejectOnceHook(repo) : rejectAlwaysHook(), { mode: 0o755 });
  await chmod(hook, 0o755);
}

/** The path of the installed pre-receive hook (for linting it). */
export function preReceiveHookPath(repo: string): string {
  return path.join(repo, 'hooks', 'pre-receive');
}

function rejectOnceHook(repo: string): string {
  return `#!/bin/sh
# Test double (mirage-deploy __tests__/support/bare-repo.ts): the first push loses a race.
# It takes the ref locks a concurrent pusher would hold and exits 0, so receive-pack itself then
# fails with its real "cannot lock ref" error. The second push releases them and goes through.
set -eu
repo=${shQuote(repo)}
state="$repo/hooks/${REJECT_ONCE_STATE}"
if [ -e "$state" ]; then
  while IFS= read -r lock; do
    rm -f "$lock"
  done <"$state"
  : >"$state"
  cat >/dev/null
  exit 0
fi
: >"$state"
while read -r _old _new ref; do
  lock="$repo/$ref.lock"
  mkdir -p "$(dirname "$lock")"
  : >"$lock"
  printf '%s\\n' "$lock" >>"$state"
done
exit 0
`;
}

function rejectAlwaysHook(): string {
  return `#!/bin/sh
# Test double (mirage-deploy __tests__/support/bare-repo.ts): every push is refused like a protected branch.
while read -r _old _new ref; do
  printf 'error: GH006: Protected branch update failed for %s.\\n' "$ref" >&2
  printf 'error: Changes must be made through a pull request.\\n' >&2
done
exit 1
`;
}

/**
 * A sha256 over every entry under `repo`: each path (sorted), its kind, its permission bits and its
 * bytes (or link target). Equal digests mean the repository is unchanged byte for byte.
 * Timestamps are deliberately left out.
 */
export async function snapshotRepo(repo: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const entries = (await readdir(path.join(repo, rel))).sort();
    for (const name of entries) {
      const relPath = rel ? `${rel}/${name}` : name;
      const abs = path.join(repo, relPath);
      const st = await lstat(abs);
      const perm = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        hash.update(`d ${perm} ${relPath}\0`);
        await walk(relPath);
      } else if (st.isSymbolicLink()) {
        hash.update(`l ${relPath}\0${await readlink(abs)}\0`);
      } else if (st.isFile()) {
        const data = await readFile(abs);
        hash.update(`f ${perm} ${relPath} ${data.length}\0`);
        hash.update(data);
      } else {
        hash.update(`o ${perm} ${relPath}\0`);
      }
    }
  };
  await walk('');
  return hash.digest('hex');
}
