import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Writable } from 'node:stream';
import * as core from '@actions/core';
import * as exec from '@actions/exec';
import { cancelled, CancelledError, onCancel } from './cancel.js';
import { childEnv } from './isolation.js';

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the command was killed at its deadline. */
  readonly timedOut?: boolean;
  /** Set when the command was killed for printing nothing for `stallMs`. */
  readonly stalled?: boolean;
  /** Set when the command was killed because the job was cancelled (by this signal). */
  readonly cancelled?: NodeJS.Signals;
}

export interface CommandOptions {
  readonly cwd?: string;
  /** Full environment of the child; defaults to this process's, less what is private (`childEnv`). */
  readonly env?: Record<string, string>;
  /** Do not echo the command's output into the log (it is still returned). */
  readonly silent?: boolean;
  readonly input?: string | Buffer;
  /** Rewrites each line the command prints before it reaches the log (the returned output is as printed). */
  readonly mapLogLine?: (line: string) => string;
  /**
   * Echo both streams, in order, to this one stream: the build's output goes to stdout only, so
   * that none of it can be read by the runner after the `::stop-commands::` that fences it ends.
   */
  readonly logStream?: NodeJS.WritableStream;
  /**
   * Milliseconds after which the command and every process it started (its process group) are
   * killed; the result then has `timedOut`. For network commands, whose server may never answer.
   */
  readonly deadlineMs?: number;
  /**
   * With `deadlineMs`: milliseconds without a new byte on stdout or stderr after which the command
   * is killed the same way; the result then has `stalled`. For a command that reports its progress
   * (`git push --progress`), so that one that stopped moving ends long before its deadline.
   */
  readonly stallMs?: number;
}

/** A command that exited non-zero, with enough of its output to act on. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: CommandResult,
    hint?: string,
  ) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-30).join('\n');
    super(
      `\`${command}\` failed with exit code ${result.exitCode}${hint ? `: ${hint}` : ''}${tail ? `\n${tail}` : ''}`,
    );
    this.name = 'CommandError';
  }
}

/** Every child's environment: see src/isolation.ts for what it leaves out and why. */
export { childEnv as processEnv } from './isolation.js';

/** A stream that hands whole lines, rewritten, to `target`; `flush` writes a last unterminated line. */
function lineMapper(target: NodeJS.WritableStream, map: (line: string) => string): Writable & { flush(): void } {
  let pending = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) target.write(`${map(line)}\n`);
      done();
    },
  });
  return Object.assign(stream, {
    flush() {
      if (pending !== '') target.write(map(pending));
      pending = '';
    },
  });
}

/**
 * The program as found on the PATH of the environment it will run in. @actions/exec searches this
 * process's PATH instead, which need not hold, say, the opam switch's bin folder.
 */
export function findProgram(program: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (program.includes('/')) return program;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, program);
    if (dir !== '' && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined || pid <= 1) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

/** Where the tether's programs are taken from: system folders, never the job's PATH (which the build may write). */
const SYSTEM_FOLDERS = ['/usr/bin', '/bin'];

function systemProgram(name: string): string | undefined {
  return SYSTEM_FOLDERS.map((dir) => join(dir, name)).find((path) => existsSync(path));
}

/**
 * Without a PID namespace: a shell that runs the command in the background and, when this process
 * dies (SIGTERM, its parent-death signal), SIGKILLs its whole process group, in which git's ssh and
 * remote helper stay. A background command reads /dev/null unless given its input explicitly (fd 3).
 */
const GROUP_KILLER = `trap 'kill -KILL 0' TERM; exec 3<&0; "$@" <&3 3<&- & wait "$!"`;

/**
 * What ties a command with a deadline to this process's life, as a prefix of its command line.
 * Best, a PID namespace of its own whose first process gets SIGKILL when this one dies (bubblewrap
 * `--die-with-parent`): the kernel then kills everything in the namespace, so git's ssh, its
 * remote helper and anything they forked or detached go too, even when this process is SIGKILLed.
 * Where bubblewrap cannot make one (no unprivileged user namespaces, as on Ubuntu 24.04 without
 * an AppArmor profile for it), `setpriv --pdeathsig` and GROUP_KILLER take down the command's
 * process group, which misses only what called setsid (git and ssh do not).
 */
export function tetherFor(probe: (command: readonly string[]) => boolean): readonly string[] {
  if (process.platform !== 'linux') return [];
  const bwrap = systemProgram('bwrap');
  const namespace = bwrap && [bwrap, '--dev-bind', '/', '/', '--unshare-pid', '--die-with-parent', '--'];
  if (namespace && probe([...namespace, systemProgram('true') ?? '/bin/true'])) return namespace;
  const [setpriv, sh] = [systemProgram('setpriv'), systemProgram('sh')];
  return setpriv && sh ? [setpriv, '--pdeathsig', 'TERM', '--', sh, '-c', GROUP_KILLER, 'tether'] : [];
}

