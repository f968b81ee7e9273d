/**
 * Installing Debian/Ubuntu packages on the runner. Only a GitHub-hosted runner is the action's to
 * change, and only as root (a `container:` job) or through sudo. A hosted image's apt index can be
 * older than the archive (404s for packages that were since replaced), so the index is refreshed
 * once per run before the first install, and once more when an install fails to fetch. apt's and
 * dpkg's locks may be held by another process (unattended-upgrades on a fresh VM, another job on
 * the same machine): apt-get waits for dpkg's lock itself (`DPkg::Lock::Timeout`), and is run again
 * while apt says a lock is taken (`apt-get update` never waits), until APT_LOCK_DEADLINE_MS.
 */
import * as core from '@actions/core';
import * as io from '@actions/io';
import { APT_LOCK_DEADLINE_MS, deadline, seconds } from './deadlines.js';
import { CommandError, processEnv, runCommand, type CommandResult } from './exec.js';

export type Privilege = 'root' | 'sudo' | 'none';

export interface InstallFacts {
  /** RUNNER_ENVIRONMENT=github-hosted: a disposable machine. */
  readonly hosted: boolean;
  readonly privilege: Privilege;
}

/** The command that runs apt-get with the right to install, or undefined when the action may not. */
export function aptCommand(facts: InstallFacts): readonly string[] | undefined {
  if (!facts.hosted || facts.privilege === 'none') return undefined;
  // sudo resets the environment; apt's front end is told on the command line instead.
  return facts.privilege === 'root' ? ['apt-get'] : ['sudo', 'DEBIAN_FRONTEND=noninteractive', 'apt-get'];
}

/**
 * apt-get's own words for a download that did not happen (a stale index's 404, a mirror that is
 * down or mid-sync, DNS), as opposed to a package that does not exist or a broken dependency.
 */
const FETCH_FAILURE =
  /^(?:E|W|Err):.*(?:Failed to fetch|Unable to fetch some archives|404\s+Not Found|Temporary failure resolving|Could not resolve|Could not connect|Connection timed out|Hash Sum mismatch|File has unexpected size)/im;

export function isFetchFailure(output: string): boolean {
  return FETCH_FAILURE.test(output);
}

export interface AptLockConflict {
  /** The lock file apt names. */
  readonly lock: string;
  /** `process 6184 (apt-get)`, when apt says who holds it. */
  readonly holder?: string;
}

const LOCK_ERROR =
  /^E: (?:Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock (?:the administration )?directory)/m;
const HELD_BY = /Could not get lock (\S+?)\.? It is held by process (\d+)(?: \(([^)\n]*)\))?/g;
const LOCK_PATH =
  /^E: (?:Could not get lock (\S+?)(?:\.|\s-\s)|Unable to acquire the dpkg frontend lock \((\S+?)\)|Unable to lock (?:the administration )?directory (\S+))/m;

/**
 * apt-get's words for a lock another process holds (`E: Could not get lock /var/lib/apt/lists/lock.
 * It is held by process 6184 (apt-get)`, or after `DPkg::Lock::Timeout`: `E: Unable to acquire the
 * dpkg frontend lock (…)`, its holder named on the `Waiting for cache lock` lines before it).
 */
export function aptLockConflict(output: string): AptLockConflict | undefined {
  if (!LOCK_ERROR.test(output)) return undefined;
  const held = [...output.matchAll(HELD_BY)].at(-1);
  if (held !== undefined) {
    const [, lock = '', pid = '', name] = held;
    return { lock, holder: `process ${pid}${name === undefined ? '' : ` (${name})`}` };
  }
  const path = LOCK_PATH.exec(output);
  return { lock: path?.[1] ?? path?.[2] ?? path?.[3] ?? "apt's lock" };
}

