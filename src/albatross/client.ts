/**
 * albatross-client against one endpoint: the CA's files in a fresh credentials folder, the
 * endpoint's certificate checked against `albatross-server-ca` first, every call under a deadline.
 */
import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { dirname, join, resolve } from 'node:path';
import type { RunContext } from '../context.js';
import {
  ALBATROSS_COMMAND_DEADLINE_MS,
  ALBATROSS_CONSOLE_MS,
  ALBATROSS_PROBE_DEADLINE_MS,
  deadline,
  seconds,
} from '../deadlines.js';
import { CREDENTIAL_FOLDERS, refuse } from '../deploy/credentials/plan.js';
import { runCommand, type CommandResult } from '../exec.js';
import { appendJsonState } from '../state.js';
import type { AlbatrossCleared } from './preflight.js';
import { consoleArgs, consoleLines, remoteArgs, type ClientFiles } from './plan.js';

/** The client and the files it reads; `close` removes them (the post step does too). */
export interface AlbatrossClient {
  run(endpoint: string, args: readonly string[], deadlineMs?: number): Promise<CommandResult>;
  console(endpoint: string, name: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The key written 0600 in a fresh 0700 folder of RUNNER_TEMP, listed for the post step before it
 * exists: after the build, so that nothing the build ran could have read it.
 */
async function writeClientFiles(
  cleared: AlbatrossCleared,
  ctx: RunContext,
): Promise<{ dir: string; files: ClientFiles }> {
  const dir = join(resolve(ctx.runnerTemp), `${CREDENTIAL_FOLDERS.prefix}${randomUUID()}`);
  appendJsonState(CREDENTIAL_FOLDERS.state, dir);
  await mkdir(dirname(dir), { recursive: true });
  await mkdir(dir, { mode: 0o700 });
  const files = { caKey: join(dir, 'ca.key'), caCert: join(dir, 'ca.pem'), serverCa: join(dir, 'server-ca.pem') };
  await writeFile(files.caKey, cleared.caKey, { mode: 0o600, flag: 'wx' });
  await writeFile(files.caCert, cleared.caCert, { mode: 0o600, flag: 'wx' });
  await writeFile(files.serverCa, cleared.serverCa, { mode: 0o600, flag: 'wx' });
  return { dir, files };
}

function splitHostPort(endpoint: string): { host: string; port: number } {
  const colon = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(endpoint.slice(colon + 1)) };
}

/**
 * One TLS handshake that checks the endpoint's certificate against `albatross-server-ca`: the
 * client's own refusal (exit 116) is the same whichever side distrusts the other, this one names the
 * input. Albatross's server certificates name no host, so the chain alone is checked.
 */
export function probeEndpoint(endpoint: string, serverCa: string): Promise<void> {
  const { host, port } = splitHostPort(endpoint);
  const ms = deadline(ALBATROSS_PROBE_DEADLINE_MS);
  return new Promise((done, fail) => {
    const socket = connect({ host, port, ca: serverCa, checkServerIdentity: () => undefined, timeout: ms });
    const end = (error?: Error) => {
      socket.destroy();
      if (error === undefined) done();
      else fail(error);
    };
    socket.once('secureConnect', () => end());
    socket.once('timeout', () =>
      end(new Error(`input \`albatross-endpoints\`: ${endpoint} did not complete a TLS handshake in ${seconds(ms)} s`)),
    );
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (/CERT|SIGNATURE|ISSUER|SELF_SIGNED/.test(error.code ?? '')) {
        try {
          refuse(
            'albatross-server-ca',
            `${endpoint} presented a certificate that \`albatross-server-ca\` did not sign (${error.code}); give the CA certificate of that endpoint (its \`cacert.pem\`)`,
          );
        } catch (refusal) {
          end(refusal as Error);
        }
        return;
      }
      end(
        new Error(
          `input \`albatross-endpoints\`: ${endpoint} could not be reached (${error.code ?? error.message}); check the host, the port and the firewall`,
        ),
      );
    });
  });
}

export async function openClient(cleared: AlbatrossCleared, ctx: RunContext): Promise<AlbatrossClient> {
  const { dir, files } = await writeClientFiles(cleared, ctx);
  const call = (endpoint: string, args: readonly string[], ms: number, silent = false) =>
    // The options go before the command's own `--`, after which everything is a name or a path.
    runCommand(cleared.client, [...args.slice(0, 1), ...remoteArgs(files, endpoint), ...args.slice(1)], {
      deadlineMs: deadline(ms),
      silent,
    });
  return {
    run: (endpoint, args, ms = ALBATROSS_COMMAND_DEADLINE_MS) => call(endpoint, args, ms),
    async console(endpoint, name) {
      // The client streams until it is ended: its deadline is the end of the buffered lines.
      const result = await call(endpoint, consoleArgs(name), ALBATROSS_CONSOLE_MS, true);
      return consoleLines(result.stdout);
    },
    async close() {
      await rm(dir, { recursive: true, force: true });
      core.info('albatross: removed the CA key');
    },
  };
}