let tether: readonly string[] | undefined;

function probeOnce(): readonly string[] {
  if (tether !== undefined) return tether;
  tether = tetherFor(
    ([program, ...args]) => spawnSync(program ?? '', args, { stdio: 'ignore', timeout: 10_000 }).status === 0,
  );
  core.debug(`network commands run under: ${tether.length ? tether.join(' ') : '(nothing: no parent-death signal)'}`);
  return tether;
}

/** A timer that `kick` starts again: it calls `expire` once `ms` pass without one. */
function watchdog(ms: number | undefined, expire: () => void): { kick(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const kick = () => {
    if (ms === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(expire, ms);
  };
  kick();
  return { kick, stop: () => clearTimeout(timer) };
}

/** Keeps what `stream` prints, echoes it to `echo`, and tells `kick` of every byte. */
function collect(
  stream: NodeJS.ReadableStream,
  into: Buffer[],
  echo: NodeJS.WritableStream | undefined,
  kick: () => void,
) {
  stream.on('data', (chunk: Buffer) => {
    kick();
    into.push(chunk);
    echo?.write(chunk);
  });
}

/** The command groups running with a deadline: killed together when the job is cancelled. */
const running = new Set<ChildProcess>();
onCancel(() => {
  for (const child of running) killGroup(child.pid);
});

/**
 * A command in its own process group, killed with all it started (git's ssh or remote helper) at
 * the deadline, when the job is cancelled, and when this process ends however it ends (see
 * `tetherFor`). Its output is returned, and echoed unless `silent`. A cancelled job starts none.
 */
function runWithDeadline(
  program: string,
  args: readonly string[],
  options: CommandOptions,
  deadlineMs: number,
): Promise<CommandResult> {
  const signal = cancelled();
  if (signal !== undefined) return Promise.reject(new CancelledError(`\`${program} ${args.join(' ')}\``, signal));
  return new Promise((resolve, reject) => {
    const [wrapper, ...wrapperArgs] = probeOnce();
    const child = spawn(wrapper ?? program, wrapper === undefined ? [...args] : [...wrapperArgs, program, ...args], {
      cwd: options.cwd,
      env: options.env ?? childEnv(),
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let stalled = false;
    const timer = setTimeout(() => {
      timedOut = !stalled;
      killGroup(child.pid);
    }, deadlineMs);
    const progress = watchdog(options.stallMs, () => {
      stalled = !timedOut;
      killGroup(child.pid);
    });
    const stopWithUs = () => killGroup(child.pid);
    process.once('exit', stopWithUs);
    collect(child.stdout, out, options.silent ? undefined : (options.logStream ?? process.stdout), progress.kick);
    collect(child.stderr, err, options.silent ? undefined : (options.logStream ?? process.stderr), progress.kick);
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
    const settle = () => {
      clearTimeout(timer);
      progress.stop();
      running.delete(child);
      process.removeListener('exit', stopWithUs);
    };
    child.on('error', (error) => {
      settle();
      reject(error);
    });
    child.on('close', (code, exitSignal) => {
      settle();
      const stoppedBy = cancelled();
      resolve({
        exitCode: code ?? 128 + (exitSignal === 'SIGKILL' ? 9 : 15),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ...(timedOut ? { timedOut } : {}),
        ...(stalled ? { stalled } : {}),
        ...(stoppedBy !== undefined && code !== 0 ? { cancelled: stoppedBy } : {}),
      });
    });
  });
}

/**
 * Runs a program directly (never through a shell) and returns its output whatever the exit code.
 * The program is looked up on the PATH of `options.env` when one is given.
 */
export async function runCommand(
  program: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  const located = options.env ? (findProgram(program, options.env) ?? program) : program;
  if (options.deadlineMs !== undefined) return runWithDeadline(located, args, options, options.deadlineMs);
  const map = options.mapLogLine ?? (options.logStream ? (line: string) => line : undefined);
  const out = map ? lineMapper(options.logStream ?? process.stdout, map) : undefined;
  const err = map ? lineMapper(options.logStream ?? process.stderr, map) : undefined;
  const result = await exec
    .getExecOutput(located, [...args], {
      ...(out && err ? { outStream: out, errStream: err } : {}),
      cwd: options.cwd,
      env: options.env ?? childEnv(),
      silent: options.silent ?? false,
      ignoreReturnCode: true,
      ...(options.input === undefined
        ? {}
        : { input: Buffer.isBuffer(options.input) ? options.input : Buffer.from(options.input) }),
    })
    .finally(() => {
      out?.flush();
      err?.flush();
    });
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

/** Like runCommand, but a non-zero exit throws a CommandError carrying the output. */
export async function mustRun(
  program: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  const result = await runCommand(program, args, options);
  if (result.exitCode !== 0) throw new CommandError([program, ...args].join(' '), result);
  return result;
}
