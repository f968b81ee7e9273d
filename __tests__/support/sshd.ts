// A real OpenSSH sshd on 127.0.0.1 serving ONE bare repository to a deploy key, like GitHub does.
//
// Everything lives in a fresh temp dir: host key, sshd_config, authorized_keys, the forced command,
// the pid file, the client keys. Nothing reads or writes the real ~/.ssh of the user running the
// tests: sshd gets an absolute AuthorizedKeysFile, `PermitUserRC no`, and `restrict` on every key.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runProcess, shQuote } from './bare-repo.js';

export interface SshdServer {
  host: '127.0.0.1';
  port: number;
  /** The listening sshd's pid (its per-connection children are found through /proc). */
  pid: number;
  /** The login user: root when the tests run as root (CI), otherwise the current user. */
  user: string;
  /** `ssh://USER@127.0.0.1:PORT/abs/path/repo.git` */
  url: string;
  /** `USER@127.0.0.1:/abs/path/repo.git`; scp syntax has no port, so pass `-p PORT` / `-o Port=PORT` to ssh. */
  scpUrl: string;
  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA...` for this server's host key. */
  knownHosts: string;
  /** Same host:port, a different ed25519 key: what a man in the middle would present. */
  otherKnownHosts: string;
  /** OpenSSH-format ed25519 private key, no passphrase, authorized for the repository only. */
  deployKey: string;
  /**
   * A key authorized to read only (git-upload-pack), like a deploy key without write access: what a
   * host that pulls images holds. A push with it is refused the way GitHub refuses one.
   */
  readOnlyKey: string;
  /** A valid ed25519 key that is not in authorized_keys. */
  strangerKey: string;
  /** An ed25519 key encrypted with `passphrase`. It IS authorized, so a failure with it is the passphrase's. */
  passphraseKey: string;
  passphrase: string;
  /** The forced command script (POSIX sh) every authorized key is bound to. */
  forcedCommandPath: string;
  /** SSH_ORIGINAL_COMMAND of every session that reached the forced command, oldest first. */
  commands(): string[];
  /** Bytes git-upload-pack sent to clients (advertisement + packs) since start / last reset. */
  uploadPackBytes(): number;
  resetCounters(): void;
  /** sshd's own log (-e, LogLevel VERBOSE). */
  logs(): string;
  stop(): Promise<void>;
}

const SAFE_PATH = /^\/[A-Za-z0-9._/+-]+$/;

function which(cmd: string, extra: string[] = []): string {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...extra];
  for (const d of dirs) {
    const p = path.join(d, cmd);
    if (existsSync(p)) return p;
  }
  throw new Error(`${cmd} not found (PATH=${process.env.PATH}); install openssh-server / openssh-client / git`);
}

async function keygen(file: string, passphrase = '', comment = ''): Promise<{ priv: string; pub: string }> {
  const r = await runProcess('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', comment, '-f', file]);
  if (r.code !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  const [priv, pub] = await Promise.all([readFile(file, 'utf8'), readFile(`${file}.pub`, 'utf8')]);
  // "ssh-ed25519 AAAA... comment" -> "ssh-ed25519 AAAA..."
  const [type, blob] = pub.trim().split(/\s+/);
  return { priv, pub: `${type} ${blob}` };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

interface Proc {
  pid: number;
  /** start time in clock ticks since boot: with the pid, identifies the process across pid reuse */
  start: string;
}

function readStat(pid: number): { ppid: number; state: string; start: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone
  }
  // "pid (comm) state ppid ... starttime(22nd field)": comm may contain spaces and parentheses
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: f[0]!, ppid: Number(f[1]), start: f[19]! };
}

/** `pid` and every descendant of it (Linux /proc), parents first. */
export function processTree(pid: number): Proc[] {
  const children = new Map<number, Proc[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = readStat(Number(entry));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push({ pid: Number(entry), start: st.start });
    children.set(st.ppid, list);
  }
  const self = readStat(pid);
  if (!self) return [];
  const out: Proc[] = [{ pid, start: self.start }];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]!.pid) ?? []));
  return out;
}

/** Still running (not a zombie) and still the same process. */
export function isAlive(p: Proc): boolean {
  const st = readStat(p.pid);
  return st !== undefined && st.start === p.start && st.state !== 'Z';
}

function signal(p: Proc, sig: NodeJS.Signals): void {
  if (!Number.isInteger(p.pid) || p.pid <= 1 || !isAlive(p)) return; // never a group, never a reused pid
  try {
    process.kill(p.pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM the tree, SIGKILL whatever is left after `graceMs`; resolves when all of it is gone. */
async function killTree(tree: Proc[], graceMs = 1_000): Promise<void> {
  for (const p of tree) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (tree.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const p of tree) signal(p, 'SIGKILL');
  const hard = Date.now() + 5_000;
  while (tree.some(isAlive)) {
    if (Date.now() > hard) throw new Error(`processes survived SIGKILL: ${tree.filter(isAlive).map((p) => p.pid)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** GitHub's answer to a push with a deploy key that has no write access. */
export const READ_ONLY_REFUSAL = 'ERROR: The key you are authenticating with has been marked as read only.';

/**
 * Pushes that stall with the connection up (sshd still answers ssh's keep-alives), the first
 * `count` of them; those after go through. `mid-push`: receive-pack advertises its refs and gets
 * only the start of the push, so nothing lands and the client waits for an answer that never
 * comes. `after-landing`: the push lands, then a post-receive hook holds the session open, so the
 * client never hears the end of it.
 */
export interface PushStall {
  readonly count: number;
  readonly when: 'mid-push' | 'after-landing';
}

function receivePack(stall: PushStall | 'every' | undefined): string {
  if (stall === 'every') return 'exec sleep 600 # a push that stalls';
  if (stall === undefined) return 'exec "$git" receive-pack "$repo"';
  return `if [ "$(wc -l <"$dir/stalled-pushes")" -lt ${stall.count} ]; then
    echo stalled >>"$dir/stalled-pushes"
    ${
      stall.when === 'mid-push'
        ? '{ head -c 20; exec sleep 600; } | "$git" receive-pack "$repo"; exit 1'
        : 'exec "$git" -c core.hooksPath="$dir/stall-hooks" receive-pack "$repo"'
    }
  fi
  exec "$git" receive-pack "$repo"`;
}

function forcedCommand(o: { git: string; repo: string; dir: string; stall?: PushStall | 'every' }): string {
  const alt = o.repo.endsWith('.git') ? o.repo.slice(0, -4) : `${o.repo}.git`;
  return `#!/bin/sh
# Forced command for the test deploy key (mirage-deploy __tests__/support/sshd.ts), like a GitHub deploy key:
# only git-upload-pack / git-receive-pack of ONE repository; anything else is refused. Bound with
# the argument read-only, a key may only fetch (a deploy key without write access).
set -u
access=\${1-read-write}
git=${shQuote(o.git)}
repo=${shQuote(o.repo)}
alt=${shQuote(alt)}
dir=${shQuote(o.dir)}
cmd=\${SSH_ORIGINAL_COMMAND-}
printf '%s\\n' "$cmd" >>"$dir/commands.log"
case $cmd in
  "git-upload-pack '$repo'" | "git-upload-pack '$alt'" | "git upload-pack '$repo'" | "git upload-pack '$alt'")
    service=upload-pack ;;
  "git-receive-pack '$repo'" | "git-receive-pack '$alt'" | "git receive-pack '$repo'" | "git receive-pack '$alt'")
    service=receive-pack ;;
  git-upload-pack\\ * | git-receive-pack\\ * | git\\ upload-pack\\ * | git\\ receive-pack\\ *)
    echo 'ERROR: Repository not found.' >&2
    exit 1 ;;
  "")
    echo 'This deploy key does not provide shell access.' >&2
    exit 1 ;;
  *)
    printf 'This deploy key only allows git-upload-pack and git-receive-pack on %s; refused: %s\\n' "$repo" "$cmd" >&2
    exit 1 ;;
esac
if [ "$service" = receive-pack ] && [ "$access" = read-only ]; then
  echo ${shQuote(READ_ONLY_REFUSAL)} >&2
  exit 1
fi
GIT_CONFIG_NOSYSTEM=1
GIT_CONFIG_GLOBAL=/dev/null
export GIT_CONFIG_NOSYSTEM GIT_CONFIG_GLOBAL
if [ "$service" = receive-pack ]; then
  ${receivePack(o.stall)}
fi
# upload-pack: count what it sends. tee forwards every read at once (no buffering), and the count
# is recorded before this script exits, i.e. before the client's ssh (and git) can exit.
tmp=$(mktemp -d "$dir/upload-pack.XXXXXX")
mkfifo "$tmp/out"
tee "$tmp/copy" <"$tmp/out" &
teepid=$!
"$git" upload-pack "$repo" >"$tmp/out"
rc=$?
wait "$teepid"
wc -c <"$tmp/copy" | tr -d ' ' >>"$dir/upload-pack.bytes"
rm -rf "$tmp"
exit "$rc"
`;
}

/**
 * `stallReceivePack`: every push is taken and never answered, not even with receive-pack's refs;
 * `stallPushes`: the first pushes stall later (see PushStall).
 */
export async function startSshd(opts: {
  repoPath: string;
  stallReceivePack?: boolean;
  stallPushes?: PushStall;
}): Promise<SshdServer> {
  const repo = path.resolve(opts.repoPath);
  if (!SAFE_PATH.test(repo)) throw new Error(`startSshd: repoPath must be a plain absolute path: ${repo}`);
  const sshd = which('sshd', ['/usr/sbin', '/usr/local/sbin', '/sbin']);
  const gitBin = which('git');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mirage-sshd-'));
  if (!SAFE_PATH.test(dir)) throw new Error(`startSshd: temp dir path has unusual characters: ${dir}`);

  const isRoot = process.getuid?.() === 0;
  const user = os.userInfo().username;
  if (isRoot) await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation dir

  const keys = path.join(dir, 'keys');
  await mkdir(keys, { mode: 0o700 });
  const passphrase = 'correct horse battery staple';
  const [host, other, deploy, readOnly, stranger, locked] = await Promise.all([
    keygen(path.join(dir, 'ssh_host_ed25519_key')),
    keygen(path.join(keys, 'other_host_key')),
    keygen(path.join(keys, 'deploy_key'), '', 'deploy-key'),
    keygen(path.join(keys, 'read_only_key'), '', 'read-only-key'),
    keygen(path.join(keys, 'stranger_key'), '', 'stranger'),
    keygen(path.join(keys, 'passphrase_key'), passphrase, 'passphrase-key'),
  ]);

  const forcedCommandPath = path.join(dir, 'git-only.sh');
  await writeFile(
    forcedCommandPath,
    forcedCommand({
      git: gitBin,
      repo,
      dir,
      ...(opts.stallReceivePack ? { stall: 'every' as const } : opts.stallPushes ? { stall: opts.stallPushes } : {}),
    }),
    {
      mode: 0o755,
    },
  );
  await writeFile(path.join(dir, 'stalled-pushes'), '');
  await mkdir(path.join(dir, 'stall-hooks'));
  await writeFile(path.join(dir, 'stall-hooks', 'post-receive'), '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
  await chmod(forcedCommandPath, 0o755);
  const restrict = `restrict,command="${forcedCommandPath}"`;
  await writeFile(
    path.join(dir, 'authorized_keys'),
    `${restrict} ${deploy.pub} deploy-key\n${restrict} ${locked.pub} passphrase-key\n` +
      `restrict,command="${forcedCommandPath} read-only" ${readOnly.pub} read-only-key\n`,
    { mode: 0o600 },
  );
  const bytesFile = path.join(dir, 'upload-pack.bytes');
  const commandsFile = path.join(dir, 'commands.log');
  await writeFile(bytesFile, '');
  await writeFile(commandsFile, '');

  const config = (port: number) =>
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      'AddressFamily inet',
      `HostKey ${path.join(dir, 'ssh_host_ed25519_key')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      `AllowUsers ${user}`,
      isRoot ? 'PermitRootLogin prohibit-password' : 'PermitRootLogin no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'HostbasedAuthentication no',
      'GSSAPIAuthentication no',
      'PermitEmptyPasswords no',
      'UsePAM no',
      'StrictModes no',
      'PermitUserRC no',
      'PermitUserEnvironment no',
      'AcceptEnv GIT_PROTOCOL', // lets git speak protocol v2 over ssh, as GitHub does
      // sshd runs the forced command through the user's login shell, and Debian's bash sources the
      // real ~/.bashrc when it sees SSH_CLIENT at shell level 1 (slow, may print, not ours to run).
      // Starting it at SHLVL=1 (so it counts itself as level 2) skips that.
      'SetEnv SHLVL=1',
      'AllowTcpForwarding no',
      'AllowAgentForwarding no',
      'X11Forwarding no',
      'PermitTTY no',
      'PrintMotd no',
      'PrintLastLog no',
      'UseDNS no',
      'MaxStartups 64',
      'MaxAuthTries 6',
      'LoginGraceTime 30',
      'LogLevel VERBOSE',
      '',
    ].join('\n');

  let child: ChildProcess | undefined;
  let log = '';
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const configPath = path.join(dir, 'sshd_config');
    await writeFile(configPath, config(port), { mode: 0o600 });
    log = '';
    const proc = spawn(sshd, ['-D', '-e', '-f', configPath], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (s: string) => (log += s));
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      const onData = () => {
        if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) {
          clearTimeout(timer);
          proc.stderr!.off('data', onData);
          resolve(true);
        }
      };
      proc.stderr!.on('data', onData);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
      proc.once('error', (e) => {
        log += `\nspawn error: ${e.message}\n`;
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ready) {
      child = proc;
      break;
    }
    if (proc.pid !== undefined) for (const p of processTree(proc.pid).reverse()) signal(p, 'SIGKILL');
    const bindRace = /Bind to port|Cannot bind any address|Address already in use/.test(log);
    if (!bindRace || attempt >= 5) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start (attempt ${attempt}):\n${log}`);
    }
  }

