// The REAL albatross (daemon, console, TLS endpoint, client) on 127.0.0.1, one daemon per endpoint,
// in remote mode with a CA made by `albatross-client generate`. The binaries come from
// ALBATROSS_BIN, the shared folder CI provides (`../shared/albatross` beside the repository), or
// the folder `npm run albatross:install` fills from opam. The tender may be a stand-in script in the
// daemon's db folder (albatross looks there first) that prints its arguments and stays up; `real`
// uses solo5-spt itself.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PROJECT_ROOT } from './harness.js';

/** The command that fills `.tmp/albatross` on a machine with network. */
export const INSTALL_COMMAND = 'npm run albatross:install';

export interface AlbatrossBinaries {
  /** Folder holding albatrossd, albatross-console, albatross-tls-endpoint, albatross-client, solo5-spt. */
  readonly bin: string;
  /** Folder holding solo5's test images (test_hello.spt, test_exception.spt). */
  readonly images: string;
}

/** `shared/albatross` in the nearest folder above the repository that has one (CI: its parent). */
function sharedFolder(): string {
  for (let dir = resolve(PROJECT_ROOT, '..'); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'albatross');
    if (existsSync(candidate) || dir === dirname(dir)) return candidate;
  }
}

const SHARED = sharedFolder();
const INSTALLED = join(PROJECT_ROOT, '.tmp', 'albatross');
const NEEDED = ['albatrossd', 'albatross-console', 'albatross-tls-endpoint', 'albatross-client', 'solo5-spt'];

/** A folder holding `bin/` and `images/`, or (ALBATROSS_BIN) the `bin/` folder itself. */
function binariesIn(dir: string): AlbatrossBinaries | undefined {
  const bin = existsSync(join(dir, 'albatross-client')) ? dir : join(dir, 'bin');
  if (!NEEDED.every((b) => existsSync(join(bin, b)))) return undefined;
  // A binary whose libraries are missing (libev4, libgmp10) is not a usable albatross.
  const runs = spawnSync(join(bin, 'albatross-client'), ['--version'], { encoding: 'utf8' }).status === 0;
  // `images/` beside the real `bin/`, also when ALBATROSS_BIN is a link to it.
  return runs ? { bin, images: resolve(realpathSync(bin), '..', 'images') } : undefined;
}

/** Where findAlbatross looks; the defaults are this checkout's, a test gives its own. */
export interface AlbatrossSearch {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly shared: string;
  readonly installed: string;
}

/**
 * Where the binaries are, or why there are none. In CI (`CI=true`) with the shared folder present
 * the tests must run: a folder that does not work there throws instead of skipping.
 */
export function findAlbatross(search: AlbatrossSearch = { env: process.env, shared: SHARED, installed: INSTALLED }): {
  found?: AlbatrossBinaries;
  missing?: string;
} {
  const candidates = [search.env.ALBATROSS_BIN, search.shared, search.installed].filter((d): d is string => !!d);
  for (const dir of candidates) {
    const found = binariesIn(dir);
    if (found !== undefined) return { found };
  }
  if (search.env.CI === 'true' && existsSync(search.shared)) {
    throw new Error(
      `${search.shared} is there but its albatross-client does not run (missing libev4/libgmp10?); CI must run the albatross tests`,
    );
  }
  return { missing: `no albatross binaries in ${candidates.join(', ')}; run \`${INSTALL_COMMAND}\`` };
}

