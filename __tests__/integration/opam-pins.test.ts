/**
 * `opam-pins` through the bundle (issue 19: its only tests were unit tests of the pin commands): a
 * job pins one package to a version and another to a local source, then builds; the next job on
 * the same opam root drops the second pin. Checked in the root itself with opam, not in the log alone.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SWITCH_NAME } from '../../src/opam/plan.js';
import { runProcess } from '../support/bare-repo.js';
import { commands, useFixtureScope } from '../support/fixture-action.js';
import { FIXTURES } from '../support/harness.js';

const fixture = useFixtureScope('opam-pins-');

/** `opam pin list` of the action's switch in the scope's opam root: `name.version  kind  target` lines. */
async function pinList(): Promise<string[]> {
  const r = await runProcess('opam', ['pin', 'list', '--switch', SWITCH_NAME, '--color=never'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OPAMROOT: join(fixture.base, 'opam-root'), OPAMROOTISOK: '1' },
  });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l !== '');
}

const pinCommands = (log: string) => commands(log).filter((c) => / pin (add|remove) /.test(c));

describe('opam-pins through the bundle', () => {
  it('pins a version and a local source before installing, builds, then drops a pin no longer asked for', async () => {
    // A local source of `duration`, as a fork checked out next to the workflow would be.
    const source = join(fixture.base, 'duration-fork');
    cpSync(join(FIXTURES, 'opam/src/duration'), source, { recursive: true });
    cpSync(join(FIXTURES, 'opam/packages/duration/duration.0.2.1/opam'), join(source, 'opam'));
    writeFileSync(join(source, 'duration.ml'), '(* the fork *)\n', { flag: 'a' });

    const first = await fixture.runExample({
      workspace: 'pins-1',
      inputs: { target: 'xen', cache: 'false', 'opam-pins': `fmt.0.9.0\nduration: file://${source}` },
    });
    expect(first.main.exitCode, first.log).toBe(0);
    expect(first.outputs.image).toMatch(/hello\.xen$/);
    expect(pinCommands(first.log).map((c) => c.replace(/^\S*\/opam /, 'opam '))).toEqual([
      'opam pin add --no-action fmt 0.9.0',
      `opam pin add --no-action duration file://${source}`,
    ]);
    // `--no-action`: pinned for what installs or locks next, not installed by the pin itself.
    expect(await pinList()).toEqual([
      `duration.0.2.1 (uninstalled) rsync file://${source}`,
      'fmt.0.9.0 (uninstalled) version 0.9.0',
    ]);

    const second = await fixture.runExample({
      workspace: 'pins-2',
      inputs: { target: 'xen', cache: 'false', 'opam-pins': 'fmt.0.9.0' },
    });
    expect(second.main.exitCode, second.log).toBe(0);
    expect(pinCommands(second.log).map((c) => c.replace(/^\S*\/opam /, 'opam '))).toEqual([
      'opam pin remove --no-action duration',
      'opam pin add --no-action fmt 0.9.0',
    ]);
    expect(await pinList()).toEqual(['fmt.0.9.0 (uninstalled) version 0.9.0']);
  }, 600_000);
});
