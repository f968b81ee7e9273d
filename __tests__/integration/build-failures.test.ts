/**
 * How the build fails, through the bundle: each failure stops the run with an error that says what
 * was found and what to do, and nothing is cached from a failed run.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkoutExample, commands, fixtureInputs, useFixtureScope } from '../support/fixture-action.js';
import { listTree } from '../support/harness.js';

const fixture = useFixtureScope('build-failures-');

async function build(name: string, inputs: Record<string, string>, config?: string) {
  const workspace = join(fixture.base, name, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const dir = checkoutExample(workspace);
  if (config !== undefined) writeFileSync(join(dir, 'config.ml'), config);
  const result = await fixture.run({
    workspace,
    env: { OPAMROOT: join(fixture.base, name, 'opam-root') },
    inputs: { ...fixtureInputs(fixture.opamRepoUrl), cache: 'false', ...inputs },
    timeoutMs: 300_000,
  });
  return { result, dir };
}

describe('build failures through the bundle', () => {
  it('a missing config file fails before any work, naming the folder it looked in', async () => {
    const { result, dir } = await build('missing', { 'config-file': 'unikernel/config.ml' });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors).toContain(
      `input \`config-file\`: \`unikernel/config.ml\` was not found in ${dir}; check \`working-directory\` and ` +
        '`config-file` (did the workflow run actions/checkout first?)',
    );
    expect(commands(result.log)).toEqual([]);
  });

  it('a target this runner cannot build fails before anything is configured, saying why and what to use', async () => {
    const { result } = await build('macosx', { target: 'macosx' });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors.join('\n')).toContain(
      'input `target`: `macosx` builds only on macOS runners, and this runner is Linux; ' +
        'use `runs-on: macos-latest` or target `unix`',
    );
    expect(commands(result.log)).toEqual([]);
    expect(listTree(result.dirs.toolCache)).toEqual([]);
  });

  it('a failing configure shows its output', async () => {
    const { result } = await build('configure', {}, 'open Mirage\nlet main = main "Unikernel.Hello" job\n');
    expect(result.main.exitCode).toBe(1);
    const error = result.errors.join('\n');
    expect(error).toContain(
      '`mirage configure -t unix -f config.ml --no-depext` failed with exit code 1: fix config.ml or input',
    );
    expect(error).toContain('mirage: [ERROR] config.ml: no `register "NAME" [...]` call found');
    expect(commands(result.log).some((c) => c.includes('/make '))).toBe(false);
    expect(result.state['caches-to-save']).toBeUndefined();
  });

  it('a build that leaves no image in dist/ fails, listing what dist/ holds', async () => {
    const { result } = await build('no-image', { 'build-command': 'true' });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors.join('\n')).toContain(
      'no image for target `unix`: expected dist/hello (name from mirage/hello-unix.opam), but dist/ holds dune; ' +
        'check that the build step builds the unikernel, or set input `image-name` to the name it registers',
    );
    expect(result.outputs.image).toBeUndefined();
  });

  it('several images in dist/ fail, listing them', async () => {
    const { result } = await build('several', {
      target: 'hvt',
      'build-command':
        "sh -c 'make build && cp mirage/hello-hvt.opam mirage/old-hvt.opam && cp dist/hello.hvt dist/old.hvt'",
    });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors.join('\n')).toContain(
      'several images for target `hvt` in dist/: hello.hvt, old.hvt (names from mirage/hello-hvt.opam, ' +
        'mirage/old-hvt.opam); set input `image-name` to the one to deploy',
    );
  });

  it('a side file, a config file or a dist/ that links outside the unikernel is refused, not published', async () => {
    const side = await build('linked-side', {
      target: 'xen',
      'build-command': "sh -c 'make build && rm dist/hello.xl && ln -s /etc/hostname dist/hello.xl'",
    });
    expect(side.result.main.exitCode).toBe(1);
    expect(side.result.errors.join('\n')).toContain(
      'not publishing the build: dist/hello.xl is a symbolic link; only files the build wrote are published',
    );
    expect(side.result.outputs.image).toBeUndefined();

    const outside = join(fixture.base, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'hello'), 'not built here\n');
    const dist = await build('linked-dist', {
      'build-command': `sh -c 'make build && rm -rf dist && ln -s ${outside} dist'`,
    });
    expect(dist.result.main.exitCode).toBe(1);
    expect(dist.result.errors.join('\n')).toContain(
      `not publishing the build: dist/hello resolves to ${outside}/hello, outside`,
    );

    const linkedConfig = join(fixture.base, 'linked-config', 'workspace');
    mkdirSync(linkedConfig, { recursive: true });
    const dir = checkoutExample(linkedConfig);
    symlinkSync(join(outside, 'hello'), join(dir, 'outside.ml'));
    const config = await fixture.run({
      workspace: linkedConfig,
      inputs: { ...fixtureInputs(fixture.opamRepoUrl), cache: 'false', 'config-file': 'outside.ml' },
    });
    expect(config.main.exitCode).toBe(1);
    expect(config.errors.join('\n')).toContain(
      `input \`config-file\`: \`outside.ml\` resolves to ${outside}/hello, outside`,
    );
    expect(commands(config.log)).toEqual([]);
  }, 300_000);
});
