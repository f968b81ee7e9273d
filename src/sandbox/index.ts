/**
 * The one way build code runs: `BuildRunner.run`. Every command that runs what the build brings
 * (mirage, the Makefile, opam on the build-writable root, `build-command`) goes through it, in
 * bubblewrap when the job has it (src/sandbox/plan.ts says what the sandbox is and when it is
 * required), with an allow-listed environment, and with its output fenced by `::stop-commands::`.
 */
import { markerVariable } from '../isolation.js';
import * as core from '@actions/core';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { aptCommand, aptInstall, currentPrivilege, runsOnHostedRunner } from '../apt.js';
import type { Config } from '../config.js';
import type { RunContext } from '../context.js';
import { CommandError, findProgram, runCommand, type CommandResult } from '../exec.js';
import { apparmorRestricts, decideProbe, installProfile } from '../opam/sandbox.js';
import { summaryRow } from '../summary.js';
import {
  bwrapArgs,
  decideSandbox,
  localFolder,
  sandboxEnv,
  type CommandIsolation,
  type MountFacts,
  type SandboxDecision,
} from './plan.js';
import { toolPath } from './tools.js';

export interface BuildCommand {
  /** A name, looked up on `env.PATH`, or an absolute path. */
  readonly program: string;
  readonly args: readonly string[];
}

export interface BuildRunOptions {
  readonly cwd: string;
  /** The command's own variables (opam's, the switch's, dune's, PATH): added to the allow-listed job variables. */
  readonly env: Readonly<Record<string, string>>;
  readonly silent?: boolean;
  readonly mapLogLine?: (line: string) => string;
  /** Killed with all it started after this long (the result has `timedOut`). */
  readonly deadlineMs?: number;
  /** No network but loopback, extra devices: for this command only (a sandboxed runner's). */
  readonly isolation?: CommandIsolation;
}

export class BuildRunner {
  /** Folders bound read-only once known (opam's binary, downloaded after the runner is made). */
  private readonly alsoReadOnly: string[] = [];

  constructor(
    readonly kind: 'bubblewrap' | 'none',
    /** Where the build may write besides the workspace, the opam root and dune's cache. */
    readonly scratch: string,
    private readonly mounts: MountFacts,
    private readonly bwrap?: string,
  ) {}

  /** Makes `dir` visible, read-only, to later commands (a fresh /tmp or hidden HOME may hold it). */
  bindReadOnly(dir: string): void {
    // bubblewrap makes a mount point along the path it is given: a link in it (a symlinked
    // checkout, a tender under a linked folder) must be resolved, or every later command fails.
    const real = realpathSync(dir);
    if (!this.alsoReadOnly.includes(real)) this.alsoReadOnly.push(real);
  }

  /** Runs one build command and returns its result whatever the exit code. */
  async run(command: BuildCommand, options: BuildRunOptions): Promise<CommandResult> {
    // Unsandboxed, what the build leaves running is found by this marker (isolation.ts sweepLeftovers).
    const marker = this.bwrap === undefined ? markerVariable() : {};
    const env = { ...sandboxEnv(process.env, options.env, this.mounts.sshAuthSock), ...marker };
    const program = findProgram(command.program, env);
    if (program === undefined) throw new Error(`\`${command.program}\` is not on the build's PATH (${env.PATH ?? ''})`);
    const [file, args] =
      this.bwrap === undefined
        ? [program, command.args]
        : [this.bwrap, [...bwrapArgs(this.allMounts(), options.cwd, options.isolation), program, ...command.args]];
    // Workflow commands the build prints (`::set-output::`, `::add-mask::`) are shown, not obeyed.
    const token = randomBytes(16).toString('hex');
    if (!options.silent) process.stdout.write(`::stop-commands::${token}\n`);
    // The log names the command, not bubblewrap's arguments around it (those are in the debug log).
    const echoed = `[command]${file} `;
    const shown = `[command]${[program, ...command.args].join(' ')}`;
    const map = options.mapLogLine ?? ((line: string) => line);
    core.debug(`build runner: ${[file, ...args].join(' ')}`);
    // A command with a deadline is not echoed by the runner's exec: it is named here.
    if (options.deadlineMs !== undefined && !options.silent) process.stdout.write(`${shown}\n`);
    try {
      return await runCommand(file, args, {
        cwd: options.cwd,
        env,
        silent: options.silent ?? false,
        logStream: process.stdout,
        mapLogLine: (line) => (line.startsWith(echoed) ? shown : map(line)),
        ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
      });
    } finally {
      if (!options.silent) process.stdout.write(`::${token}::\n`);
    }
  }

