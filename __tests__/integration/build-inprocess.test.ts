/**
 * buildUnikernel in this process, against a real opam root made from the fixture repository
 * (the stand-in `mirage` CLI and opam-monorepo plugin, built by opam): configure, depend and build
 * for every target, and the image it reports checked against the file itself.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import type { RunContext } from '../../src/context.js';
import { buildUnikernel } from '../../src/mirage/index.js';
import { BuildRunner } from '../../src/sandbox/index.js';
import { TARGETS, TARGET_NAMES, type Target } from '../../src/mirage/targets.js';
import type { OpamSetup } from '../../src/types.js';
import { testContext } from '../support/context.js';
import { PROJECT_ROOT } from '../support/harness.js';
import { makeOpamRepository } from '../support/opam-repo.js';

let root: string;
let setup: OpamSetup;

function opam(env: Record<string, string>, ...args: string[]): void {
  const result = spawnSync('opam', args, { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`opam ${args.join(' ')}: ${result.stderr}${result.stdout}`);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'build-inprocess-'));
  const repo = await makeOpamRepository(join(root, 'repo'));
  const opamRoot = join(root, 'opam');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    OPAMROOT: opamRoot,
    OPAMYES: '1',
    OPAMCOLOR: 'never',
  };
  delete env.OPAMSWITCH;
  opam(env, 'init', '--bare', '-n', 'fixture', repo.url);
  opam(env, 'switch', 'create', 'fixture', 'ocaml-system');
  opam({ ...env, OPAMSWITCH: 'fixture' }, 'install', 'mirage', 'opam-monorepo');
  setup = {
    opamVersion: '2.1.2',
    ocamlVersion: '4.13.1',
    mirageVersion: '4.11.1+stand-in',
    cacheHit: 'miss',
    root: opamRoot,
    env: { ...env, OPAMSWITCH: 'fixture', PATH: `${join(opamRoot, 'fixture', 'bin')}:${env.PATH ?? ''}` },
    seconds: 1,
    opamPath: 'opam',
  };
}, 300_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function context(workspace: string, target: Target): RunContext {
  return testContext({
    workspace,
    runnerTemp: join(workspace, '..', 'temp'),
    runnerOs: target === 'macosx' ? 'macOS' : 'Linux',
  });
}

/** The build runner without bubblewrap: what this test checks is the build, not the sandbox. */
function runnerFor(ctx: RunContext): BuildRunner {
  const scratch = join(ctx.runnerTemp, 'scratch');
  mkdirSync(scratch, { recursive: true });
  return new BuildRunner('none', scratch, {
    workspace: ctx.workspace,
    opamRoot: setup.root,
    duneCacheRoot: join(root, 'dune'),
    scratch,
    home: root,
    runnerTemp: ctx.runnerTemp,
    toolCache: join(root, 'tool-cache'),
    fileCommands: [],
    readOnly: [],
    varRunIsFolder: false,
  });
}

let unikernels = 0;

/** A fresh checkout of the example in `hello/` of a new workspace. */
function unikernel(target: Target): { workspace: string; dir: string } {
  const workspace = join(root, `ws-${target}-${++unikernels}`);
  const dir = join(workspace, 'hello');
  cpSync(join(PROJECT_ROOT, 'example/hello'), dir, { recursive: true });
  return { workspace, dir };
}

describe('buildUnikernel', () => {
  it.each(TARGET_NAMES)('builds %s: configure, depend, build, and reports the image', async (target) => {
    const { workspace, dir } = unikernel(target);
    const ctx = context(workspace, target);
    const inputs: Record<string, string> = { target, 'working-directory': 'hello', cache: 'false' };
    const config = parseConfig((name) => inputs[name] ?? '', ctx);

    const image = await buildUnikernel(config, ctx, setup, runnerFor(ctx));

    expect(image.path).toBe(join(dir, 'dist', `hello${TARGETS[target].extension}`));
    expect(image.name).toBe('hello');
    expect(image.target).toBe(target);
    expect(image.sha256).toBe(createHash('sha256').update(readFileSync(image.path)).digest('hex'));
    expect(image.size).toBe(statSync(image.path).size);
    const expectedSides = TARGETS[target].sideFiles.map((f) => join(dir, f.replaceAll('<name>', 'hello')));
    expect(image.sideFiles).toEqual(expectedSides);
    for (const side of image.sideFiles) expect(existsSync(side)).toBe(true);
    // the boot test is a step of every build: it runs, or says why it cannot (its time is taken either way)
    expect(Object.keys(image.timings)).toEqual(['configure', 'depend', 'build', 'boot test']);
    expect(existsSync(join(dir, 'duniverse', 'duration'))).toBe(true);
    expect(existsSync(join(dir, `mirage/hello-${target}.opam.locked`))).toBe(true);
    // The stand-in's images are host programs: running one proves the build linked the unikernel.
    const ran = spawnSync(image.path, [], { encoding: 'utf8' });
    expect(ran.status).toBe(0);
    expect(ran.stderr).toContain('hello');
  });
});

describe('buildUnikernel with `-o`', () => {
  it('finds the renamed image, and the side files under the name config.ml registers', async () => {
    const { workspace, dir } = unikernel('xen');
    const ctx = context(workspace, 'xen');
    const inputs: Record<string, string> = {
      target: 'xen',
      'working-directory': 'hello',
      'configure-args': '-o www',
      cache: 'false',
    };
    const image = await buildUnikernel(
      parseConfig((name) => inputs[name] ?? '', ctx),
      ctx,
      setup,
      runnerFor(ctx),
    );
    expect(image.path).toBe(join(dir, 'dist', 'www.xen'));
    expect(image.name).toBe('www');
    expect(image.sideFiles).toEqual(
      ['dist/hello.xl', 'dist/hello.xl.in', 'mirage/hello_libvirt.xml'].map((f) => join(dir, f)),
    );
  });
});
