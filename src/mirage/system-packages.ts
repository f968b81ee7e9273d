/**
 * The Debian/Ubuntu packages a target needs on the runner (solo5's tenders link libseccomp). On a
 * GitHub-hosted runner the action installs what is missing; anywhere else it only says what to
 * install, because a self-hosted machine is not the action's to change.
 */
import * as core from '@actions/core';
import { mustRun, processEnv, runCommand } from '../exec.js';
import type { RunContext } from '../context.js';
import { TARGETS, type Target } from './targets.js';

export type PackagePlan =
  | { readonly action: 'none' }
  | { readonly action: 'install'; readonly packages: readonly string[] }
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
  githubHosted: boolean,
  target: Target,
): PackagePlan {
  const installed = installedPackages(dpkgOutput);
  const missing = required.filter((p) => !installed.has(p));
  if (missing.length === 0) return { action: 'none' };
  if (githubHosted) return { action: 'install', packages: missing };
  return {
    action: 'warn',
    packages: missing,
    message:
      `target \`${target}\` needs the system packages ${missing.join(', ')}, which are not installed on this runner; ` +
      `install them (\`sudo apt-get install -y ${missing.join(' ')}\`) if the build fails for want of them`,
  };
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
  const plan = planSystemPackages(required, query.stdout, env.RUNNER_ENVIRONMENT === 'github-hosted', target);
  if (plan.action === 'warn') core.warning(plan.message);
  if (plan.action !== 'install') return;
  core.startGroup(`System packages for target ${target}: ${plan.packages.join(', ')}`);
  try {
    await mustRun('sudo', ['apt-get', 'update', '-qq']);
    await mustRun('sudo', ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...plan.packages], {
      env: processEnv({ DEBIAN_FRONTEND: 'noninteractive' }),
    });
  } finally {
    core.endGroup();
  }
}
