/**
 * Keeping the action's secrets away from the code it builds. Everything the build runs (opam
 * packages, `mirage`, the unikernel's Makefile, `build-command`) is untrusted and runs as the same
 * user as the action, so hiding a secret from the log is not enough: it must be out of reach.
 *
 * Three ways in, three fixes:
 * - inheritance: every child gets `childEnv()`, which never holds an input (`INPUT_*`) or one of
 *   the runner's own tokens;
 * - an ancestor's environment block: `/proc/<action's pid>/environ` still shows what the runner
 *   started the action with, whatever `process.env` says later, so `sealEnvironment()` overwrites
 *   those values in place, through `/proc/self/mem`;
 * - a process the build leaves behind, waiting for the deploy to read git's environment or the key
 *   file: `sweepLeftovers()` kills, before the deploy, every process the build started.
 *
 * A PID namespace per child would hide ancestors too, but it needs user namespaces (forbidden by
 * AppArmor on Ubuntu 24.04 unless a profile is installed) or root; blanking works for any user on
 * Linux. What remains reachable is the action's heap through `/proc/<pid>/mem`, which needs ptrace
 * rights over the action; the structural answer is a deploy job that builds nothing (`image-path`).
 */
import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** The runner's own credentials: the cache and artifact token, and the OIDC token request. */
const RUNNER_TOKENS = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL'];

/** Variables no child process may see: every input (any of them may hold a secret) and the runner's tokens. */
export function isPrivateVariable(name: string): boolean {
  return name.startsWith('INPUT_') || RUNNER_TOKENS.includes(name);
}

/**
 * Marks every process the action starts, so that one the build left behind is still recognised
 * after it detached (setsid, double fork): a detached process keeps its environment.
 */
export const BUILD_MARKER = 'MIRAGE_DEPLOY_RUN';
const marker = `${process.pid}-${randomUUID()}`;

/** The run's marker alone, for an environment built from an allow-list (an unsandboxed build's). */
export function markerVariable(): Record<string, string> {
  return { [BUILD_MARKER]: marker };
}

/** The environment for a child process: this process's, less what is private, plus `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...extra })) {
    if (v !== undefined && !isPrivateVariable(k)) env[k] = v;
  }
  env[BUILD_MARKER] = marker;
  return env;
}

/** Fields of `/proc/<pid>/stat` after the command name, which may itself hold spaces and parentheses. */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Byte ranges of the values of private variables in an environment block (`NAME=value\0…`). */
export function privateValueRanges(block: Buffer): Array<{ name: string; start: number; end: number }> {
  const ranges: Array<{ name: string; start: number; end: number }> = [];
  for (let offset = 0; offset < block.length;) {
    const nul = block.indexOf(0, offset);
    const end = nul === -1 ? block.length : nul;
    const equals = block.indexOf(0x3d, offset);
    if (equals !== -1 && equals < end) {
      const name = block.toString('utf8', offset, equals);
      if (isPrivateVariable(name) && end > equals + 1) ranges.push({ name, start: equals + 1, end });
    }
    offset = end + 1;
  }
  return ranges;
}

/**
 * Makes the secrets unreachable through this process's environment: overwrites their values in the
 * environment block the kernel shows as `/proc/<pid>/environ`, drops the inputs from `process.env`
 * (they are parsed already) and keeps the runner's tokens only in this process's own memory, where
 * the cache client reads them. Call it once the inputs are read, before any child is started.
 */
export function sealEnvironment(): void {
  if (process.platform !== 'linux') return;
  const kept = new Map(RUNNER_TOKENS.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
  let blanked = 0;
  try {
    const fields = statFields(readFileSync('/proc/self/stat', 'utf8'));
    const envStart = Number(fields[47]);
    const block = readFileSync('/proc/self/environ');
    const ranges = privateValueRanges(block);
    if (ranges.length > 0) {
      const mem = openSync('/proc/self/mem', 'r+');
      try {
        for (const { start, end } of ranges) {
          writeSync(mem, Buffer.alloc(end - start), 0, end - start, envStart + start);
          blanked++;
        }
      } finally {
        closeSync(mem);
      }
    }
  } catch (error) {
    core.warning(
      `could not blank the secrets in this process's environment block (${(error as Error).message}); ` +
        'processes the build starts could read them from /proc: deploy from a job that builds nothing (`image-path`)',
    );
  }
  for (const name of Object.keys(process.env)) if (name.startsWith('INPUT_')) delete process.env[name];
  // Set again, the value lives in memory of its own, outside the block that was just blanked.
  for (const [name, value] of kept) process.env[name] = value;
  core.debug(`environment sealed: ${blanked} private values blanked`);
}

/** What the sweep needs to know of one process. */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  /** Clock ticks after boot. */
  readonly start: number;
  /** Whether its environment carries this run's marker. */
  readonly marked: boolean;
  readonly command: string;
  /** The state letter of `/proc/<pid>/stat`: `Z` is a zombie, which runs nothing. */
  readonly state: string;
}

