/**
 * Installing Debian/Ubuntu packages on the runner. Only a GitHub-hosted runner is the action's to
 * change, and only as root (a `container:` job) or through sudo. A hosted image's apt index can be
 * older than the archive (404s for packages that were since replaced), so the index is refreshed
 * once per run before the first install, and once more when an install fails to fetch.
 */
import * as core from '@actions/core';
import * as io from '@actions/io';
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

async function apt(command: readonly string[], args: readonly string[]): Promise<CommandResult> {
  const [program = 'apt-get', ...prefix] = command;
  return runCommand(program, [...prefix, ...DEADLINES, ...args], {
    env: processEnv({ DEBIAN_FRONTEND: 'noninteractive' }),
  });
}

async function mustApt(command: readonly string[], args: readonly string[], retryFetch: () => Promise<void>) {
  let result = await apt(command, args);
  if (result.exitCode !== 0 && isFetchFailure(result.stdout + result.stderr)) {
    core.warning(`apt-get ${args[0] ?? ''} could not download everything; refreshing and trying once more`);
    await retryFetch();
    result = await apt(command, args);
  }
  if (result.exitCode !== 0) throw new CommandError([...command, ...args].join(' '), result);
}

/** `apt-get update`, the first time it is asked for in this run; retried once on a fetch failure. */
export async function refreshAptIndex(command: readonly string[]): Promise<void> {
  if (indexRefreshed) return;
  await mustApt(command, ['update', '-qq'], async () => {});
  indexRefreshed = true;
}

export async function aptInstall(command: readonly string[], packages: readonly string[]): Promise<void> {
  await refreshAptIndex(command);
  await mustApt(command, ['install', '-y', '-qq', '--no-install-recommends', ...packages], async () => {
    indexRefreshed = false;
    await refreshAptIndex(command);
  });
}
