/**
 * Proves the loopback cache service (__tests__/support/cache-service.ts) + Azurite
 * against the REAL @actions/cache client, run in a child process with the
 * environment the runner gives an action. Everything stays on 127.0.0.1.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type AzuriteHandle } from './azurite.js';
import { ALREADY_EXISTS_MSG, TWIRP_SERVICE, startCacheService, type CacheService } from './cache-service.js';

const CLIENT = fileURLToPath(new URL('./cache-client.mjs', import.meta.url));
const MARK = '__CACHE_CLIENT_RESULT__';

let azurite: AzuriteHandle;
let service: CacheService;
let root: string;
const run = randomBytes(4).toString('hex');

interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
  result: { ok: boolean; type?: string; value?: unknown; name?: string; message?: string };
}

/** The environment the runner gives an action step (plus the cache service's). */
function runnerEnv(workspace: string, serviceEnv: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: path.join(root, 'home'),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'example/mirage-deploy',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: '0'.repeat(40),
    GITHUB_API_URL: 'https://api.github.com',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: path.join(root, 'runner-temp'),
    RUNNER_TOOL_CACHE: path.join(root, 'tool-cache'),
    ...serviceEnv,
  };
}

function client(
  req: { op: 'save' | 'restore'; paths: string[]; key: string; restoreKeys?: string[] },
  workspace: string,
  serviceEnv: Record<string, string> = service.env,
): Promise<ClientRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLIENT, JSON.stringify(req)],
      { cwd: workspace, env: runnerEnv(workspace, serviceEnv), timeout: 30_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith(`${MARK} `));
        const result = line ? JSON.parse(line.slice(MARK.length + 1)) : { ok: false, message: 'no result line' };
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr, result });
      },
    );
  });
}

/** Fails with the child's full output, so a broken run is diagnosable. */
function expectClean(r: ClientRun): void {
  expect(r.code, `client failed\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
  expect(r.result.ok, r.stdout).toBe(true);
}

function warnings(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('::warning::') || l.startsWith('::error::'));
}

/** sha256 of every file under dir, keyed by relative path (dirs listed too). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const rel = path.relative(dir, p);
      if (statSync(p).isDirectory()) {
        out[`${rel}/`] = 'dir';
        walk(p);
      } else {
        out[rel] = `${statSync(p).size}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      }
    }
  };
  walk(dir);
  return out;
}

function workspace(name: string): string {
  const ws = path.join(root, 'ws', name);
  mkdirSync(ws, { recursive: true });
  return ws;
}

function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}

/** Cache version as @actions/cache computes it (cacheUtils.getCacheVersion, Linux). */
function expectedVersion(paths: string[]): string {
  let zstd = false;
  try {
    zstd = execFileSync('zstd', ['--quiet', '--version'], { stdio: 'pipe' }).toString().trim() !== '';
  } catch {
    zstd = false;
  }
  const components = [...paths, zstd ? 'zstd-without-long' : 'gzip', '1.0'];
  return createHash('sha256').update(components.join('|')).digest('hex');
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'cache-service-test-'));
  mkdirSync(path.join(root, 'home'));
  mkdirSync(path.join(root, 'runner-temp'));
  azurite = await startAzurite();
  service = await startCacheService({ azurite });
}, 30_000);

