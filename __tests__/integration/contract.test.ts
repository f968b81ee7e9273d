import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pathWithout } from '../support/path-without.js';
import { listTree, NODES, removeRun, runAction, type NodeName, type RunResult } from '../support/harness.js';

const runs: RunResult[] = [];
afterAll(() => runs.forEach(removeRun));

/** A workspace holding a config.ml, so that only the input under test is wrong. */
function workspaceWithConfig(): string {
  const workspace = mkdtempSync(join(tmpdir(), 'contract-ws-'));
  writeFileSync(join(workspace, 'config.ml'), 'let () = ()\n');
  return workspace;
}

async function run(node: NodeName, inputs: Record<string, string>, workspace = workspaceWithConfig()) {
  const result = await runAction({ node, inputs, workspace });
  runs.push(result);
  return result;
}

const INVALID: Array<[string, string, RegExp]> = [
  [
    'target',
    'xenn',
    /^input `target`: `xenn` is not a MirageOS target; use one of: unix, macosx, xen, qubes, hvt, spt, virtio, muen, genode, unikraft-qemu, unikraft-firecracker$/,
  ],
  ['compression', 'zip', /^input `compression`: `zip` is not a compression; use one of: bzip2, xz, gzip, none$/],
  ['keep', 'several', /^input `keep`: `several` is not a number of images; use 0 to keep all/],
  ['deploy', 'yes', /^input `deploy`: `yes` is not a boolean; use `true` or `false`$/],
  [
    'ocaml-compiler',
    'newest',
    /^input `ocaml-compiler`: `newest` is not an OCaml compiler; use a version such as `5.4`.*or `ocaml-system`$/,
  ],
];

describe.each(Object.keys(NODES) as NodeName[])('the bundle under %s', (node) => {
  it.each(INVALID)('fails on an invalid `%s` before any side effect', async (input, value, message) => {
    const result = await run(node, { [input]: value });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors).toContainEqual(expect.stringMatching(message));
    expect(result.log).toMatch(/one input is invalid; nothing was done/);
    expect(listTree(result.dirs.runnerTemp)).toEqual([]);
    expect(listTree(result.dirs.toolCache)).toEqual([]);
    // The post step still runs (post-if: always()) and must not fail on a main step that did nothing.
    expect(result.post?.exitCode).toBe(0);
  });

  it('reports every invalid input in one run', async () => {
    const result = await run(node, { target: 'xenn', compression: 'zip', keep: '-3' });
    expect(result.main.exitCode).toBe(1);
    expect(result.errors.filter((e) => e.startsWith('input `'))).toHaveLength(3);
    expect(result.log).toMatch(/3 inputs are invalid; nothing was done/);
  });

  it('reads the inputs the runner passes as INPUT_* variables', async () => {
    const workspace = workspaceWithConfig();
    // The system's opam, on a PATH without one: the run stops right after reading its inputs,
    // instead of reaching for opam's release binary or a repository beyond loopback.
    const env = { PATH: pathWithout(join(mkdtempSync(join(tmpdir(), 'contract-bin-')), 'bin'), ['opam']) };
    const result = await runAction({
      node,
      env,
      workspace,
      inputs: { target: 'unix', 'configure-args': "--net=socket 'a b'", 'rollback-to': '', 'opam-version': 'system' },
    });
    runs.push(result);
    expect(result.log).toContain('configure arguments: --net=socket a b');
    expect(result.log).toContain(`unikernel: ${workspace}/config.ml`);
    expect(result.main.exitCode).toBe(1);
    expect(result.log).not.toMatch(/downloading https?:/);
  });
});

it('runs the Node 24 binary that real runners use', async () => {
  const { execFileSync } = await import('node:child_process');
  expect(execFileSync(NODES.node24, ['--version'], { encoding: 'utf8' })).toMatch(/^v24\./);
});
