import * as core from '@actions/core';
import * as io from '@actions/io';
import type { SetupConfig } from '../config.js';
import type { RunContext } from '../context.js';
import { mustRun } from '../exec.js';

export type SandboxAction = 'none' | 'install-with-sudo' | 'install' | 'refuse';

export interface SandboxFacts {
  readonly runnerOs: string;
  readonly disabled: boolean;
  readonly hasBwrap: boolean;
  /** RUNNER_ENVIRONMENT=github-hosted: a disposable machine the action may install packages on. */
  readonly hosted: boolean;
  readonly isRoot: boolean;
}

/**
 * opam sandboxes builds with bubblewrap on Linux (macOS has sandbox-exec built in). On a hosted
 * runner the action installs it; on anyone else's machine it does not install system packages
 * and says what to do instead.
 */
export function sandboxAction(f: SandboxFacts): SandboxAction {
  if (f.runnerOs !== 'Linux' || f.disabled || f.hasBwrap) return 'none';
  if (!f.hosted) return 'refuse';
  return f.isRoot ? 'install' : 'install-with-sudo';
}

export async function prepareSandbox(setup: SetupConfig, ctx: RunContext): Promise<void> {
  const action = sandboxAction({
    runnerOs: ctx.runnerOs,
    disabled: setup.opamDisableSandboxing,
    hasBwrap: (await io.which('bwrap', false)) !== '',
    hosted: process.env.RUNNER_ENVIRONMENT === 'github-hosted',
    isRoot: process.getuid?.() === 0,
  });
  switch (action) {
    case 'none':
      core.info(
        setup.opamDisableSandboxing ? 'opam sandboxing: off (input `opam-disable-sandboxing`)' : 'opam sandboxing: on',
      );
      return;
    case 'refuse':
      throw new Error(
        'opam sandboxes package builds with bubblewrap (`bwrap`), which is not installed on this runner; ' +
          'install it (Debian/Ubuntu: `apt-get install bubblewrap`) or set input `opam-disable-sandboxing: true`',
      );
    case 'install':
    case 'install-with-sudo': {
      const [program, prefix] = action === 'install' ? ['apt-get', []] : ['sudo', ['apt-get']];
      await mustRun(program, [...prefix, 'update', '-qq']);
      await mustRun(program, [...prefix, 'install', '-y', '-qq', '--no-install-recommends', 'bubblewrap']);
    }
  }
}