afterAll(async () => {
  await service?.stop();
  await azurite?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('loopback cache service v2 + Azurite, real @actions/cache client', () => {
  const key = `opam-Linux-${run}-abc123`;
  const paths = ['opam-root'];

  it('saves a directory through Azurite and restores it elsewhere byte-identical', async () => {
    const wsA = workspace('save-a');
    writeFiles(path.join(wsA, 'opam-root'), {
      config: 'opam-version: "2.0"\n',
      'default/lib/mirage/META': 'version = "4.9.0"\n',
      'default/bin/big.bin': randomBytes(5 * 1024 * 1024),
      'default/.opam-switch/switch-state': `compiler: ["ocaml.5.3.0"] ${run}\n`,
      empty: '',
    });

    const saved = await client({ op: 'save', paths, key }, wsA);
    expectClean(saved);
    expect(warnings(saved.stdout)).toEqual([]);
    expect(saved.result.type).toBe('number');
    const cacheId = saved.result.value as number;
    expect(cacheId).toBeGreaterThan(0);
    // Uploaded with the Azure SDK (uploadCacheArchiveSDK's progress line).
    const sent = /^Sent (\d+) of (\d+) \(100\.0%\)/m.exec(saved.stdout);
    expect(sent, saved.stdout).not.toBeNull();
    expect(sent?.[1]).toBe(sent?.[2]);

    // The service saw the exact twirp calls, with the client's version.
    const version = expectedVersion(paths);
    const calls = service.requests().filter((r) => (r.body as { key?: string }).key === key);
    expect(calls.map((r) => r.method)).toEqual(['CreateCacheEntry', 'FinalizeCacheEntryUpload']);
    expect(calls[0]?.body).toEqual({ key, version });
    const entry = service.entries().find((e) => e.key === key);
    expect(entry).toMatchObject({ key, version, finalized: true, id: cacheId });
    expect(entry?.size).toBe(Number(sent?.[1]));
    expect(calls[1]?.body).toEqual({ key, version, size_bytes: String(entry?.size) });

    // The archive really is in the Azurite container.
    const blobs: Array<{ name: string; size: number | undefined }> = [];
    for await (const b of service.containerClient.listBlobsFlat()) {
      blobs.push({ name: b.name, size: b.properties.contentLength });
    }
    expect(blobs).toContainEqual({ name: entry?.blobName, size: entry?.size });
    const archive = await service.containerClient.getBlobClient(entry!.blobName).downloadToBuffer();
    expect(archive.length).toBe(entry?.size);
    const zstdMagic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
    const gzipMagic = Buffer.from([0x1f, 0x8b]);
    expect(archive.subarray(0, 4).equals(zstdMagic) || archive.subarray(0, 2).equals(gzipMagic)).toBe(true);

    const wsB = workspace('restore-b');
    const restored = await client({ op: 'restore', paths, key, restoreKeys: ['opam-Linux-'] }, wsB);
    expectClean(restored);
    expect(warnings(restored.stdout)).toEqual([]);
    expect(restored.result.value).toBe(key);
    expect(restored.stdout).toContain(`Cache hit for: ${key}`);
    expect(restored.stdout).toContain('Cache restored successfully');
    // Downloaded with the Azure SDK (downloadCacheStorageSDK's progress line;
    // the plain-HTTP fallback prints none).
    expect(restored.stdout).toMatch(new RegExp(`^Received ${entry?.size} of ${entry?.size} \\(100\\.0%\\)`, 'm'));
    expect(tree(path.join(wsB, 'opam-root'))).toEqual(tree(path.join(wsA, 'opam-root')));
    expect(Object.keys(tree(path.join(wsB, 'opam-root')))).toContain('default/bin/big.bin');
  }, 30_000);

  it('falls back to restore keys (prefix, newest first, same version only)', async () => {
    const pfx = `deps-${run}-`;
    const wsOld = workspace('partial-old');
    writeFiles(path.join(wsOld, 'opam-root'), { which: 'old\n' });
    expectClean(await client({ op: 'save', paths, key: `${pfx}old` }, wsOld));
    const wsNew = workspace('partial-new');
    writeFiles(path.join(wsNew, 'opam-root'), { which: 'new\n' });
    expectClean(await client({ op: 'save', paths, key: `${pfx}new` }, wsNew));
    // Newest of all, same prefix, but other paths => other version: never matches.
    const wsOther = workspace('partial-other');
    writeFiles(path.join(wsOther, 'other-root'), { which: 'other\n' });
    expectClean(await client({ op: 'save', paths: ['other-root'], key: `${pfx}other` }, wsOther));
    expect(
      service
        .entries()
        .filter((e) => e.key.startsWith(pfx))
        .map((e) => e.finalized),
    ).toEqual([true, true, true]);

    const wsR = workspace('partial-restore');
    const r = await client({ op: 'restore', paths, key: `${pfx}missing`, restoreKeys: [`nothing-${run}-`, pfx] }, wsR);
    expectClean(r);
    expect(r.result.value).toBe(`${pfx}new`);
    expect(r.stdout).toContain(`Cache hit for restore-key: ${pfx}new`);
    expect(readFileSync(path.join(wsR, 'opam-root', 'which'), 'utf8')).toBe('new\n');

    // Restore keys are tried in order: the first one that matches wins.
    const wsR2 = workspace('partial-restore-2');
    const r2 = await client({ op: 'restore', paths, key: `${pfx}missing`, restoreKeys: [`${pfx}o`, pfx] }, wsR2);
    expectClean(r2);
    expect(r2.result.value).toBe(`${pfx}old`);
    expect(readFileSync(path.join(wsR2, 'opam-root', 'which'), 'utf8')).toBe('old\n');
    const req = service
      .requests()
      .filter((x) => x.method === 'GetCacheEntryDownloadURL')
      .at(-1);
    expect(req?.body).toEqual({
      key: `${pfx}missing`,
      restore_keys: [`${pfx}o`, pfx],
      version: expectedVersion(paths),
    });
  }, 30_000);

  it('reports a miss as undefined (no key match, or key match with another version)', async () => {
    const ws = workspace('miss');
    const miss = await client({ op: 'restore', paths, key: `absent-${run}`, restoreKeys: [`absent-${run}-`] }, ws);
    expectClean(miss);
    expect(miss.result.type).toBe('undefined');
    expect(warnings(miss.stdout)).toEqual([]);
    expect(readdirSync(ws)).toEqual([]);

    const otherVersion = await client({ op: 'restore', paths: ['not-opam-root'], key }, ws);
    expectClean(otherVersion);
    expect(otherVersion.result.type).toBe('undefined');
    expect(readdirSync(ws)).toEqual([]);
  }, 30_000);

  it('refuses to create an existing key again, as github.com does (409 already_exists)', async () => {
    const before = service.entries().length;
    const again = await client({ op: 'save', paths, key }, workspace('save-a'));
    expectClean(again);
    expect(again.result.value).toBe(-1);
    expect(warnings(again.stdout)).toEqual([]);
    expect(again.stdout).toContain(
      `Failed to save: Unable to reserve cache with key ${key}, another job may be creating this cache.`,
    );
    expect(again.stdout).toContain(
      `::debug::Failed to reserve cache: Error: Failed to CreateCacheEntry: Received non-retryable error: Failed request: (409) Conflict: ${ALREADY_EXISTS_MSG}`,
    );
    expect(service.entries().length).toBe(before);
    expect(service.requests().at(-1)).toEqual({
      method: 'CreateCacheEntry',
      body: { key, version: expectedVersion(paths) },
    });
  }, 30_000);

  it('answers unknown methods and bad tokens with twirp errors', async () => {
    const post = (method: string, auth: string): Promise<Response> =>
      fetch(new URL(`twirp/${TWIRP_SERVICE}/${method}`, service.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth },
        body: '{}',
      });
    const unknown = await post('DeleteCacheEntry', `Bearer ${service.token}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'bad_route' });
    const denied = await post('GetCacheEntryDownloadURL', 'Bearer nope');
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ code: 'unauthenticated' });
  });

  it('when the service is down the client warns (restore) / informs (save) and does not throw', async () => {
    const down = await startCacheService({ azurite });
    const env = down.env;
    await down.stop();
    const ws = workspace('down');
    writeFiles(path.join(ws, 'opam-root'), { f: 'x\n' });

    const r = await client({ op: 'restore', paths, key, restoreKeys: ['opam-'] }, ws, env);
    expectClean(r);
    expect(r.result.type).toBe('undefined');
    expect(warnings(r.stdout)).toEqual([
      '::warning::Failed to restore: Failed to GetCacheEntryDownloadURL: Unable to make request: ECONNREFUSED%0A' +
        'If you are using self-hosted runners, please make sure your runner has access to all GitHub endpoints: ' +
        'https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/about-self-hosted-runners#communication-between-self-hosted-runners-and-github',
    ]);

    const s = await client({ op: 'save', paths, key: `down-${run}` }, ws, env);
    expectClean(s);
    expect(s.result.value).toBe(-1);
    expect(warnings(s.stdout)).toEqual([]);
    expect(s.stdout).toContain(
      `\nFailed to save: Unable to reserve cache with key down-${run}, another job may be creating this cache.\n`,
    );
    expect(s.stdout).toContain(
      '::debug::Failed to reserve cache: Error: Failed to CreateCacheEntry: Unable to make request: ECONNREFUSED',
    );
    // ECONNREFUSED is not retried (a retry says "Attempt N of M failed … Retrying"), so this is quick.
    expect(`${r.stdout}${s.stdout}`).not.toMatch(/Attempt \d+ of \d+ failed/);
  }, 30_000);
});
