/**
 * The setup phase through the bundle, against real parts: the system's opam (Debian 12: 2.1.2) served
 * as a release binary from a loopback HTTP server (tool-cache download + checksum), the system's OCaml as
 * `ocaml-system`, the offline opam repository fixture, and the real @actions/cache client talking
 * to the loopback cache service backed by Azurite. Run 1 is cold, run 2 an exact hit, run 3 a
 * changed config.ml (partial), run 4 with the cache service stopped.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DEADLINE_ENV } from '../../src/deadlines.js';
import { useCacheService } from '../support/cache-scope.js';
import { PROJECT_ROOT, listTree, removeRun, runAction, type NodeName, type RunResult } from '../support/harness.js';
import { makeOpamRepository, systemOcamlVersion } from '../support/opam-repo.js';

const SYSTEM_OPAM = '/usr/bin/opam';
const OPAM_SHA256 = createHash('sha256').update(readFileSync(SYSTEM_OPAM)).digest('hex');
const OPAM_VERSION = execFileSync(SYSTEM_OPAM, ['--version'], { encoding: 'utf8' }).trim();
const BINARY_PATH = `/${OPAM_VERSION}/opam-${OPAM_VERSION}-x86_64-linux`;
let ocamlVersion = '';

let base: string;
let repoUrl: string;
const cache = useCacheService();
let server: http.Server;
let downloadUrl: string;
let downloads = 0;
let stalled = 0;
const runs: RunResult[] = [];

/** The same paths every run, as on a hosted runner: the cache's version and tar paths depend on them. */
const root = (): string => join(base, 'opam-root');
const workspace = (): string => join(base, 'workspace');

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'opam-setup-'));
  repoUrl = (await makeOpamRepository(join(base, 'repo'))).url;
  ocamlVersion = await systemOcamlVersion();
  const binary = readFileSync(SYSTEM_OPAM);
  server = http.createServer((req, res) => {
    if (req.url?.startsWith('/stall/')) {
      // accepts, sends the headers and one byte, then nothing: a stalled mirror
      stalled++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': binary.length });
      res.write(binary.subarray(0, 1));
    } else if (req.url === BINARY_PATH) {
      downloads++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': binary.length });
      res.end(binary);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  downloadUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  runs.forEach(removeRun);
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  if (base) rmSync(base, { recursive: true, force: true });
});

/** A new runner: no opam root, a fresh checkout of the example (plus `configEdit`). */
async function run(
  configEdit?: (text: string) => string,
  inputs: Record<string, string> = {},
  node: NodeName = 'tests',
  keepRoot = false,
  env: Record<string, string> = {},
): Promise<RunResult> {
  if (!keepRoot) rmSync(root(), { recursive: true, force: true });
  rmSync(workspace(), { recursive: true, force: true });
  cpSync(join(PROJECT_ROOT, 'example/hello'), workspace(), { recursive: true });
  if (configEdit) {
    const config = join(workspace(), 'config.ml');
    writeFileSync(config, configEdit(readFileSync(config, 'utf8')));
  }
  const result = await runAction({
    node,
    workspace: workspace(),
    env: { ...cache.service.env, OPAMROOT: root(), ...env },
    inputs: {
      'ocaml-compiler': 'ocaml-system',
      'opam-version': OPAM_VERSION,
      'opam-download-url': downloadUrl,
      'opam-sha256': OPAM_SHA256,
      'opam-repositories': `fixture: ${repoUrl}`,
      'mirage-version': '4.11.1+stand-in',
      ...inputs,
    },
    timeoutMs: 600_000,
  });
  runs.push(result);
  return result;
}

/** opam colours its output (OPAMCOLOR=always, as for a runner's log). */
const plain = (log: string): string => log.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');

/** opam commands the action itself ran (the runner echoes them as `[command]`), by subcommand. */
function actionOpamCommands(log: string): string[] {
  return [...log.matchAll(/^\[command\]\S*\/opam ([a-z-]+)/gm)].map((m) => m[1] ?? '');
}

const opamEntries = () => cache.service.entries().filter((e) => e.finalized && e.key.startsWith('v1-opam-'));
const warnings = (log: string) => log.split('\n').filter((l) => l.startsWith('::warning'));

describe('opam setup with the cache', () => {
  let cold: RunResult;
  let warm: RunResult;

  it('run 1, cold: downloads and verifies opam, initialises the root, installs mirage; the post step saves it', async () => {
    cold = await run();
    expect(cold.main.exitCode, cold.log).toBe(0);
    expect(cold.outputs['cache-hit']).toBe('miss');
    expect(cold.outputs['opam-version']).toBe(OPAM_VERSION);
    expect(cold.outputs['ocaml-version']).toBe(ocamlVersion);
    expect(downloads).toBe(1);
    expect(cold.log).toContain(`downloading ${downloadUrl}${BINARY_PATH}`);
    expect(listTree(cold.dirs.toolCache)).toContain(`opam/${OPAM_VERSION}/x86_64/opam`);
    expect(cold.paths).toContain(join(cold.dirs.toolCache, `opam/${OPAM_VERSION}/x86_64`));
    expect(cold.paths).toContain(join(root(), 'mirage/bin'));

    const commands = actionOpamCommands(cold.log);
    expect(commands).toEqual(expect.arrayContaining(['init', 'switch', 'install']));
    expect(commands).not.toContain('update');
    expect(plain(cold.log)).toMatch(/installed mirage\.4\.11\.1/);
    expect(plain(cold.log)).toMatch(/installed opam-monorepo\.0\.4\.1/);

    expect(cold.exportedEnv).toMatchObject({
      OPAMROOT: root(),
      OPAMSWITCH: 'mirage',
      OPAMYES: '1',
      OPAMCONFIRMLEVEL: 'unsafe-yes',
      OPAMNODEPEXTS: '1',
      OPAMJOBS: String(cpus().length),
      OPAMDOWNLOADJOBS: String(cpus().length),
      OPAMCOLOR: 'always',
      OPAM_SWITCH_PREFIX: join(root(), 'mirage'),
    });
    expect(Number(cold.exportedEnv.OPAMRETRIES)).toBeGreaterThan(0);

    expect(cold.post?.exitCode).toBe(0);
    // opam's repository cache stays in the entry: a warm run then never rebuilds it.
    expect(cold.log).toMatch(/^cache opam: removed \S*\/log before saving$/m);
    expect(cold.log).not.toMatch(/opam clean/);
    expect(opamEntries()).toHaveLength(1);
    expect(warnings(cold.log)).toEqual([]);
  });

  it('run 2, same inputs: an exact hit that runs no opam init, update or install, and saves nothing', async () => {
    warm = await run();
    expect(warm.main.exitCode, warm.log).toBe(0);
    expect(warm.outputs['cache-hit']).toBe('exact');
    expect(warm.outputs['ocaml-version']).toBe(ocamlVersion);
    const commands = actionOpamCommands(warm.log);
    for (const forbidden of ['init', 'update', 'install', 'switch', 'repository', 'pin']) {
      expect(commands).not.toContain(forbidden);
    }
    expect(warm.log).toMatch(/exact cache hit, nothing to install/);
    expect(warm.exportedEnv.OPAMROOT).toBe(root());
    expect(warm.log).toMatch(/cache opam: not saved: restored from its exact key/);
    expect(opamEntries()).toHaveLength(1);
  });

  it('run 2 again on Node 24, the runtime of `runs.using: node24`: the same exact hit, a correct image', async () => {
    const warm24 = await run(undefined, {}, 'node24');
    expect(warm24.main.exitCode, warm24.log).toBe(0);
    expect(warm24.post?.exitCode, warm24.log).toBe(0);
    expect(warm24.outputs['cache-hit']).toBe('exact');
    expect(actionOpamCommands(warm24.log)).not.toContain('install');
    const image = warm24.outputs.image ?? '';
    expect(warm24.outputs['image-sha256']).toBe(createHash('sha256').update(readFileSync(image)).digest('hex'));
    expect(opamEntries()).toHaveLength(1);
  });

  it('run 3, config.ml needs one more package: a partial hit that adds only that package', async () => {
    const partial = await run((text) => text.replace('package "duration"', 'package "duration"; package "fmt"'));
    expect(partial.main.exitCode, partial.log).toBe(0);
    expect(partial.outputs['cache-hit']).toBe('partial');
    const commands = actionOpamCommands(partial.log);
    expect(commands).not.toContain('init');
    expect(commands).not.toContain('switch');
    expect(commands).toContain('update');
    const log = plain(partial.log);
    // The restored switch already has everything the setup installs, and the repositories did not
    // change: no `opam install` is asked to find that out (it answered "Nothing to do." before).
    expect(commands).not.toContain('install');
    expect(log).toMatch(/and opam-monorepo: in the switch, and no repository changed: no install/);
    expect(log).not.toMatch(/installed (mirage|opam-monorepo|ocaml-system|ocaml)\./);
    // MirageOS 4 libraries go to the duniverse: the new one is the one thing fetched.
    expect(log).toMatch(/Pulling fmt from/);
    expect(opamEntries()).toHaveLength(2);
  });

  it("run 3b, another target: a partial hit whose switch gains only that target's packages", async () => {
    const hvt = await run(undefined, { target: 'hvt' });
    expect(hvt.main.exitCode, hvt.log).toBe(0);
    expect(hvt.outputs['cache-hit']).toBe('partial');
    expect(actionOpamCommands(hvt.log)).not.toContain('init');
    const installed = [...plain(hvt.log).matchAll(/installed ([a-z0-9-]+)\.\S+/g)].map((m) => m[1]);
    expect(installed.length).toBeGreaterThan(0);
    expect(installed).toEqual(expect.arrayContaining(['solo5', 'ocaml-solo5']));
    expect(installed).not.toEqual(expect.arrayContaining(['mirage']));
    expect(installed).not.toEqual(expect.arrayContaining(['ocaml-system']));
    expect(opamEntries()).toHaveLength(3);
  });

  it('run 4, cache service down: one warning, a cold setup, and the job still succeeds', async () => {
    await cache.service.stop();
    const down = await run();
    expect(down.main.exitCode, down.log).toBe(0);
    expect(down.post?.exitCode).toBe(0);
    expect(down.outputs['cache-hit']).toBe('miss');
    expect(warnings(down.log)).toHaveLength(1);
    expect(warnings(down.log)[0]).toMatch(/cache: the cache service did not answer .*goes on without a cache/);
    expect(down.errors).toEqual([]);
    expect(actionOpamCommands(down.log)).toContain('init');
  });
});

describe('an opam root already on the runner (self-hosted), without the cache', () => {
  it('converges its repositories: a moved one gets set-url, an unwanted one is removed, none is added twice', async () => {
    const extra = (await makeOpamRepository(join(base, 'repo-extra'))).url;
    const moved = (await makeOpamRepository(join(base, 'repo-moved'))).url;
    const first = await run(undefined, { cache: 'false', 'opam-repositories': `fixture: ${repoUrl}\nextra: ${extra}` });
    expect(first.main.exitCode, first.log).toBe(0);
    const second = await run(undefined, { cache: 'false', 'opam-repositories': `fixture: ${moved}` }, 'tests', true);
    expect(second.main.exitCode, second.log).toBe(0);
    const repositoryCommands = [...second.log.matchAll(/^\[command\]\S*\/opam (repository \S+ \S+)/gm)].map(
      (m) => m[1],
    );
    expect(repositoryCommands).toEqual(['repository remove extra', 'repository set-url fixture']);
    expect(second.log).toContain(`opam repository set-url fixture ${moved}`);
  });
});

describe('a git repository given as opam does not write it (`file://…/x.git`, no backend)', () => {
  it('is not set again on the next run: opam lists it as `git+file://…`, the same repository', async () => {
    const gitRepo = join(base, 'repo-git.git');
    await makeOpamRepository(gitRepo);
    const git = (...args: string[]) => execFileSync('git', ['-C', gitRepo, ...args], { stdio: 'ignore' });
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'repository');
    const inputs = { cache: 'false', 'opam-repositories': `fixture: file://${gitRepo}` };
    const first = await run(undefined, inputs);
    expect(first.main.exitCode, first.log).toBe(0);
    const second = await run(undefined, inputs, 'tests', true);
    expect(second.main.exitCode, second.log).toBe(0);
    expect(second.log).not.toMatch(/^\[command\]\S*\/opam repository (?:set-url|add|remove)/m);
  });
});

