/**
 * The OPAMFETCH command of fetchVariables, run as opam 2.1 runs it (opamDownload.ml: split on
 * spaces, `%%` made `%`, `%{retry}%`, `%{out}%`, `%{url}%` and `%{opam-version}%` filled in, the
 * last line of stdout read as the HTTP code), with the real curl against loopback servers: a file
 * arrives, an HTTP error reaches opam as its code, and a server that stalls mid-transfer ends curl
 * with its timeout code instead of holding the download. Then the build's `.curlrc` (mirage/plan.ts
 * curlConfig) bounding opam's default curl command, which `opam monorepo pull` uses.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curlConfig } from '../../src/mirage/plan.js';
import { fetchVariables } from '../../src/opam/plan.js';

let base: string;
let server: http.Server;
let url: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'fetch-command-'));
  server = http.createServer((req, res) => {
    if (req.url === '/file') res.writeHead(200, { 'content-length': '5' }).end('hello');
    else if (req.url === '/stall') {
      res.writeHead(200, { 'content-length': '1000000' });
      res.write('x');
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(base, { recursive: true, force: true });
});

/** opam's expansion of one argument (OpamFilter.expand_string for these variables). */
function expand(arg: string, vars: Record<string, string>): string {
  return arg.replace(/%%|%\{([a-z-]+)\}%/g, (match, name: string | undefined) =>
    name === undefined ? '%' : (vars[name] ?? match),
  );
}

function fetch(path: string, out: string): Promise<{ code: number; stdout: string }> {
  const command = fetchVariables({}, true, 1).OPAMFETCH ?? '';
  const vars = { retry: '0', out, url: `${url}${path}`, 'opam-version': '2.1.2' };
  const [program = '', ...args] = command.split(' ').map((arg) => expand(arg, vars));
  return new Promise((resolve) => {
    execFile(program, args, (error, stdout) => {
      resolve({ code: error ? Number(error.code) : 0, stdout });
    });
  });
}

describe('OPAMFETCH with the real curl', () => {
  it('downloads a file and writes the HTTP code last', async () => {
    const out = join(base, 'file');
    const result = await fetch('/file', out);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n').pop()).toBe('200');
    expect(readFileSync(out, 'utf8')).toBe('hello');
  });

  it('an HTTP error reaches opam as its code', async () => {
    const result = await fetch('/missing', join(base, 'missing'));
    expect(result.stdout.trim().split('\n').pop()).toBe('404');
  });

  it('a server that stalls mid-transfer ends curl with its timeout (28), at the speed limit', async () => {
    const result = await fetch('/stall', join(base, 'stall'));
    expect(result.code).toBe(28);
  }, 30_000);
});

describe("opam's default curl command (as `opam monorepo pull` runs it) with the build's CURL_HOME", () => {
  it('a server that stalls mid-transfer ends curl with its timeout (28)', async () => {
    const home = join(base, 'curl-home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, '.curlrc'), curlConfig(1));
    // opamDownload.ml's curl_args for a single-word command: curl reads .curlrc before them
    const args = ['--write-out', '%{http_code}\\n', '--retry', '0', '--retry-delay', '2', '-L'];
    args.push('-o', join(base, 'stall-default'), '--', `${url}/stall`);
    const code = await new Promise<number>((resolve) => {
      execFile('curl', args, { env: { PATH: process.env.PATH ?? '', CURL_HOME: home } }, (error) =>
        resolve(error ? Number(error.code) : 0),
      );
    });
    expect(code).toBe(28);
  }, 30_000);
});
