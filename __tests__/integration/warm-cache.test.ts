/**
 * Warm runs through the bundle, against real opam with the offline fixture repository, the stand-in
 * mirage CLI and opam-monorepo, and the real @actions/cache client talking to the loopback cache
 * service on Azurite. Every `opam` the action, make or opam-monorepo starts goes through a shim
 * first on PATH that records its arguments, so the tests see what a warm run asks of opam.
 *
 * Run 1 is cold; run 2 an exact hit that locks, installs and pulls nothing; run 3 the first of a new
 * `cache-refresh` period, after the repository gained versions (a partial hit that updates, upgrades
 * what changed and locks again); run 4 the same period again (exact); run 5 another new period in
 * which no locked package changed (updated and upgraded, the lock kept), and one in which no
 * repository changed (updated, nothing upgraded).
 */
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCacheService } from '../support/cache-scope.js';
import { checkoutExample, commands, fixtureInputs, useFixtureScope } from '../support/fixture-action.js';
import type { RunResult } from '../support/harness.js';
import { makeOpamRepository } from '../support/opam-repo.js';

const fixture = useFixtureScope('warm-cache-');
const cache = useCacheService();
let shimDir: string;
let opamLog: string;

const SYSTEM_OCAML = execFileSync('ocamlc', ['-vnum'], { encoding: 'utf8' }).trim();

beforeAll(async () => {
  shimDir = join(fixture.base, 'shim');
  // In the workspace: the build sandbox lets opam (and this shim) write nowhere else.
  opamLog = join(fixture.base, 'workspace', '.opam-calls.log');
  mkdirSync(shimDir, { recursive: true });
  const realOpam = execFileSync('sh', ['-c', 'command -v opam'], { encoding: 'utf8' }).trim();
  writeFileSync(join(shimDir, 'opam'), `#!/bin/sh\nprintf '%s\\n' "$*" >> "$OPAM_CALLS_LOG"\nexec ${realOpam} "$@"\n`);
  chmodSync(join(shimDir, 'opam'), 0o755);
}, 120_000);

