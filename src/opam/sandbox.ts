import * as core from '@actions/core';
import * as io from '@actions/io';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptCommand, aptInstall, currentPrivilege, runsOnHostedRunner, type Privilege } from '../apt.js';
import type { SetupConfig } from '../config.js';
import type { RunContext } from '../context.js';
import { mustRun, runCommand } from '../exec.js';
import type { OpamSandbox } from './plan.js';

export type SandboxAction = 'none' | 'install' | 'refuse';

export interface SandboxFacts {
  readonly runnerOs: string;
  readonly disabled: boolean;
  readonly hasBwrap: boolean;
  /** RUNNER_ENVIRONMENT=github-hosted: a disposable machine the action may install packages on. */
  readonly hosted: boolean;
  readonly privilege: Privilege;
}

/**
 * opam sandboxes builds with bubblewrap on Linux (macOS has sandbox-exec built in). On a hosted
 * runner the action installs it when it can (root or sudo); on anyone else's machine it does not
 * install system packages and says what to do instead.
 */
export function sandboxAction(f: SandboxFacts): SandboxAction {
  if (f.runnerOs !== 'Linux' || f.disabled || f.hasBwrap) return 'none';
  return aptCommand(f) === undefined ? 'refuse' : 'install';
}

/** Why bubblewrap could not set up opam's sandbox, read from what it printed. */
export type ProbeCause = 'apparmor' | 'namespaces' | 'other';

/**
 * bubblewrap's messages when it may not create or use a user namespace: refused outright (a
 * kernel or container that forbids them), or created without the rights to set it up (Ubuntu's
 * AppArmor policy since 24.04, ocaml/opam#5968).
 */
