/**
 * The Debian/Ubuntu packages a build needs on the runner: its target's (solo5's tenders link
 * libseccomp) and those the lock file's depexts select with opam's system variables. They are
 * installed here, outside the build's sandbox, and only when `dpkg-query` says one is missing;
 * inside, opam and opam-monorepo install none (`OPAMNODEPEXTS`, `mirage configure --no-depext`).
 * On a GitHub-hosted runner the action installs what is missing (as root in a `container:` job,
 * else with sudo); anywhere else, or with neither, it only says what to install and goes on,
 * because a self-hosted machine is not the action's to change and the build may not need them.
 */
import * as core from '@actions/core';
import * as io from '@actions/io';
import { existsSync, readFileSync } from 'node:fs';
import { machine, type } from 'node:os';
import { aptCommand, aptInstall, currentPrivilege, runsOnHostedRunner, type InstallFacts } from '../apt.js';
import { runCommand } from '../exec.js';
import type { RunContext } from '../context.js';
import { systemVariables, withOverrides, type SystemFacts, type SystemVariables } from '../opam/system-variables.js';
import { lockDepexts } from './depexts.js';
import { TARGETS, type Target } from './targets.js';

/** Packages one source asks for: the target, or one lock file's depexts. */
export interface Needed {
  readonly from: string;
  readonly packages: readonly string[];
}

export type PackagePlan =
  | { readonly action: 'none' }
  | { readonly action: 'install'; readonly packages: readonly string[]; readonly command: readonly string[] }
  | { readonly action: 'warn'; readonly packages: readonly string[]; readonly message: string };

/** Reads `dpkg-query -W -f='${Package} ${Status}\n' …` output: the packages that are installed. */
export function installedPackages(dpkgOutput: string): Set<string> {
  const installed = new Set<string>();
  for (const line of dpkgOutput.split('\n')) {
    const [name, ...status] = line.trim().split(/\s+/);
    if (name && status.join(' ') === 'install ok installed') installed.add(name.replace(/:.*$/, ''));
  }
  return installed;
}

/** Every package asked for, once, in order. */
export function allPackages(needs: readonly Needed[]): string[] {
  return [...new Set(needs.flatMap((n) => n.packages))];
}

/**
 * What the target and the lock files ask for. The lock's depexts are selected with opam's
 * variables; on a Debian-family system their names are checked, since they go to apt-get.
 */
export function neededPackages(
  target: Target,
  locks: readonly { readonly name: string; readonly content: string }[],
  vars: SystemVariables,
): Needed[] {
  const needs: Needed[] = [{ from: `target \`${target}\``, packages: TARGETS[target].systemPackages }];
  for (const lock of locks) {
    const from = `the depexts of mirage/${lock.name}`;
    const debian = vars['os-family'] === 'debian';
    needs.push({ from, packages: lockDepexts(`mirage/${lock.name}`, lock.content, vars, debian) });
  }
  return needs.filter((n) => n.packages.length > 0);
}

/** Whether apt runs, and for what: nothing when everything asked for is installed. */
export function planSystemPackages(needs: readonly Needed[], dpkgOutput: string, facts: InstallFacts): PackagePlan {
  const installed = installedPackages(dpkgOutput);
  const missing = allPackages(needs).filter((p) => !installed.has(p));
  if (missing.length === 0) return { action: 'none' };
  const command = aptCommand(facts);
  if (command !== undefined) return { action: 'install', packages: missing, command };
  const askers = needs.filter((n) => n.packages.some((p) => missing.includes(p))).map((n) => n.from);
  const asked = `${askers.join(' and ')} ${askers.length > 1 ? 'need' : 'needs'} the system packages ${missing.join(', ')}`;
  const install = `apt-get install -y ${missing.join(' ')}`;
  return {
    action: 'warn',
    packages: missing,
    message: facts.hosted
      ? `${asked}, which are not installed on this runner, and the action cannot install them here (not root, ` +
        `and no sudo); going on without them: install them in the job's image (\`${install}\`) if the build ` +
        'fails for want of them'
      : `${asked}, which are not installed on this runner; install them (\`sudo ${install}\`) if the build fails ` +
        'for want of them',
  };
}

async function installFacts(env: NodeJS.ProcessEnv): Promise<InstallFacts> {
  return { hosted: runsOnHostedRunner(env), privilege: await currentPrivilege() };
}

/** What opam reads to set its system variables: uname, os-release, lsb_release. */
export async function readSystemFacts(): Promise<SystemFacts> {
  const release = ['/etc/os-release', '/usr/lib/os-release'].find((f) => existsSync(f));
  const lsb = async (args: string[]) => {
    const result = await runCommand('lsb_release', args, { silent: true });
    const lines = result.stdout.split('\n').filter((l) => l.trim() !== '');
    return result.exitCode === 0 && lines.length === 1 ? lines[0]?.trim() : undefined;
  };
  const hasLsb = (await io.which('lsb_release', false)) !== '';
  const [lsbRelease, lsbId] = hasLsb ? [await lsb(['-s', '-r']), await lsb(['-i', '-s'])] : [];
  return {
    sysname: type(),
    machine: machine(),
    ...(release === undefined ? {} : { osRelease: readFileSync(release, 'utf8') }),
    ...(lsbRelease === undefined ? {} : { lsbRelease }),
    ...(lsbId === undefined ? {} : { lsbId }),
  };
}

/**
 * Installs or reports the system packages the target and the lock files need; Linux runners only.
 * Runs no apt-get at all when `dpkg-query` finds every one installed.
 */
export async function ensureSystemPackages(
  target: Target,
  locks: readonly { readonly name: string; readonly content: string }[],
  ctx: RunContext,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  if (ctx.runnerOs !== 'Linux') return;
  const vars = withOverrides(systemVariables(await readSystemFacts()), env);
  core.info(
    `opam's system variables: ${Object.entries(vars)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  const needs = neededPackages(target, locks, vars);
  const required = allPackages(needs);
  if (required.length === 0) return;
  let query;
  try {
    query = await runCommand('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', ...required], { silent: true });
  } catch {
    core.warning(
      `${needs.map((n) => `${n.from} needs ${n.packages.join(', ')}`).join('; ')} (or your distribution's ` +
        'equivalent); this runner has no dpkg-query, so the action cannot check them',
    );
    return;
  }
  const plan = planSystemPackages(needs, query.stdout, await installFacts(env));
  if (plan.action === 'none') core.info(`system packages, all installed: ${required.join(', ')}`);
  if (plan.action === 'warn') core.warning(plan.message);
  if (plan.action !== 'install') return;
  core.startGroup(`System packages: ${plan.packages.join(', ')}`);
  try {
    await aptInstall(plan.command, plan.packages);
  } finally {
    core.endGroup();
  }
}