  private allMounts(): MountFacts {
    return { ...this.mounts, readOnly: [...this.mounts.readOnly, ...this.alsoReadOnly] };
  }

  /** run, and a non-zero exit throws a CommandError with `hint`. */
  async mustRun(command: BuildCommand, options: BuildRunOptions, hint?: string): Promise<CommandResult> {
    const result = await this.run(command, options);
    if (result.exitCode !== 0) throw new CommandError([command.program, ...command.args].join(' '), result, hint);
    return result;
  }
}

/** Where the sandbox's folders are for this job. */
function mountFacts(config: Config, ctx: RunContext, paths: { opamRoot: string; duneCacheRoot: string }): MountFacts {
  const scratch = mkdtempSync(join(ctx.runnerTemp, 'mirage-deploy-build-'));
  // Bound read-write, so they must exist before the first command (opam init fills an empty root).
  for (const dir of [paths.opamRoot, paths.duneCacheRoot]) mkdirSync(dir, { recursive: true });
  const fileCommands = ['GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY']
    .map((name) => process.env[name] ?? '')
    .filter((file) => file !== '' && existsSync(file));
  const sock = process.env.SSH_AUTH_SOCK;
  if (config.sandbox.sshAgent && !sock) {
    throw new Error('input `build-ssh-agent`: SSH_AUTH_SOCK is not set; start an agent (ssh-agent) before this step');
  }
  return {
    workspace: ctx.workspace,
    ...paths,
    scratch,
    home: process.env.HOME || '/root',
    runnerTemp: ctx.runnerTemp,
    toolCache: process.env.RUNNER_TOOL_CACHE || '/opt/hostedtoolcache',
    fileCommands,
    readOnly: localFolders(config),
    varRunIsFolder: lstatSync('/var/run', { throwIfNoEntry: false })?.isDirectory() ?? false,
    ...(config.sandbox.sshAgent && sock ? { sshAuthSock: sock } : {}),
  };
}

/** The local folders the inputs name: `file://` opam repositories and pins, and in `configure-args` (`--extra-repos`). */
function localFolders(config: Config): string[] {
  const urls = [
    ...[...config.setup.opamRepositories, ...config.setup.opamPins].flatMap((r) => r.url ?? []),
    ...config.build.configureArgs.flatMap((arg) => arg.match(/file:\/\/\/[^\s,]*/g) ?? []),
  ];
  return urls.flatMap((url) => localFolder(url) ?? []).filter((dir) => existsSync(dir));
}

async function installBubblewrap(): Promise<void> {
  const command = aptCommand({ hosted: runsOnHostedRunner(), privilege: await currentPrivilege() });
  if (command !== undefined) await aptInstall(command, ['bubblewrap']);
}

async function tryOnce(bwrap: string, mounts: MountFacts): Promise<{ ok: boolean; output: string }> {
  const result = await runCommand(bwrap, [...bwrapArgs(mounts, mounts.scratch), 'sh', '-c', 'echo SUCCESS'], {
    env: { PATH: process.env.PATH ?? '' },
    silent: true,
  });
  return { ok: result.exitCode === 0 && result.stdout.trim() === 'SUCCESS', output: result.stderr + result.stdout };
}