/** A fresh runner at the same paths each time: no opam root, a clean checkout of the example. */
async function run(
  inputs: Record<string, string> = {},
  configEdit?: (text: string) => string,
): Promise<{ result: RunResult; dir: string; opam: string[] }> {
  const workspace = join(fixture.base, 'workspace');
  const opamRoot = join(fixture.base, 'opam-root');
  rmSync(workspace, { recursive: true, force: true });
  rmSync(opamRoot, { recursive: true, force: true });
  mkdirSync(workspace, { recursive: true });
  writeFileSync(opamLog, '');
  const dir = checkoutExample(workspace);
  if (configEdit) writeFileSync(join(dir, 'config.ml'), configEdit(readFileSync(join(dir, 'config.ml'), 'utf8')));
  const result = await fixture.run({
    workspace,
    env: {
      ...cache.service.env,
      OPAMROOT: opamRoot,
      OPAM_CALLS_LOG: opamLog,
      PATH: `${shimDir}:${process.env.PATH ?? ''}`,
    },
    inputs: { ...fixtureInputs(fixture.opamRepoUrl), ...inputs },
    timeoutMs: 300_000,
  });
  const opam = readFileSync(opamLog, 'utf8').split('\n').filter(Boolean);
  return { result, dir, opam };
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const opamEntries = () => cache.service.entries().filter((e) => e.finalized && e.key.startsWith('v1-opam-'));
const plain = (log: string): string => log.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
/** opam invocations that read or change the repositories or the switch's packages. */
const repositoryWork = (opam: readonly string[]) =>
  opam.filter((args) => /^(repo|repository|install|update|upgrade|init|switch create|monorepo lock)\b/.test(args));
const makeTargets = (log: string) =>
  commands(log)
    .map((c) => / -j\d+ (\S+)$/.exec(c)?.[1])
    .filter((t) => t !== undefined);

/** A newer version of `name` in the materialized fixture repository, with the same sources. */
function publish(name: string, from: string, to: string): void {
  const packages = join(fixture.base, 'opam-repository', 'packages', name);
  cpSync(join(packages, `${name}.${from}`), join(packages, `${name}.${to}`), { recursive: true });
}

describe('warm runs from the opam cache', { timeout: 300_000 }, () => {
  let coldImage: string;

  it('run 1, cold: locks and installs; the saved root keeps opam’s repository cache, and the key names the system OCaml', async () => {
    const { result, dir, opam } = await run();
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs['cache-hit']).toBe('miss');
    expect(makeTargets(result.log)).toEqual(['lock', 'install-switch', 'pull', 'build']);
    expect(result.log).toContain('`make lock` and `make install-switch` run: the opam root was a miss');
    expect(opam).toContainEqual(expect.stringMatching(/^monorepo lock /));
    coldImage = sha256(join(dir, 'dist', 'hello'));

    expect(result.post?.exitCode).toBe(0);
    // What `opam clean --download-cache --logs` would remove, removed by the post step itself: it
    // runs no opam on a root the build wrote.
    expect(result.log).toMatch(/^cache opam: removed \S*\/download-cache before saving$/m);
    expect(commands(result.post?.stdout ?? '').filter((c) => /\/opam /.test(c))).toEqual([]);
    const [entry] = opamEntries();
    expect(opamEntries()).toHaveLength(1);
    expect(entry?.key).toContain(`-ocamlsystem${SYSTEM_OCAML}-`);
    expect(entry?.key).not.toContain('ocaml-system');
    expect(entry?.key).toMatch(/-t\d{4}w\d{2}$/);
  });

  it('run 2, same inputs on a fresh runner: an exact hit that runs no repository, install or lock command and builds the same image', async () => {
    const { result, dir, opam } = await run();
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs['cache-hit']).toBe('exact');
    expect(repositoryWork(opam)).toEqual([]);
    expect(result.log).toContain('mirage/hello-unix.opam.locked restored with the opam root');
    expect(result.log).toContain('`make lock` skipped');
    expect(result.log).toContain('`make install-switch` skipped: the switch is exactly the cached one');
    expect(result.log).toContain('`make pull` skipped');
    // System packages are the action's, outside the build: the Makefile has no depext step.
    expect(makeTargets(result.log)).toEqual(['build']);
    expect(opam).not.toContainEqual(expect.stringMatching(/^monorepo depext\b/));
    expect(sha256(join(dir, 'dist', 'hello'))).toBe(coldImage);
    expect(result.outputs['image-sha256']).toBe(coldImage);
    expect(opamEntries()).toHaveLength(1);
  });

  it('run 3, a new cache-refresh period after the repository moved on: a partial hit that updates, upgrades only what changed and locks again', async () => {
    publish('opam-monorepo', '0.4.1+stand-in', '0.4.2+stand-in');
    publish('duration', '0.2.1', '0.2.2');
    const { result, dir, opam } = await run({ 'cache-refresh': 'fixed:next' });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs['cache-hit']).toBe('partial');
    expect(result.log).toMatch(/cache-refresh: the restored root is of period t\d{4}w\d{2}, this run's is tnext/);
    expect(opam).toContainEqual(expect.stringMatching(/^update\b/));
    expect(opam).toContain('upgrade');
    expect(opam).not.toContainEqual(expect.stringMatching(/^(init|switch create)\b/));
    const log = plain(result.log);
    // The one switch package with a new version is the one rebuilt.
    expect([...log.matchAll(/upgrade (\S+ \S+ to \S+)$/gm)].map((m) => m[1])).toEqual([
      'opam-monorepo 0.4.1+stand-in to 0.4.2+stand-in',
    ]);
    expect([...log.matchAll(/ installed (\S+)$/gm)].map((m) => m[1])).toEqual(['opam-monorepo.0.4.2+stand-in']);
    // A fresh lock: the unikernel's library at its new version, pulled into the duniverse.
    expect(log).toContain(
      'cache-refresh: the unikernel is locked again: the repositories have other versions of locked packages: duration.0.2.2',
    );
    expect(makeTargets(result.log)).toEqual(['lock', 'install-switch', 'pull', 'build']);
    expect(readFileSync(join(dir, 'mirage', 'hello-unix.opam.locked'), 'utf8')).toMatch(/"duration" \{= "0\.2\.2"/);
    expect(readdirSync(join(dir, 'duniverse'))).toContain('duration');
    expect(result.post?.exitCode).toBe(0);
    expect(opamEntries().map((e) => e.key)).toContainEqual(expect.stringMatching(/-tnext$/));
  });

  let refreshedLock: string;
  let refreshedImage: string;

  it('run 4, the same period again: an exact hit with the refreshed lock', async () => {
    const { result, dir, opam } = await run({ 'cache-refresh': 'fixed:next' });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs['cache-hit']).toBe('exact');
    expect(repositoryWork(opam)).toEqual([]);
    expect(makeTargets(result.log)).toEqual(['build']);
    refreshedLock = readFileSync(join(dir, 'mirage', 'hello-unix.opam.locked'), 'utf8');
    expect(refreshedLock).toMatch(/"duration" \{= "0\.2\.2"/);
    refreshedImage = sha256(join(dir, 'dist', 'hello'));
  });

  it('run 5, a new period in which only a package outside the lock changed: updated and upgraded, but not locked, installed or pulled again', async () => {
    expect(refreshedLock).not.toContain('"mirage-xen"');
    publish('mirage-xen', '9.0.1', '9.0.2');
    const { result, dir, opam } = await run({ 'cache-refresh': 'fixed:later' });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs['cache-hit']).toBe('partial');
    expect(opam).toContainEqual(expect.stringMatching(/^update\b/));
    expect(opam).toContain('upgrade');
    const log = plain(result.log);
    expect(log).toMatch(/cache-refresh: no locked package \(of \d+\) changed in the repositories/);
    expect(opam).not.toContainEqual(expect.stringMatching(/^monorepo lock /));
    expect(makeTargets(result.log)).toEqual(['build']);
    expect(log).toContain('`make pull` skipped');
    expect(readFileSync(join(dir, 'mirage', 'hello-unix.opam.locked'), 'utf8')).toBe(refreshedLock);
    expect(result.outputs['image-sha256']).toBe(refreshedImage);
    // the locked packages are read twice: from the restored index before the update, and after it
    expect(opam.filter((args) => /^(list --all --all-versions|show --raw) /.test(args))).toHaveLength(4);
    expect(result.post?.exitCode).toBe(0);
    expect(opamEntries().map((e) => e.key)).toContainEqual(expect.stringMatching(/-tlater$/));
  });

  it('run 6, a new period in which no repository changed: updated, but nothing upgraded, installed, locked or pulled', async () => {
    const { result, dir, opam } = await run({ 'cache-refresh': 'fixed:unchanged' });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs['cache-hit']).toBe('partial');
    expect(opam).toContainEqual(expect.stringMatching(/^update\b/));
    const log = plain(result.log);
    expect(log).toMatch(/\[fixture\] no changes from /);
    expect(log).toContain('cache-refresh: no repository changed since the restored root: no upgrade');
    expect(opam).not.toContain('upgrade');
    expect(log).toMatch(/mirage \{[^}]+\} and opam-monorepo: in the switch, and no repository changed: no install/);
    expect(repositoryWork(opam).filter((args) => args.startsWith('install '))).toEqual([]);
    expect(log).toMatch(/cache-refresh: no locked package \(of \d+\) changed in the repositories/);
    // read once, from the restored index: an unchanged repository cannot change them
    expect(opam.filter((args) => /^(list --all --all-versions|show --raw) /.test(args))).toHaveLength(2);
    expect(opam).not.toContainEqual(expect.stringMatching(/^monorepo lock /));
    expect(makeTargets(result.log)).toEqual(['build']);
    expect(result.outputs['image-sha256']).toBe(refreshedImage);
    expect(readFileSync(join(dir, 'mirage', 'hello-unix.opam.locked'), 'utf8')).toBe(refreshedLock);
  });
});