/** How long to wait before running apt-get again on a taken lock (1, 2, 4, then 5 s), or undefined past the deadline. */
export function lockRetryWait(attempt: number, msLeft: number): number | undefined {
  if (msLeft <= 0) return undefined;
  return Math.min(msLeft, 5000, 1000 * 2 ** attempt);
}

export function describeConflict(conflict: AptLockConflict): string {
  return `${conflict.lock} is held by ${conflict.holder ?? 'another process'}`;
}

export async function currentPrivilege(): Promise<Privilege> {
  if (process.getuid?.() === 0) return 'root';
  return (await io.which('sudo', false)) !== '' ? 'sudo' : 'none';
}

export function runsOnHostedRunner(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.RUNNER_ENVIRONMENT === 'github-hosted';
}

/** Every download apt makes gets a deadline, so a dead mirror fails the step instead of hanging it. */
const DEADLINES = ['-o', 'Acquire::http::Timeout=60', '-o', 'Acquire::https::Timeout=60', '-o', 'Acquire::Retries=2'];

let indexRefreshed = false;

/** apt-get, run again while another process holds apt's or dpkg's lock, until `until` (epoch ms). */
async function apt(command: readonly string[], args: readonly string[], until: number): Promise<CommandResult> {
  const [program = 'apt-get', ...prefix] = command;
  for (let attempt = 0; ; attempt++) {
    const timeout = ['-o', `DPkg::Lock::Timeout=${seconds(until - Date.now())}`];
    const result = await runCommand(program, [...prefix, ...DEADLINES, ...timeout, ...args], {
      env: processEnv({ DEBIAN_FRONTEND: 'noninteractive' }),
    });
    const conflict = result.exitCode === 0 ? undefined : aptLockConflict(result.stdout + result.stderr);
    if (conflict === undefined) return result;
    const wait = lockRetryWait(attempt, until - Date.now());
    if (wait === undefined) {
      throw new CommandError([...command, ...args].join(' '), result, lockDeadlineHint(conflict));
    }
    core.info(`apt-get ${args[0] ?? ''}: ${describeConflict(conflict)}; trying again in ${seconds(wait)} s`);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

function lockDeadlineHint(conflict: AptLockConflict): string {
  return (
    `${describeConflict(conflict)}, still after ${seconds(deadline(APT_LOCK_DEADLINE_MS))} s (the action's apt lock ` +
    'deadline): another apt-get or dpkg runs on this machine (unattended-upgrades on a fresh VM, another job); ' +
    "let it finish in an earlier step, or install the packages in the job's image"
  );
}

async function mustApt(
  command: readonly string[],
  args: readonly string[],
  until: number,
  retryFetch: () => Promise<void>,
) {
  let result = await apt(command, args, until);
  if (result.exitCode !== 0 && isFetchFailure(result.stdout + result.stderr)) {
    core.warning(`apt-get ${args[0] ?? ''} could not download everything; refreshing and trying once more`);
    await retryFetch();
    result = await apt(command, args, until);
  }
  if (result.exitCode !== 0) throw new CommandError([...command, ...args].join(' '), result);
}

/** `apt-get update`, the first time it is asked for in this run; retried once on a fetch failure. */
export async function refreshAptIndex(
  command: readonly string[],
  until = Date.now() + deadline(APT_LOCK_DEADLINE_MS),
): Promise<void> {
  if (indexRefreshed) return;
  await mustApt(command, ['update', '-qq'], until, async () => {});
  indexRefreshed = true;
}

/**
 * The index refreshed, then the packages installed; `-q`, not `-qq`, so that apt names who holds
 * dpkg's lock while it waits. One lock deadline covers both.
 */
export async function aptInstall(command: readonly string[], packages: readonly string[]): Promise<void> {
  const until = Date.now() + deadline(APT_LOCK_DEADLINE_MS);
  await refreshAptIndex(command, until);
  await mustApt(command, ['install', '-y', '-q', '--no-install-recommends', ...packages], until, async () => {
    indexRefreshed = false;
    await refreshAptIndex(command, until);
  });
}