/** Whether bubblewrap makes this very sandbox here; on a hosted Ubuntu 24.04 with AppArmor's profile installed first. */
async function probe(
  ctx: RunContext,
  mounts: MountFacts,
): Promise<{ ok: true; bwrap: string } | { ok: false; reason: string }> {
  if (ctx.runnerOs !== 'Linux') return { ok: false, reason: `this runner is ${ctx.runnerOs}` };
  if (toolPath('bwrap') === undefined) await installBubblewrap();
  const bwrap = toolPath('bwrap') ?? findProgram('bwrap', { PATH: process.env.PATH ?? '' });
  if (bwrap === undefined) return { ok: false, reason: 'bubblewrap (`bwrap`) is not installed' };
  const hosted = runsOnHostedRunner();
  const privilege = await currentPrivilege();
  for (let profileInstalled = false; ; profileInstalled = true) {
    const tried = await tryOnce(bwrap, mounts);
    if (tried.ok) return { ok: true, bwrap };
    const facts = { ...tried, apparmorRestricts: apparmorRestricts(), hosted, privilege, profileInstalled };
    if (decideProbe(facts).action !== 'install-apparmor-profile') {
      const said = tried.output.trim().split('\n').slice(-2).join(' / ') || '(nothing printed)';
      return { ok: false, reason: `bubblewrap cannot make the sandbox here: it said \`${said}\`` };
    }
    await installProfile(privilege, bwrap, ctx.runnerTemp);
  }
}

function report(decision: SandboxDecision): void {
  core.setOutput('sandbox', decision.use);
  if (decision.why === 'not-building') return;
  if (decision.use === 'bubblewrap') {
    core.info(
      `build sandbox: bubblewrap (${decision.why === 'required' ? 'required: this job holds a secret' : 'on'})`,
    );
    summaryRow('sandbox', 'bubblewrap');
  } else if (decision.why === 'opted-out') {
    core.warning(decision.message, { title: 'Unsandboxed build holding secrets' });
    summaryRow('sandbox', `none, holding secrets (allow-unsandboxed-build): ${decision.message}`);
  } else if (decision.why === 'unavailable') {
    core.notice(decision.message, { title: 'Unsandboxed build' });
    summaryRow('sandbox', `none: ${decision.message}`);
  }
}

/**
 * A sandbox for the boot test of a job that builds nothing (`image-path`): the build's, with its
 * writable folders in a fresh folder of RUNNER_TEMP; undefined where bubblewrap cannot make it.
 */
export async function prepareTestRunner(config: Config, ctx: RunContext): Promise<BuildRunner | undefined> {
  const base = mkdtempSync(join(ctx.runnerTemp, 'mirage-deploy-boot-'));
  const mounts = mountFacts(config, ctx, { opamRoot: join(base, 'opam'), duneCacheRoot: join(base, 'dune') });
  const probed = await probe(ctx, mounts);
  return probed.ok ? new BuildRunner('bubblewrap', mounts.scratch, mounts, probed.bwrap) : undefined;
}

/**
 * Decides, before anything is built, where the build runs, and refuses a job that holds a secret
 * where no sandbox can be made. Returns undefined for a job that builds nothing.
 */
export async function prepareBuildRunner(
  config: Config,
  ctx: RunContext,
  paths: { opamRoot: string; duneCacheRoot: string },
  builds: boolean,
): Promise<BuildRunner | undefined> {
  const mounts = builds ? mountFacts(config, ctx, paths) : undefined;
  const probed = mounts === undefined ? undefined : await probe(ctx, mounts);
  const decision = decideSandbox({
    runnerOs: ctx.runnerOs,
    builds,
    secretsHeld: config.sandbox.secretsHeld,
    allowUnsandboxed: config.sandbox.allowUnsandboxed,
    probe: probed?.ok === false ? probed : { ok: true },
  });
  report(decision);
  if (decision.why === 'refused') throw new Error(decision.message);
  if (mounts === undefined) return undefined;
  const bwrap = decision.use === 'bubblewrap' && probed?.ok ? probed.bwrap : undefined;
  return new BuildRunner(decision.use, mounts.scratch, mounts, bwrap);
}