/** A CA (`cacert.pem`, `ca.key`) and the server's certificate it signed, made by the real client. */
export interface AlbatrossCa {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

export function generateCa(bin: string, dir: string): AlbatrossCa {
  mkdirSync(dir, { recursive: true });
  const made = spawnSync(join(bin, 'albatross-client'), ['generate', 'ca', 'db'], { cwd: dir, encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`albatross-client generate: ${made.stderr}`);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    cert: read('cacert.pem'),
    key: read('ca.key'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
  };
}

/**
 * A sub-CA `name` delegated by `ca` with a policy (`add-policy NAME VMS … --csr`, then `sign`): the
 * key and certificate a fleet's CI is given instead of the root's.
 */
export function delegate(bin: string, ca: AlbatrossCa, name: string, policy: string[]): { cert: string; key: string } {
  const client = join(bin, 'albatross-client');
  const run = (args: string[]) => {
    const done = spawnSync(client, args, { cwd: ca.dir, encoding: 'utf8' });
    if (done.status !== 0) throw new Error(`albatross-client ${args[0] ?? ''}: ${done.stderr}`);
  };
  run(['add-policy', name, ...policy, '--csr']);
  run(['sign', 'cacert.pem', 'db', 'ca.key', `${name}.req`]);
  const read = (f: string) => readFileSync(join(ca.dir, f), 'utf8');
  return { cert: read(`${name}.pem`), key: read(`${name}.key`) };
}

/** Prints what albatrossd started it with (the console shows it), then stays up; `<db>/fail` makes it exit 1. */
const STAND_IN_TENDER = `#!/bin/sh
if [ "$1" = "--version" ]; then echo "ABI version 2"; exit 0; fi
if [ -e "$(dirname "$0")/fail" ]; then echo "stand-in tender: refusing to boot: $*"; exit 1; fi
echo "stand-in tender: $*"
# A loop rather than \`exec sleep\`: this process keeps the image's path in its command line, by which
# stop() finds and ends it.
while :; do sleep 1; done
`;

export interface AlbatrossEndpoint {
  /** `127.0.0.1:PORT` */
  readonly endpoint: string;
  readonly db: string;
  /** `albatross-client info` (all unikernels) through this endpoint, with the test's CA. */
  info(): string;
  /** The console's buffered lines of `name`. */
  console(name: string): Promise<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((done) => server.close(done));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, log: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`albatross-tls-endpoint exited: ${readFileSync(log, 'utf8')}`);
    const open = await new Promise<boolean>((done) => {
      const socket = net.connect(port, '127.0.0.1', () => done(true));
      socket.on('error', () => done(false));
      socket.on('connect', () => socket.destroy());
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`albatross-tls-endpoint did not listen on ${port}`);
}

function start(program: string, args: string[], log: string): ChildProcess {
  return spawn(program, args, { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, TMPDIR: tmpdir() } }).on(
    'error',
    () => writeFileSync(log, `${program} could not start`),
  );
}

/** One daemon (with its console and TLS endpoint) in a short folder: unix socket paths are short. */
export async function startEndpoint(
  bin: string,
  ca: AlbatrossCa,
  tender: 'stand-in' | 'real',
): Promise<AlbatrossEndpoint> {
  const root = mkdtempSync(join(tmpdir(), 'alb-'));
  const [tmp, db] = [join(root, 't'), join(root, 'd')];
  for (const d of [join(tmp, 'util'), join(tmp, 'fifo'), join(db, 'block')]) mkdirSync(d, { recursive: true });
  if (tender === 'stand-in') writeFileSync(join(db, 'solo5-spt'), STAND_IN_TENDER, { mode: 0o755 });
  else copyFileSync(join(bin, 'solo5-spt'), join(db, 'solo5-spt'));
  chmodSync(join(db, 'solo5-spt'), 0o755);
  for (const [f, text] of [
    ['cacert.pem', ca.cert],
    ['server.pem', ca.serverCert],
    ['server.key', ca.serverKey],
  ]) {
    writeFileSync(join(root, f as string), text as string, { mode: 0o600 });
  }
  const log = join(root, 'log');
  const children = [start(join(bin, 'albatross-console'), [`--tmpdir=${tmp}`], log)];
  await waitForFile(join(tmp, 'util', 'console.sock'));
  children.push(start(join(bin, 'albatrossd'), [`--tmpdir=${tmp}`, `--dbdir=${db}`], log));
  await waitForFile(join(tmp, 'util', 'vmmd.sock'));
  const port = await freePort();
  const tls = start(
    join(bin, 'albatross-tls-endpoint'),
    [
      join(root, 'cacert.pem'),
      join(root, 'server.pem'),
      join(root, 'server.key'),
      '--ip=127.0.0.1',
      `--port=${port}`,
      `--tmpdir=${tmp}`,
    ],
    log,
  );
  children.push(tls);
  await waitForPort(port, tls, log);
  const endpoint = `127.0.0.1:${port}`;
  const remote = [
    `--ca=${join(ca.dir, 'cacert.pem')}`,
    `--ca-key=${join(ca.dir, 'ca.key')}`,
    `--server-ca=${join(ca.dir, 'cacert.pem')}`,
    `--destination=${endpoint}`,
  ];
  const client = join(bin, 'albatross-client');
  return {
    endpoint,
    db,
    info: () => spawnSync(client, ['info', ...remote], { encoding: 'utf8' }).stdout,
    console: (name) => runFor(client, ['console', ...remote, '--', name], 3000),
    async stop() {
      for (const child of children.reverse()) child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      // The tenders albatrossd started (stand-in `sleep`s, solo5-spt) end with their unikernels.
      for (const pid of processesNaming(`${tmp}/`)) process.kill(pid, 'SIGKILL');
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The pids of processes whose command line holds `text` (the tenders of one daemon's folder). */
function processesNaming(text: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(path)) throw new Error(`${path} did not appear`);
}

/** A command that never ends by itself (`console`), ended after `ms`: what it printed by then. */
function runFor(program: string, args: string[], ms: number): Promise<string> {
  return new Promise((done) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', () => {
      clearTimeout(timer);
      done(out);
    });
  });
}
