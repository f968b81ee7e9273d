/**
 * The preflight of `albatross-ca-key`, run with the deploy secret's (src/deploy/credentials/
 * preflight.ts) before anything is downloaded or built: the key's shape, its certificate, the
 * endpoints' CA and the client binary, refused now rather than after a long build.
 */
import * as core from '@actions/core';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { accessSync, chmodSync, constants, statSync } from 'node:fs';
import * as tc from '@actions/tool-cache';
import type { AlbatrossConfig } from '../config.js';
import { findProgram } from '../exec.js';
import { fileDigest } from '../hash.js';
import { ALBATROSS_CLIENT_DOWNLOAD_DEADLINE_MS, deadline, seconds, TIMED_OUT, withDeadline } from '../deadlines.js';
import { refuse } from '../deploy/credentials/plan.js';

/** What the deploy needs after the build: the PEM texts as checked, and the client binary. */
export interface AlbatrossCleared {
  readonly caKey: string;
  readonly caCert: string;
  readonly serverCa: string;
  readonly client: string;
  /** The CA certificate's subject and SHA-256 fingerprint, for the log (not secret). */
  readonly caName: string;
}

const ENCRYPTED = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/;
const PRIVATE_KEY_PEM =
  /^-----BEGIN ([A-Z0-9]+ )?PRIVATE KEY-----\n[\s\S]+\n-----END ([A-Z0-9]+ )?PRIVATE KEY-----\n?$/;

/** The key's text alone: PEM, not encrypted, readable by OpenSSL; returned with `\n` line ends. */
export function checkKeyShape(given: string): string {
  const key = `${given.replace(/\r\n/g, '\n').trim()}\n`;
  if (ENCRYPTED.test(key)) {
    refuse(
      'albatross-ca-key',
      'is encrypted with a passphrase; albatross-client cannot ask for one, so give the key unencrypted (`openssl pkey -in ca.key -out ca-plain.key`)',
    );
  }
  if (!PRIVATE_KEY_PEM.test(key)) {
    refuse(
      'albatross-ca-key',
      'is not a PEM private key (`-----BEGIN PRIVATE KEY-----`…); give the whole `ca.key` file albatross-client wrote, armor lines included',
    );
  }
  try {
    createPrivateKey(key);
  } catch (error) {
    refuse(
      'albatross-ca-key',
      `is not a readable private key (${(error as Error).message}); give the whole file, unchanged`,
    );
  }
  return key;
}

function certificate(input: string, text: string | undefined): X509Certificate {
  if (text === undefined || text === '') {
    return refuse(input, 'is empty; give the PEM certificate (`-----BEGIN CERTIFICATE-----`…)');
  }
  try {
    return new X509Certificate(text);
  } catch (error) {
    return refuse(input, `is not a readable PEM certificate (${(error as Error).message})`);
  }
}

/** The key against its certificate: the client signs with the one and sends the other. */
export function checkKeyPair(key: string, caCertText: string | undefined, serverCaText: string): string {
  const caCert = certificate('albatross-ca-cert', caCertText);
  if (!caCert.checkPrivateKey(createPrivateKey(key))) {
    refuse(
      'albatross-ca-cert',
      `is the certificate of another key than \`albatross-ca-key\` (${caCert.subject}); give the certificate of that key`,
    );
  }
  if (!caCert.ca) {
    refuse(
      'albatross-ca-cert',
      `(${caCert.subject}) is not a CA certificate; albatross-client signs one certificate per command with it, so give a CA (the one \`albatross-client generate\` or \`add-policy --csr\` made)`,
    );
  }
  certificate('albatross-server-ca', serverCaText);
  return `${caCert.subject.replace(/\n/g, ', ')} (sha256 ${caCert.fingerprint256})`;
}

/**
 * `albatross-client` given as a URL: downloaded before anything is built (into RUNNER_TEMP, which
 * the build sandbox hides) and run only with the pinned sha256, which the caller then checks.
 */
async function downloadClient(url: string): Promise<string> {
  const limit = deadline(ALBATROSS_CLIENT_DOWNLOAD_DEADLINE_MS);
  let downloaded: string | typeof TIMED_OUT;
  try {
    downloaded = await withDeadline(tc.downloadTool(url), limit);
  } catch (error) {
    return refuse(
      'albatross-client',
      `cannot download ${url} (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (downloaded === TIMED_OUT) {
    return refuse(
      'albatross-client',
      `the download of ${url} did not finish within ${seconds(limit)} s; the server stalled`,
    );
  }
  chmodSync(downloaded, 0o755);
  core.info(`albatross: client downloaded from ${url}`);
  return downloaded;
}

async function checkClient(config: AlbatrossConfig): Promise<string> {
  const given = config.client;
  const client =
    given !== undefined && /^https?:\/\//.test(given)
      ? await downloadClient(given)
      : (given ?? findProgram('albatross-client', process.env));
  if (client === undefined) {
    return refuse(
      'albatross-client',
      'is empty and no `albatross-client` is on PATH; give the path of the client binary (see README "albatross")',
    );
  }
  try {
    if (!statSync(client).isFile()) throw new Error('not a file');
    accessSync(client, constants.X_OK);
  } catch {
    return refuse(
      'albatross-client',
      `\`${client}\` is not an executable file; give the path of the albatross-client binary`,
    );
  }
  if (config.clientSha256 !== undefined) {
    const digest = await fileDigest(client);
    if (digest !== config.clientSha256) {
      refuse(
        'albatross-client-sha256',
        `${client} has sha256 ${digest}, not the pinned ${config.clientSha256}; not running a client that changed`,
      );
    }
  }
  return client;
}

/** Refuses an unusable `albatross-*` secret before anything runs; returns what the deploy needs. */
export async function preflightAlbatross(config: AlbatrossConfig): Promise<AlbatrossCleared> {
  if (config.caKey === undefined) {
    refuse(
      'albatross-ca-key',
      'is empty; pass the private key of a CA the endpoints trust from a secret (`${{ secrets.ALBATROSS_CA_KEY }}`)',
    );
  }
  const caKey = checkKeyShape(config.caKey);
  const caName = checkKeyPair(caKey, config.caCert, config.serverCa);
  const client = await checkClient(config);
  core.info(`albatross: CA ${caName} is a usable key pair; client ${client}; endpoints ${config.endpoints.join(', ')}`);
  return { caKey, caCert: config.caCert ?? '', serverCa: config.serverCa, client, caName };
}
