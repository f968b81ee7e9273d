/**
 * The albatross deploy (`deploy-to: albatross`): `create --force` on each endpoint in turn, then
 * after `albatross-boot-wait` seconds `info` must still list the unikernel. When an endpoint fails,
 * every endpoint already changed gets the previous image back (the one `<directory>/latest` named),
 * and the step fails with the failed unikernel's console lines.
 */
import * as core from '@actions/core';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AlbatrossConfig } from '../config.js';
import type { RunContext } from '../context.js';
import { seconds, ALBATROSS_COMMAND_DEADLINE_MS } from '../deadlines.js';
import { timedGroup } from '../log.js';
import { summaryRow } from '../summary.js';
import { openClient, probeEndpoint, type AlbatrossClient } from './client.js';
import {
  createArgs,
  endpointsToRestore,
  explainExit,
  infoArgs,
  isListed,
  runningOutput,
  type CreateRequest,
  type EndpointResult,
} from './plan.js';
import type { AlbatrossCleared } from './preflight.js';
import type { StoredImage } from './previous.js';

interface Step {
  readonly result: EndpointResult;
  /** Why the endpoint failed, with the console's lines. */
  readonly failure?: string;
}

function commandFailure(endpoint: string, what: string, exitCode: number, timedOut?: boolean): string {
  return timedOut
    ? `albatross-client ${what} on ${endpoint} did not finish in ${seconds(ALBATROSS_COMMAND_DEADLINE_MS)} s`
    : explainExit(exitCode, endpoint);
}

/** One endpoint: the TLS probe, `create --force`, the boot wait, `info`. */
async function deployEndpoint(
  client: AlbatrossClient,
  config: AlbatrossConfig,
  endpoint: string,
  request: CreateRequest,
): Promise<Step> {
  try {
    await probeEndpoint(endpoint, config.serverCa);
  } catch (error) {
    // Unreachable, or not the server `albatross-server-ca` pins: nothing changed there, the others are restored.
    return { result: { endpoint, changed: false, running: false }, failure: (error as Error).message };
  }
  const created = await client.run(endpoint, createArgs(config, request));
  if (created.exitCode !== 0) {
    const failure = commandFailure(endpoint, 'create', created.exitCode, created.timedOut);
    return { result: { endpoint, changed: false, running: false }, failure };
  }
  await sleep(config.bootWaitSeconds * 1000);
  const info = await client.run(endpoint, infoArgs(request.name));
  if (info.exitCode === 0 && isListed(info.stdout, request.name)) {
    core.info(`albatross: ${request.name} runs on ${endpoint} after ${config.bootWaitSeconds} s`);
    return { result: { endpoint, changed: true, running: true } };
  }
  const lines = await client.console(endpoint, request.name);
  const why =
    info.exitCode === 0
      ? `${request.name} is no longer running on ${endpoint} ${config.bootWaitSeconds} s after it was created`
      : commandFailure(endpoint, 'info', info.exitCode, info.timedOut);
  return {
    result: { endpoint, changed: true, running: false },
    failure: `${why}; its console:\n${lines.length ? lines.join('\n') : '(empty)'}`,
  };
}

/** The previous image back on every endpoint changed; returns those that took it. */
async function restore(
  client: AlbatrossClient,
  config: AlbatrossConfig,
  endpoints: readonly string[],
  previous: StoredImage | undefined,
  name: string,
): Promise<Set<string>> {
  const restored = new Set<string>();
  if (endpoints.length === 0) return restored;
  if (previous === undefined) {
    core.warning(
      `albatross: no previous image to give back to ${endpoints.join(', ')} (\`latest\` names none the deployment repository could give)`,
    );
    return restored;
  }
  for (const endpoint of endpoints) {
    const request = { name, image: previous.path, bootArgs: previous.bootArgs };
    const created = await client.run(endpoint, createArgs(config, request));
    if (created.exitCode === 0) restored.add(endpoint);
    else
      core.warning(`albatross: ${endpoint} could not be given back ${previous.sha}'s image (exit ${created.exitCode})`);
  }
  core.info(`albatross: ${[...restored].join(', ') || 'no endpoint'} runs ${previous.sha}'s image again`);
  return restored;
}

function report(steps: readonly Step[], restored: ReadonlySet<string>): void {
  const running = runningOutput(
    steps.map((s) => s.result),
    restored,
  );
  core.setOutput('albatross-running', JSON.stringify(running));
  summaryRow(
    'albatross',
    Object.entries(running)
      .map(([e, s]) => `${e}: ${s}`)
      .join(', ') || 'nothing deployed',
  );
}

/**
 * Deploys `request` to every endpoint in order; `previous` is asked for only when one fails.
 * Throws when one failed, after the others were given the previous image back.
 */
export async function deployToAlbatross(
  config: AlbatrossConfig,
  ctx: RunContext,
  cleared: AlbatrossCleared,
  request: CreateRequest,
  previous: () => Promise<StoredImage | undefined>,
): Promise<void> {
  const client = await openClient(cleared, ctx);
  const steps: Step[] = [];
  try {
    await timedGroup(`Albatross: ${request.name} on ${config.endpoints.join(', ')}`, async () => {
      for (const endpoint of config.endpoints) {
        const step = await deployEndpoint(client, config, endpoint, request);
        steps.push(step);
        if (step.failure !== undefined) break;
      }
    });
    const failed = steps.find((s) => s.failure !== undefined);
    if (failed === undefined) return report(steps, new Set());
    const toRestore = endpointsToRestore(steps.map((s) => s.result));
    const restored = await timedGroup(
      `Albatross: the previous image back on ${toRestore.join(', ') || 'no endpoint'}`,
      async () => restore(client, config, toRestore, toRestore.length ? await previous() : undefined, request.name),
    );
    report(steps, restored);
    throw new Error(`albatross: ${failed.failure ?? ''}`);
  } finally {
    await client.close();
  }
}

/** `dry-run`: each endpoint's certificate and `info`, which change nothing; no `create`. */
export async function checkAlbatross(
  config: AlbatrossConfig,
  ctx: RunContext,
  cleared: AlbatrossCleared,
  request: CreateRequest,
): Promise<void> {
  const client = await openClient(cleared, ctx);
  try {
    for (const endpoint of config.endpoints) {
      await probeEndpoint(endpoint, config.serverCa);
      const info = await client.run(endpoint, infoArgs(request.name));
      if (info.exitCode !== 0) {
        throw new Error(`albatross: ${commandFailure(endpoint, 'info', info.exitCode, info.timedOut)}`);
      }
      const command = createArgs(config, request).join(' ');
      core.info(`albatross (dry run): would run \`albatross-client ${command}\` on ${endpoint}; created nothing`);
    }
  } finally {
    await client.close();
  }
  summaryRow('albatross', 'dry run: nothing created');
}