  const sshdProc = child;
  const sshdPid = sshdProc.pid!;
  const onExit = () => {
    for (const p of processTree(sshdPid).reverse()) signal(p, 'SIGKILL');
  };
  process.once('exit', onExit);

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      process.off('exit', onExit);
      // Per-connection sshd children call setsid(), so a process-group kill would miss them; and
      // once sshd is gone they are orphans. So: take the whole tree now, then kill it.
      const tree = processTree(sshdPid);
      const exited = new Promise<void>((resolve) => {
        if (sshdProc.exitCode !== null || sshdProc.signalCode !== null) resolve();
        else sshdProc.once('exit', () => resolve());
      });
      await killTree(tree);
      await exited;
      await rm(dir, { recursive: true, force: true });
    })());

  return {
    host: '127.0.0.1',
    port,
    pid: sshdPid,
    user,
    url: `ssh://${user}@127.0.0.1:${port}${repo}`,
    scpUrl: `${user}@127.0.0.1:${repo}`,
    knownHosts: `[127.0.0.1]:${port} ${host.pub}`,
    otherKnownHosts: `[127.0.0.1]:${port} ${other.pub}`,
    deployKey: deploy.priv,
    readOnlyKey: readOnly.priv,
    strangerKey: stranger.priv,
    passphraseKey: locked.priv,
    passphrase,
    forcedCommandPath,
    commands: () =>
      readFileSync(commandsFile, 'utf8')
        .split('\n')
        .filter((l) => l !== ''),
    uploadPackBytes: () =>
      readFileSync(bytesFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .reduce((sum, l) => sum + Number(l), 0),
    resetCounters: () => writeFileSync(bytesFile, ''),
    logs: () => log,
    stop,
  };
}

/** Write a private key where ssh accepts it (mode 0600; ssh refuses group/world-readable keys). */
export async function writeKeyFile(file: string, key: string): Promise<string> {
  await writeFile(file, key.endsWith('\n') ? key : `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}
