/**
 * Loopback implementation of the GitHub Actions cache service v2 (twirp/JSON),
 * the service @actions/cache talks to on github.com when the runner sets
 * ACTIONS_CACHE_SERVICE_V2 and ACTIONS_RESULTS_URL. Blob storage is a real
 * Azurite container: the service hands out real SAS URLs, and the client
 * uploads/downloads with its own @azure/storage-blob code.
 *
 * Wire contract (node_modules/@actions/cache/lib/generated/results/api/v1):
 *   POST {ACTIONS_RESULTS_URL}twirp/github.actions.results.api.v1.CacheService/<Method>
 *   Authorization: Bearer {ACTIONS_RUNTIME_TOKEN}, Content-Type: application/json,
 *   bodies use proto field names (snake_case), int64 as strings.
 *   CreateCacheEntry          {key, version}                -> {ok, signed_upload_url}
 *   FinalizeCacheEntryUpload  {key, version, size_bytes}    -> {ok, entry_id}
 *   GetCacheEntryDownloadURL  {key, restore_keys, version}  -> {ok, signed_download_url, matched_key}
 *   errors: twirp JSON {code, msg} with the twirp HTTP status.
 *
 * Matching (GitHub docs, "Cache key matching"): only finalized entries whose
 * version equals the request's; exact `key` first, then `key` as a prefix,
 * then each restore key in order as a prefix; newest entry wins among
 * several prefix matches. Creating an entry whose key+version already exists
 * is a twirp `already_exists` (HTTP 409) with github.com's message.
 *
 * Signed URLs: by default (`blobHost: 'azure-host'`) they are production-style
 * http://devstoreaccount1.blob.core.windows.net:PORT/<container>/<blob>?<SAS>
 * because @actions/cache downloads with the Azure SDK only for hosts ending in
 * `.blob.core.windows.net`; `env.NODE_OPTIONS` preloads
 * __tests__/support/blob-host-loopback.mjs, which resolves that host to 127.0.0.1.
 * With `blobHost: 'loopback'` the URLs point at 127.0.0.1 directly (no
 * preload needed, but then the client downloads with plain HTTP GET).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  BlobSASPermissions,
  BlobServiceClient,
  type ContainerClient,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
} from '@azure/storage-blob';

export const TWIRP_SERVICE = 'github.actions.results.api.v1.CacheService';
export const DEFAULT_CONTAINER = 'actions-cache';
/** Message github.com returns (twirp already_exists, HTTP 409) for a duplicate entry. */
export const ALREADY_EXISTS_MSG = 'cache entry with the same key, version, and scope already exists';
/** Path of the DNS preload put into NODE_OPTIONS for `blobHost: 'azure-host'`. */
export const BLOB_HOST_PRELOAD = fileURLToPath(new URL('./blob-host-loopback.mjs', import.meta.url));

export interface AzuriteAccount {
  blobUrl: string;
  accountName: string;
  accountKey: string;
}

export interface CacheServiceOptions {
  azurite: AzuriteAccount;
  /** Container for cache blobs (created on start). Default `actions-cache`. */
  container?: string;
  /** See the module comment. Default `azure-host`. */
  blobHost?: 'azure-host' | 'loopback';
}

export interface CacheEntryInfo {
  id: number;
  key: string;
  version: string;
  /** Archive size reported at finalize (and checked against the blob). */
  size?: number;
  finalized: boolean;
  /** Blob name inside `container`. */
  blobName: string;
}

export interface RecordedRequest {
  /** Twirp method name (e.g. `CreateCacheEntry`), or the raw path when it is not a twirp route. */
  method: string;
  body: unknown;
}

export interface CacheService {
  /** ACTIONS_RESULTS_URL value, e.g. http://127.0.0.1:PORT/ (trailing slash, as the runner gives it). */
  url: string;
  /**
   * Variables a process using @actions/cache needs: ACTIONS_CACHE_SERVICE_V2,
   * ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN, GITHUB_SERVER_URL (github.com:
   * anything else makes the client fall back to v1) and, for 'azure-host',
   * NODE_OPTIONS=--import=<blob-host-loopback.mjs>.
   */
  env: Record<string, string>;
  token: string;
  container: string;
  containerClient: ContainerClient;
  entries(): CacheEntryInfo[];
  requests(): RecordedRequest[];
  stop(): Promise<void>;
}

