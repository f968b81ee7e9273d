/**
 * Pure decisions of the boot test (input `boot-test`): whether and how the built image runs before
 * it is deployed, and what its exit and console say. No process, no file.
 */
import type { Target } from './targets.js';

export const BOOT_TEST_MODES = ['auto', 'off', 'required'] as const;
export type BootTestMode = (typeof BOOT_TEST_MODES)[number];
export type BootTestStatus = 'passed' | 'failed' | 'skipped';

/** The `boot-test*` inputs, parsed in src/config.ts. */
export interface BootTestConfig {
  readonly mode: BootTestMode;
  /** `boot-test-args`, by default `boot-args`. */
  readonly args: readonly string[];
  readonly timeoutSeconds: number;
  /** `boot-test-expect`: a regular expression (checked by the config) whose match in the console passes. */
  readonly expect?: string;
  /** `boot-test-tender`: an absolute path to solo5-spt or solo5-hvt. */
  readonly tender?: string;
}

export const BOOT_TEST_TIMEOUT_SECONDS = 10;

/** What the job found before the boot test, read by the step. */
export interface BootTestFacts {
  readonly target: Target;
  /** The image, absolute. */
  readonly image: string;
  /** The runner is bubblewrap: the image can run without network and be killed with all it started. */
  readonly sandboxed: boolean;
  /** The tender for spt or hvt: `boot-test-tender`, else `solo5-<target>` on the build's PATH. */
  readonly tender?: string;
  /** `/dev/kvm` exists and this process may read and write it. */
  readonly kvmUsable: boolean;
  /** `qemu-system-x86_64` on the build's PATH, for virtio on x86_64. */
  readonly qemu?: string;
}

/** How the image runs: the command, and whether the Solo5 manifest must be read first. */
export interface BootRun {
  readonly run: true;
  readonly program: string;
  readonly args: readonly string[];
  /** Devices the sandbox must bind (`/dev/kvm` for hvt). */
  readonly devices: readonly string[];
  /** A Solo5 image: its declared devices decide whether it can run here. */
  readonly solo5: boolean;
  /** For the log: how it runs. */
  readonly how: string;
}

export type BootNotRun = { readonly run: false; readonly status: 'skipped' | 'failed'; readonly why: string };
export type BootTestPlan = BootRun | BootNotRun;

/** Why the image cannot run here, or how it runs. */
function howToRun(
  c: BootTestConfig,
  f: BootTestFacts,
): { why: string } | (Omit<BootRun, 'run' | 'program' | 'args'> & { command: string[] }) {
  if (!f.sandboxed) return { why: NO_SANDBOX };
  const args = [...c.args];
  const tender = (name: string) =>
    f.tender === undefined ? `\`${name}\` is not on the build's PATH and input \`boot-test-tender\` is not set` : '';
  switch (f.target) {
    case 'unix':
      return { command: [f.image, ...args], devices: [], solo5: false, how: 'directly' };
    case 'spt':
      if (f.tender === undefined) return { why: tender('solo5-spt') };
      return { command: [f.tender, f.image, ...args], devices: [], solo5: true, how: `under ${f.tender}` };
    case 'hvt':
      if (f.tender === undefined) return { why: tender('solo5-hvt') };
      if (!f.kvmUsable) return { why: 'hvt needs KVM, and /dev/kvm is missing or not readable and writable here' };
      return { command: [f.tender, f.image, ...args], devices: ['/dev/kvm'], solo5: true, how: `under ${f.tender}` };
    case 'virtio':
      if (f.qemu === undefined) return { why: 'virtio runs under QEMU, and `qemu-system-x86_64` is not on the PATH' };
      return {
        command: [f.qemu, '-nographic', '-no-reboot', '-m', '512', '-kernel', f.image, '-append', args.join(' ')],
        devices: f.kvmUsable ? ['/dev/kvm'] : [],
        solo5: true,
        how: 'under QEMU',
      };
    default:
      return { why: `target \`${f.target}\` cannot run on a Linux runner (it needs its own hypervisor)` };
  }
}

/**
 * Whether and how the image boots here. Off: skipped. An image that cannot run here is skipped
 * under `auto` and fails under `required`. The command merges the console's two streams in order
 * (a shell from the read-only system, `exec`ing the image) so its first and last lines are true.
 */
export function planBootTest(c: BootTestConfig, f: BootTestFacts): BootTestPlan {
  if (c.mode === 'off') return { run: false, status: 'skipped', why: 'input `boot-test` is off' };
  const how = howToRun(c, f);
  if ('why' in how) return cannotRun(c.mode, how.why);
  const { command, ...rest } = how;
  return { run: true, program: '/bin/sh', args: ['-c', 'exec "$0" "$@" 2>&1', ...command], ...rest };
}

