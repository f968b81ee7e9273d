/**
 * The Debian/Ubuntu packages a target needs on the runner (solo5's tenders link libseccomp). On a
 * GitHub-hosted runner the action installs what is missing (as root in a `container:` job, else
 * with sudo); anywhere else, or with neither, it only says what to install and goes on, because
 * a self-hosted machine is not the action's to change and the build may not need them after all.
 */
import * as core from '@actions/core';
import * as io from '@actions/io';
import {
  aptCommand,
  aptInstall,
  currentPrivilege,
  refreshAptIndex,
  runsOnHostedRunner,
  type InstallFacts,
} from '../apt.js';
import { runCommand } from '../exec.js';
import type { RunContext } from '../context.js';
import { TARGETS, type Target } from './targets.js';

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

export function planSystemPackages(
  required: readonly string[],
  dpkgOutput: string,
  facts: InstallFacts,
  target: Target,
): PackagePlan {
  const installed = installedPackages(dpkgOutput);
  const missing = required.filter((p) => !installed.has(p));
  if (missing.length === 0) return { action: 'none' };
  const command = aptCommand(facts);
  if (command !== undefined) return { action: 'install', packages: missing, command };
  const needs = `target \`${target}\` needs the system packages ${missing.join(', ')}, which are not installed on this runner`;
  const install = `apt-get install -y ${missing.join(' ')}`;
  return {
    action: 'warn',
    packages: missing,
    message: facts.hosted
      ? `${needs}, and the action cannot install them here (not root, and no sudo); going on without them: ` +
        `install them in the job's image (\`${install}\`) if the build fails for want of them`
      : `${needs}; install them (\`sudo ${install}\`) if the build fails for want of them`,
  };
}

async function installFacts(env: NodeJS.ProcessEnv): Promise<InstallFacts> {
  return { hosted: runsOnHostedRunner(env), privilege: await currentPrivilege() };
}

/** Installs or reports the target's missing system packages; Debian-family Linux runners only. */
export async function ensureSystemPackages(target: Target, ctx: RunContext, env: NodeJS.ProcessEnv): Promise<void> {
  const required = TARGETS[target].systemPackages as readonly string[];
  if (required.length === 0 || ctx.runnerOs !== 'Linux') return;
  let query;
  try {
    query = await runCommand('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', ...required], { silent: true });
  } catch {
    core.warning(
      `target \`${target}\` needs ${required.join(', ')} (or your distribution's equivalent); ` +
        'this runner has no dpkg-query, so the action cannot check them',
    );
    return;
  }
  const plan = planSystemPackages(required, query.stdout, await installFacts(env), target);
  if (plan.action === 'warn') core.warning(plan.message);
  if (plan.action !== 'install') return;
  core.startGroup(`System packages for target ${target}: ${plan.packages.join(', ')}`);
  try {
    await aptInstall(plan.command, plan.packages);
  } finally {
    core.endGroup();
  }
}

/**
 * opam installs a package's system dependencies (depexts) with apt during \`make install-switch\`;
 * on a hosted runner the index is refreshed first, so that apt does not ask for versions the
 * archive no longer has. Elsewhere opam's depext is the machine owner's business.
 */
export async function prepareForDepexts(ctx: RunContext, env: NodeJS.ProcessEnv): Promise<void> {
  if (ctx.runnerOs !== 'Linux' || (await io.which('apt-get', false)) === '') return;
  const command = aptCommand(await installFacts(env));
  if (command !== undefined) await refreshAptIndex(command);
}