const NAMESPACE_DENIED =
  /bwrap: (?:No permissions to creat(?:e|ing) new namespace|Creating new namespace failed|setting up uid map: Permission denied|loopback: Failed RTM_NEWADDR: Operation not permitted|Failed to make \/ slave: Permission denied|Can't mount proc on \/newroot\/proc: Operation not permitted)/;

/** `apparmorRestricts`: /proc/sys/kernel/apparmor_restrict_unprivileged_userns is 1. */
export function probeFailureCause(output: string, apparmorRestricts: boolean): ProbeCause {
  if (!NAMESPACE_DENIED.test(output)) return 'other';
  return apparmorRestricts ? 'apparmor' : 'namespaces';
}

export interface ProbeFacts {
  readonly ok: boolean;
  /** What the probe printed (both streams). */
  readonly output: string;
  readonly apparmorRestricts: boolean;
  readonly hosted: boolean;
  readonly privilege: Privilege;
  /** The action already installed its AppArmor profile in this run and probed again. */
  readonly profileInstalled: boolean;
}

export type ProbeDecision =
  | { readonly action: 'ok' }
  | { readonly action: 'install-apparmor-profile' }
  | { readonly action: 'fail'; readonly message: string };

const DISABLE = 'or set input `opam-disable-sandboxing: true` (opam then builds packages unsandboxed)';

export function decideProbe(f: ProbeFacts): ProbeDecision {
  if (f.ok) return { action: 'ok' };
  const cause = probeFailureCause(f.output, f.apparmorRestricts);
  const said = f.output.trim().split('\n').slice(-3).join(' / ') || '(nothing printed)';
  const head = `opam's build sandbox does not work on this runner: bubblewrap said \`${said}\``;
  if (cause === 'apparmor') {
    // The same right that installs packages: a hosted runner, as root or with sudo.
    if (!f.profileInstalled && aptCommand(f) !== undefined) return { action: 'install-apparmor-profile' };
    return {
      action: 'fail',
      message:
        `${head}. AppArmor forbids unprivileged user namespaces here (kernel.apparmor_restrict_unprivileged_userns=1, ` +
        'as on Ubuntu 24.04 and later)' +
        (f.profileInstalled ? ', and the AppArmor profile the action installed for bwrap did not lift that' : '') +
        '. Give bwrap an AppArmor profile that allows `userns`, ' +
        DISABLE,
    };
  }
  if (cause === 'namespaces') {
    return {
      action: 'fail',
      message:
        `${head}. The kernel or container does not let bubblewrap create namespaces (a \`container:\` job, ` +
        'or unprivileged user namespaces turned off). Run where it can, ' +
        `${DISABLE}: a container is then the isolation`,
    };
  }
  return { action: 'fail', message: `${head}. Fix bubblewrap on this runner, ${DISABLE}` };
}

/**
 * What opam's own check (`opam init`) runs through its bwrap wrapper: a shell that writes into its
 * folder, inside new namespaces with no network, and must print SUCCESS.
 */
export function probeArgs(dir: string): string[] {
  return [
    '--unshare-net',
    '--new-session',
    '--die-with-parent',
    '--ro-bind',
    '/',
    '/',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--bind',
    dir,
    dir,
    '--chdir',
    dir,
    'sh',
    '-c',
    'echo SUCCESS | tee check-write',
  ];
}

/** A profile that only names bwrap and lets it create user namespaces, otherwise unconfined. */
export function bwrapProfile(bwrap: string): string {
  return [
    '# Installed by the mirage-deploy action: lets bubblewrap, the sandbox opam builds packages in,',
    "# create user namespaces, which Ubuntu's AppArmor policy refuses to unprivileged programs.",
    'abi <abi/4.0>,',
    'include <tunables/global>',
    '',
    `profile mirage-deploy-bwrap ${bwrap} flags=(unconfined) {`,
    '  userns,',
    '}',
    '',
  ].join('\n');
}

export const PROFILE_PATH = '/etc/apparmor.d/mirage-deploy-bwrap';

async function probe(bwrap: string, runnerTemp: string): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(runnerTemp, 'opam-sandbox-check-'));
  try {
    core.info(`probing opam's sandbox: ${bwrap} … sh -c 'echo SUCCESS | tee check-write'`);
    const result = await runCommand(bwrap, probeArgs(dir), { silent: true });
    return { ok: result.exitCode === 0 && result.stdout.trim() === 'SUCCESS', output: result.stderr + result.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function apparmorRestricts(): boolean {
  try {
    return readFileSync('/proc/sys/kernel/apparmor_restrict_unprivileged_userns', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

export async function installProfile(privilege: Privilege, bwrap: string, runnerTemp: string): Promise<void> {
  const staged = join(runnerTemp, 'mirage-deploy-bwrap.apparmor');
  writeFileSync(staged, bwrapProfile(bwrap));
  const asRoot = (program: string, args: string[]) =>
    privilege === 'root' ? mustRun(program, args) : mustRun('sudo', [program, ...args]);
  try {
    await asRoot('install', ['-m', '644', staged, PROFILE_PATH]);
    await asRoot('apparmor_parser', ['-r', PROFILE_PATH]);
  } finally {
    rmSync(staged, { force: true });
  }
  core.info(`installed the AppArmor profile ${PROFILE_PATH} for ${bwrap}`);
}

/**
 * Makes opam's sandbox usable (bubblewrap installed, an AppArmor profile) or refuses, before the
 * cache is restored: each probe decides the next step, so this is its own read, decide, act loop.
 */
export async function prepareSandbox(setup: SetupConfig, ctx: RunContext): Promise<OpamSandbox> {
  const hosted = runsOnHostedRunner();
  const privilege = await currentPrivilege();
  const action = sandboxAction({
    runnerOs: ctx.runnerOs,
    disabled: setup.opamDisableSandboxing,
    hasBwrap: (await io.which('bwrap', false)) !== '',
    hosted,
    privilege,
  });
  if (action === 'refuse') {
    throw new Error(
      'opam sandboxes package builds with bubblewrap (`bwrap`), which is not installed on this runner' +
        (hosted ? ', and the action cannot install it here (not root, and no sudo)' : '') +
        '; install it (Debian/Ubuntu: `apt-get install bubblewrap`) or set input `opam-disable-sandboxing: true`',
    );
  }
  if (action === 'install') {
    const command = aptCommand({ hosted, privilege });
    if (command !== undefined) await aptInstall(command, ['bubblewrap']);
  }
  if (ctx.runnerOs !== 'Linux' || setup.opamDisableSandboxing) {
    core.info(
      setup.opamDisableSandboxing ? 'opam sandboxing: off (input `opam-disable-sandboxing`)' : 'opam sandboxing: on',
    );
    return setup.opamDisableSandboxing ? 'off' : 'on';
  }
  const bwrap = realpathSync(await io.which('bwrap', true));
  for (let profileInstalled = false; ; profileInstalled = true) {
    const decision = decideProbe({
      ...(await probe(bwrap, ctx.runnerTemp)),
      apparmorRestricts: apparmorRestricts(),
      hosted,
      privilege,
      profileInstalled,
    });
    if (decision.action === 'ok') break;
    if (decision.action === 'fail') throw new Error(decision.message);
    try {
      await installProfile(privilege, bwrap, ctx.runnerTemp);
    } catch (error) {
      throw new Error(
        `AppArmor refuses bubblewrap the user namespaces opam's sandbox needs, and installing a profile for ${bwrap} ` +
          `failed: ${error instanceof Error ? error.message : String(error)}; ${DISABLE}`,
      );
    }
  }
  core.info('opam sandboxing: on (bubblewrap works here)');
  return 'on';
}