interface Entry extends CacheEntryInfo {
  seq: number;
}

class TwirpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    msg: string,
  ) {
    super(msg);
  }
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** A JWT-shaped runtime token (the client only sends it as a bearer token). */
function makeRuntimeToken(): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256' }));
  const now = Math.floor(Date.now() / 1000);
  const payload = b64url(
    JSON.stringify({
      iss: 'https://token.actions.githubusercontent.com',
      aud: 'vso:loopback-cache-service',
      scp: 'Actions.Results:loopback-run:loopback-job',
      ac: JSON.stringify([{ Scope: 'refs/heads/main', Permission: 3 }]),
      nbf: now - 60,
      exp: now + 6 * 3600,
    }),
  );
  return `${header}.${payload}.${b64url(randomBytes(32))}`;
}

function str(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') {
    throw new TwirpError(400, 'invalid_argument', `${field} must be a string`);
  }
  return value;
}

function required(body: Record<string, unknown>, field: string): string {
  const value = str(body, field);
  if (value === '') throw new TwirpError(400, 'invalid_argument', `${field} is required`);
  return value;
}

export async function startCacheService(opts: CacheServiceOptions): Promise<CacheService> {
  const { blobUrl, accountName, accountKey } = opts.azurite;
  const container = opts.container ?? DEFAULT_CONTAINER;
  const blobHost = opts.blobHost ?? 'azure-host';
  const credential = new StorageSharedKeyCredential(accountName, accountKey);
  const containerClient = new BlobServiceClient(blobUrl, credential).getContainerClient(container);
  await containerClient.createIfNotExists();

  const azuritePort = new URL(blobUrl).port;
  const publicBlobBase =
    blobHost === 'azure-host'
      ? `http://${accountName}.blob.core.windows.net:${azuritePort}/${container}`
      : `${blobUrl.replace(/\/$/, '')}/${container}`;

  const token = makeRuntimeToken();
  const entries: Entry[] = [];
  const requests: RecordedRequest[] = [];
  let seq = 0;

  const signedUrl = (blobName: string, permissions: string, minutes: number): string => {
    const now = Date.now();
    const sas = generateBlobSASQueryParameters(
      {
        containerName: container,
        blobName,
        permissions: BlobSASPermissions.parse(permissions),
        startsOn: new Date(now - 5 * 60_000),
        expiresOn: new Date(now + minutes * 60_000),
        protocol: SASProtocol.HttpsAndHttp,
      },
      credential,
    ).toString();
    return `${publicBlobBase}/${blobName}?${sas}`;
  };

  const matchEntry = (key: string, restoreKeys: string[], version: string): Entry | undefined => {
    const candidates = entries.filter((e) => e.finalized && e.version === version).sort((a, b) => b.seq - a.seq); // newest first
    const exact = candidates.find((e) => e.key === key);
    if (exact) return exact;
    for (const prefix of [key, ...restoreKeys]) {
      const hit = candidates.find((e) => e.key.startsWith(prefix));
      if (hit) return hit;
    }
    return undefined;
  };

  const handlers: Record<string, (body: Record<string, unknown>) => Promise<unknown>> = {
    CreateCacheEntry: async (body) => {
      const key = required(body, 'key');
      const version = required(body, 'version');
      if (entries.some((e) => e.key === key && e.version === version)) {
        throw new TwirpError(409, 'already_exists', ALREADY_EXISTS_MSG);
      }
      const id = ++seq;
      const blobName = `${id}-${createHash('sha256').update(`${key}\0${version}`).digest('hex')}`;
      entries.push({ id, seq: id, key, version, finalized: false, blobName });
      return { ok: true, signed_upload_url: signedUrl(blobName, 'cw', 60) };
    },
    FinalizeCacheEntryUpload: async (body) => {
      const key = required(body, 'key');
      const version = required(body, 'version');
      const sizeField = body['size_bytes'];
      const size = Number(sizeField ?? 0);
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new TwirpError(400, 'invalid_argument', 'size_bytes must be a non-negative integer');
      }
      const entry = entries.find((e) => e.key === key && e.version === version);
      if (!entry) throw new TwirpError(404, 'not_found', 'cache entry not found');
      if (entry.finalized) throw new TwirpError(409, 'already_exists', ALREADY_EXISTS_MSG);
      let blobSize: number | undefined;
      try {
        blobSize = (await containerClient.getBlobClient(entry.blobName).getProperties()).contentLength;
      } catch {
        throw new TwirpError(412, 'failed_precondition', 'no blob was uploaded for this cache entry');
      }
      if (blobSize !== size) {
        throw new TwirpError(
          412,
          'failed_precondition',
          `size_bytes ${size} does not match the uploaded blob (${blobSize} bytes)`,
        );
      }
      entry.finalized = true;
      entry.size = size;
      return { ok: true, entry_id: String(entry.id) };
    },
    GetCacheEntryDownloadURL: async (body) => {
      const key = required(body, 'key');
      const version = required(body, 'version');
      const rk = body['restore_keys'] ?? [];
      if (!Array.isArray(rk) || !rk.every((k): k is string => typeof k === 'string')) {
        throw new TwirpError(400, 'invalid_argument', 'restore_keys must be a list of strings');
      }
      const entry = matchEntry(key, rk, version);
      if (!entry) return { ok: false, signed_download_url: '', matched_key: '' };
      return { ok: true, signed_download_url: signedUrl(entry.blobName, 'r', 10), matched_key: entry.key };
    },
  };

  const prefix = `/twirp/${TWIRP_SERVICE}/`;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const pathname = new URL(req.url ?? '/', 'http://x').pathname;
        const method = pathname.startsWith(prefix) ? pathname.slice(prefix.length) : pathname;
        let parsed: unknown = raw;
        try {
          parsed = raw === '' ? {} : JSON.parse(raw);
        } catch {
          // keep the raw text
        }
        requests.push({ method, body: parsed });
        try {
          const handler = pathname.startsWith(prefix) ? handlers[method] : undefined;
          if (!handler || req.method !== 'POST') {
            throw new TwirpError(404, 'bad_route', `no handler for path "${pathname}" (${req.method})`);
          }
          if (req.headers.authorization !== `Bearer ${token}`) {
            throw new TwirpError(401, 'unauthenticated', 'invalid or missing runtime token');
          }
          if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
            throw new TwirpError(404, 'bad_route', 'only application/json is supported');
          }
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
            throw new TwirpError(400, 'malformed', 'the request body could not be decoded as JSON');
          }
          const out = await handler(parsed as Record<string, unknown>);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(out));
        } catch (error) {
          const e =
            error instanceof TwirpError
              ? error
              : new TwirpError(500, 'internal', error instanceof Error ? error.message : String(error));
          res.writeHead(e.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: e.code, msg: e.message }));
        }
      })();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/`;

  const env: Record<string, string> = {
    ACTIONS_CACHE_SERVICE_V2: 'true',
    ACTIONS_RESULTS_URL: url,
    ACTIONS_RUNTIME_TOKEN: token,
    GITHUB_SERVER_URL: 'https://github.com',
  };
  if (blobHost === 'azure-host') {
    env['NODE_OPTIONS'] = `--import=${pathToFileURL(BLOB_HOST_PRELOAD).href}`;
  }

  let stopped = false;
  return {
    url,
    env,
    token,
    container,
    containerClient,
    entries: () =>
      entries
        .slice()
        .sort((a, b) => a.seq - b.seq)
        .map(({ seq: _seq, ...e }) => ({ ...e })),
    requests: () => requests.map((r) => ({ ...r })),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