describe('a compiler version prefix on a fresh root', () => {
  it('resolves `5.4` against the repositories before the switch exists, then creates the switch with it', async () => {
    const result = await run(undefined, { cache: 'false', 'ocaml-compiler': '5.4' });
    expect(result.log).toContain('compiler: ocaml-base-compiler.5.4.1 (input `ocaml-compiler`: 5.4)');
    expect(actionOpamCommands(result.log)).toContain('switch');
    // The fixture's compiler is metadata only: reaching its build is what proves the version resolved.
    expect(result.main.exitCode).toBe(1);
    expect(plain(result.log)).toContain('ocaml-base-compiler.5.4.1 is not buildable offline in the fixture');
  });
});

describe('the opam download', () => {
  it('refuses a binary whose checksum does not match, before running it', async () => {
    const before = downloads;
    const wrong = await run(undefined, { 'opam-sha256': '0'.repeat(64) });
    expect(wrong.main.exitCode).toBe(1);
    expect(downloads).toBe(before + 1);
    expect(wrong.errors.join('\n')).toMatch(
      new RegExp(
        `the opam binary from ${downloadUrl}${BINARY_PATH} has sha256 ${OPAM_SHA256}, but input \`opam-sha256\` says 0{64}; it was not used`,
      ),
    );
    expect(listTree(wrong.dirs.toolCache)).toEqual([]);
    expect(actionOpamCommands(wrong.log)).toEqual([]);
  });

  it('gives up on a download that stalls at its deadline, naming the input and the mirror input', async () => {
    const result = await run(undefined, { 'opam-download-url': `${downloadUrl}/stall` }, 'tests', false, {
      [TEST_DEADLINE_ENV]: '2000',
    });
    expect(result.main.exitCode).toBe(1);
    expect(stalled).toBeGreaterThan(0);
    expect(result.errors.join('\n')).toMatch(
      new RegExp(
        `input \`opam-version\`: the download of opam ${OPAM_VERSION} from ${downloadUrl}/stall${BINARY_PATH} ` +
          'did not finish within 2 s; the server stalled .*`opam-download-url`',
      ),
    );
    expect(listTree(result.dirs.toolCache)).toEqual([]);
    expect(actionOpamCommands(result.log)).toEqual([]);
  });

  it('refuses a version it has no checksum for, naming the input to set', async () => {
    const missing = await run(undefined, { 'opam-sha256': '' });
    expect(missing.main.exitCode).toBe(1);
    expect(missing.errors.join('\n')).toMatch(
      /input `opam-version`: the action has no checksum for opam 2\.1\.2 on linux x86_64.*set `opam-sha256`/,
    );
  });
});