/**
 * The processes the build left behind: of this user, started after the action, not the action or
 * one of its ancestors, and either still below the action or carrying its marker (detached).
 * Processes that are neither are somebody else's, even when they started later.
 */
export function chooseLeftovers(processes: readonly ProcessInfo[], self: ProcessInfo): ProcessInfo[] {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const ancestors = new Set<number>();
  for (let p = byPid.get(self.ppid); p !== undefined && !ancestors.has(p.pid); p = byPid.get(p.ppid)) {
    ancestors.add(p.pid);
  }
  const below = (p: ProcessInfo): boolean => {
    const seen = new Set<number>();
    for (let q: ProcessInfo | undefined = p; q !== undefined && !seen.has(q.pid); q = byPid.get(q.ppid)) {
      if (q.ppid === self.pid) return true;
      seen.add(q.pid);
    }
    return false;
  };
  return processes.filter(
    (p) =>
      p.pid !== self.pid &&
      !ancestors.has(p.pid) &&
      p.uid === self.uid &&
      p.start >= self.start &&
      (p.marked || below(p)),
  );
}

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const fields = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    let marked = false;
    try {
      marked = readFileSync(`/proc/${pid}/environ`).includes(`\0${BUILD_MARKER}=${marker}\0`);
    } catch {
      // Another user's process, or gone: not ours either way.
    }
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return {
      pid,
      ppid: Number(fields[1]),
      uid: statSync(`/proc/${pid}`).uid,
      start: Number(fields[19]),
      marked,
      command,
      state: fields[0] ?? '',
    };
  } catch {
    return undefined;
  }
}

function listProcesses(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => readProcess(Number(name)) ?? []);
}

/** A process across pid reuse: its pid and start time. */
const identity = (p: ProcessInfo): string => `${p.pid}@${p.start}`;

/**
 * One pass of the sweep, decided: the leftovers to kill now, and those killed by an earlier pass
 * that have not gone yet (SIGKILL is delivered, but the kernel takes a moment to tear a process
 * down, longer on a loaded machine). Zombies are neither: they run nothing, and whoever adopted
 * them reaps them when it will.
 */
export function planSweep(
  processes: readonly ProcessInfo[],
  self: ProcessInfo,
  killed: ReadonlySet<string>,
): { kill: ProcessInfo[]; going: ProcessInfo[] } {
  const leftovers = chooseLeftovers(processes, self).filter((p) => p.state !== 'Z');
  return {
    kill: leftovers.filter((p) => !killed.has(identity(p))),
    going: leftovers.filter((p) => killed.has(identity(p))),
  };
}

/** Passes after which leftovers that keep appearing (each pass kills a new generation) stop the deploy. */
const SWEEP_PASSES = 50;
/** How long the sweep waits for the processes it killed to go. */
const SWEEP_WAIT_MS = 2_000;

/**
 * Kills what the build left running, before anything secret is written or handed to git, and
 * waits for it to go. Repeats until a pass finds nothing new, since a leftover may fork while it is
 * being killed; refuses to deploy only when new ones keep appearing. A process already killed
 * that has not gone by the deadline is past running any code of its own (SIGKILL is pending), so
 * it does not stop the deploy.
 */
export async function sweepLeftovers(): Promise<number> {
  if (process.platform !== 'linux') return 0;
  const killed = new Set<string>();
  const started = Date.now();
  for (let pass = 1; ; pass++) {
    const processes = listProcesses();
    const self = processes.find((p) => p.pid === process.pid);
    if (self === undefined) return killed.size;
    const { kill, going } = planSweep(processes, self, killed);
    if (kill.length === 0 && (going.length === 0 || Date.now() - started > SWEEP_WAIT_MS)) {
      if (going.length > 0) core.info(`killed, still going: ${going.map((p) => p.pid).join(', ')}`);
      return killed.size;
    }
    if (kill.length > 0 && pass > SWEEP_PASSES) {
      throw new Error('processes the build started keep starting others; not deploying with them alive');
    }
    for (const p of kill) {
      try {
        process.kill(p.pid, 'SIGKILL');
        killed.add(identity(p));
        core.warning(`killed process ${p.pid} (${p.command.slice(0, 120)}): the build left it running`);
      } catch {
        // Already gone.
      }
    }
    await sleep(20);
  }
}
