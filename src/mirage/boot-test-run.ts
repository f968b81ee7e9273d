/**
 * The boot test's effects: what the runner has (the tender, KVM, QEMU, the image's Solo5
 * manifest), the image run through the build runner with no network but loopback until
 * `boot-test-timeout`, and the verdict reported. The decisions are in ./boot-test.ts.
 */
import * as core from '@actions/core';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Config } from '../config.js';
import { findProgram } from '../exec.js';
import { fileDigest } from '../hash.js';
import type { RunContext } from '../context.js';
import { timedGroup } from '../log.js';
import { prepareTestRunner, type BuildRunner } from '../sandbox/index.js';
import { summaryRow } from '../summary.js';
import {
  consoleEnds,
  devicesPlan,
  judgeBoot,
  manifestDevices,
  planBootTest,
  planDeployOnly,
  noSandbox,
  type BootRun,
  type BootTestFacts,
  type BootTestStatus,
} from './boot-test.js';

/** The image as the build found it. */
export interface TestedImage {
  readonly path: string;
  readonly sha256: string;
}

const MANIFEST_DEADLINE_MS = 30_000;

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function readFacts(config: Config, image: TestedImage, sandboxed: boolean, path: string): BootTestFacts {
  const { target } = config.build;
  const env = { PATH: path };
  const tender =
    target === 'spt' || target === 'hvt' ? (config.bootTest.tender ?? findProgram(`solo5-${target}`, env)) : undefined;
  const qemu = process.arch === 'x64' ? findProgram('qemu-system-x86_64', env) : undefined;
  return {
    target,
    image: image.path,
    sandboxed,
    kvmUsable: kvmUsable(),
    ...(tender === undefined ? {} : { tender }),
    ...(qemu === undefined ? {} : { qemu }),
  };
}

/** `solo5-elftool query-manifest`, from beside the tender or the PATH, in the sandbox: the devices the image declares. */
async function declaredDevices(runner: BuildRunner, image: string, tender: string | undefined, path: string) {
  const beside = tender === undefined ? undefined : join(dirname(tender), 'solo5-elftool');
  const elftool = beside !== undefined && existsSync(beside) ? beside : findProgram('solo5-elftool', { PATH: path });
  if (elftool === undefined) return undefined;
  const result = await runner.run(
    { program: elftool, args: ['query-manifest', image] },
    { cwd: dirname(image), env: { PATH: path }, silent: true, deadlineMs: MANIFEST_DEADLINE_MS },
  );
  return result.exitCode === 0 ? manifestDevices(result.stdout) : undefined;
}

function report(status: BootTestStatus, text: string): void {
  core.setOutput('boot-test', status);
  summaryRow('boot test', `${status}: ${text}`);
}

/** A boot test that cannot run: a notice when skipped, the step's failure under `required`. */
function notRun(status: 'skipped' | 'failed', why: string): BootTestStatus {
  report(status, why);
  if (status === 'failed') throw new Error(`boot test: ${why}`);
  core.notice(`boot test skipped: ${why}`, { title: 'Boot test skipped' });
  return status;
}

/** The boot test of a deploy-only job (`image-path`), in a sandbox of its own (planDeployOnly). */
export async function bootTestDeployOnly(config: Config, ctx: RunContext, image: TestedImage): Promise<BootTestStatus> {
  if (config.bootTest.mode === 'off') {
    core.setOutput('boot-test', 'skipped');
    return 'skipped';
  }
  const early = planDeployOnly(config.bootTest, config.build.target);
  if (early !== undefined) return notRun(early.status, early.why);
  const runner = await prepareTestRunner(config, ctx);
  if (runner === undefined) {
    const none = noSandbox(config.bootTest.mode);
    return notRun(none.status, none.why);
  }
  return await timedGroup(`boot test: ${image.path}`, () => bootTest(config, runner, image, process.env.PATH ?? ''));
}

/**
 * Runs the image until it ends or the timeout, in a scratch folder of its own, the only place it may
 * write (the image and its side files, checked before, stay as they are), with no network but loopback.
 */
async function boot(config: Config, runner: BuildRunner, plan: BootRun, path: string) {
  const cwd = await mkdtemp(join(runner.scratch, 'boot-test-'));
  try {
    const result = await runner.run(
      { program: plan.program, args: plan.args },
      {
        cwd,
        env: { PATH: path },
        deadlineMs: config.bootTest.timeoutSeconds * 1000,
        isolation: { loopbackOnly: true, devices: plan.devices, scratchOnly: true },
      },
    );
    return { exitCode: result.exitCode, output: result.stdout + result.stderr, timedOut: result.timedOut ?? false };
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

/**
 * The boot test of a built image (input `boot-test`): passed, skipped, or a thrown error that
 * fails the step before anything is deployed. `path` is the build's PATH (the switch's tools).
 */
export async function bootTest(
  config: Config,
  runner: BuildRunner,
  image: TestedImage,
  path: string,
): Promise<BootTestStatus> {
  const facts = readFacts(config, image, runner.kind === 'bubblewrap', path);
  const plan = planBootTest(config.bootTest, facts);
  if (!plan.run) return notRun(plan.status, plan.why);
  // The tender may sit in a folder the sandbox hides (HOME, RUNNER_TEMP).
  if (config.bootTest.tender !== undefined) runner.bindReadOnly(dirname(config.bootTest.tender));
  if (plan.solo5) {
    const devices = devicesPlan(config.bootTest.mode, await declaredDevices(runner, image.path, facts.tender, path));
    if (devices !== undefined) return notRun(devices.status, devices.why);
  }
  core.info(`boot test: ${basename(image.path)} ${plan.how}, for up to ${config.bootTest.timeoutSeconds} s`);
  const outcome = await boot(config, runner, plan, path);
  const verdict = judgeBoot(outcome, config.bootTest.timeoutSeconds, config.bootTest.expect);
  if ((await fileDigest(image.path)) !== image.sha256) {
    throw new Error(`boot test: ${image.path} changed while it ran; not deploying it`);
  }
  if (verdict.status === 'passed') {
    report('passed', verdict.why);
    core.info(`boot test passed: ${verdict.why}`);
    return 'passed';
  }
  const ends = consoleEnds(outcome.output);
  const shown = [...ends.first, ...(ends.last.length ? ['…', ...ends.last] : [])];
  const printed = shown.length ? shown.join('\n') : '(nothing printed)';
  report('failed', `${verdict.why}; console: ${shown.join(' / ') || '(nothing printed)'}`);
  throw new Error(
    `boot test: ${basename(image.path)} failed to boot: ${verdict.why} (fix the unikernel, or set input ` +
      `\`boot-test: off\` to deploy it untested). Its console, first and last lines:\n${printed}`,
  );
}