describe('mirage overlay repositories and a partial hit', { timeout: 300_000 }, () => {
  it('the overlay `make lock` adds and `make repo-rm` unselects stays known: the next partial hit neither removes nor fetches it anew', async () => {
    const overlay = (await makeOpamRepository(join(fixture.base, 'overlay'))).url;
    const inputs = { 'cache-prefix': 'overlay', 'configure-args': `--extra-repos=overlay:${overlay}` };
    const first = await run(inputs);
    expect(first.result.main.exitCode, first.result.log).toBe(0);
    expect(first.result.outputs['cache-hit']).toBe('miss');
    expect(first.opam).toContain(`repo add overlay ${overlay}`);
    expect(plain(first.result.log)).toContain('[overlay] Initialised');

    const partial = await run(inputs, (text) =>
      text.replace('package "duration"', 'package "duration"; package "fmt"'),
    );
    expect(partial.result.main.exitCode, partial.result.log).toBe(0);
    expect(partial.result.outputs['cache-hit']).toBe('partial');
    expect(partial.opam).not.toContainEqual(expect.stringMatching(/^repository remove overlay\b/));
    // make lock selects it again; opam still has it, so nothing is initialised from scratch.
    expect(partial.opam).toContain(`repo add overlay ${overlay}`);
    expect(plain(partial.result.log)).not.toContain('[overlay] Initialised');
    expect(plain(partial.result.log)).toContain('[overlay] no changes');
  });
});