/**
 * A deploy-only job (`image-path`), off by default, has no switch to find a tender in: spt and hvt
 * need `boot-test-tender`. Undefined: it makes a sandbox for the boot test (else `noSandbox`) and
 * runs it (planBootTest).
 */
export function planDeployOnly(c: BootTestConfig, target: Target): BootNotRun | undefined {
  if (c.mode === 'off')
    return { run: false, status: 'skipped', why: 'input `boot-test` is off (the default with `image-path`)' };
  if ((target === 'spt' || target === 'hvt') && c.tender === undefined) {
    return cannotRun(c.mode, `a deploy-only job (\`image-path\`) runs ${target} only under input \`boot-test-tender\``);
  }
  return undefined;
}

const NO_SANDBOX = 'there is no sandbox (bubblewrap) to run the image in without network';

export function noSandbox(mode: BootTestMode): BootNotRun {
  return cannotRun(mode, NO_SANDBOX);
}

function cannotRun(mode: BootTestMode, why: string): BootNotRun {
  return mode === 'required'
    ? { run: false, status: 'failed', why: `input \`boot-test\` is required, but ${why}` }
    : { run: false, status: 'skipped', why };
}

/** The devices a Solo5 manifest (`solo5-elftool query-manifest`) declares, as `name (TYPE)`; undefined if unreadable. */
export function manifestDevices(json: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { type, devices } = parsed as { type?: unknown; devices?: unknown };
    if (type !== 'solo5.manifest' || !Array.isArray(devices)) return undefined;
    return devices.map((d: { name?: unknown; type?: unknown }) => `${String(d.name)} (${String(d.type)})`);
  } catch {
    return undefined;
  }
}

/**
 * A Solo5 image runs only when the sandbox can give it every device it declares: it has no network
 * and no disk to give, so any declared device (or an unreadable manifest) means it cannot run here.
 */
export function devicesPlan(mode: BootTestMode, devices: readonly string[] | undefined): BootNotRun | undefined {
  if (devices === undefined) return cannotRun(mode, "the image's Solo5 device manifest could not be read");
  if (devices.length === 0) return undefined;
  return cannotRun(
    mode,
    `the image declares devices the boot test cannot set up (no network but loopback, no disk): ${devices.join(', ')}`,
  );
}

/** How the image's run ended. */
export interface BootOutcome {
  readonly exitCode: number;
  /** stdout and stderr, merged in order. */
  readonly output: string;
  /** Still running at `boot-test-timeout`, then killed. */
  readonly timedOut: boolean;
}

export interface BootVerdict {
  readonly status: 'passed' | 'failed';
  readonly why: string;
}

const FATAL = [
  { pattern: /^Fatal error: exception .*/m, what: 'an OCaml fatal error' },
  { pattern: /^Solo5: (?:solo5_abort\(\) called|ABORT|PANIC).*/m, what: 'a Solo5 abort' },
];

/**
 * A crash fails whatever else happened (an OCaml fatal error, a Solo5 abort); then the expected
 * text passes, even if the image then exits non-zero (for lack of a network, say); then running
 * until the timeout or exiting 0 passes, and any other exit fails.
 */
export function judgeBoot(outcome: BootOutcome, timeoutSeconds: number, expect?: string): BootVerdict {
  for (const { pattern, what } of FATAL) {
    const found = pattern.exec(outcome.output);
    if (found) return { status: 'failed', why: `${what}: ${found[0].trim()}` };
  }
  if (expect !== undefined) {
    const found = new RegExp(expect, 'm').exec(outcome.output);
    if (found) return { status: 'passed', why: `it printed \`${found[0]}\` (input \`boot-test-expect\`)` };
  }
  if (outcome.timedOut) return { status: 'passed', why: `still running after ${timeoutSeconds} s, then stopped` };
  if (outcome.exitCode === 0) return { status: 'passed', why: 'it exited 0' };
  return { status: 'failed', why: `it exited with code ${outcome.exitCode}` };
}

/** The console's first and last lines, for the log and the summary of a failed boot. */
export function consoleEnds(output: string, first = 3, last = 5): { first: string[]; last: string[] } {
  const lines = output
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');
  if (lines.length <= first + last) return { first: lines, last: [] };
  return { first: lines.slice(0, first), last: lines.slice(-last) };
}
