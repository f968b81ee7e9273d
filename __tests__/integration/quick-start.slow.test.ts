/**
 * README's quick start on a fresh clone, as a new user runs it: `git clone` of this repository into
 * an empty temporary folder (no ../shared beside it, no node_modules, no tools/node24), with the
 * machine's Node on PATH and not tools/node24. There `bash example/run.sh` installs Node 24 and
 * the npm dependencies (from npm's local cache: tests talk to no registry), runs the action twice,
 * deploying two commits, and ends with the host command; that command, run as printed, swaps the
 * second commit's image in. README's second command (`npm test`, the whole suite) is too long to
 * run inside a test: its string is checked against the README. No output has an `EBADENGINE`.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProcess } from '../support/bare-repo.js';
import { PROJECT_ROOT } from '../support/harness.js';

const base = mkdtempSync(join(tmpdir(), 'quick-start-'));
const clone = join(base, 'mirage-deploy');
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A new user's environment: no npm variables of the test run's npm, no tools/node24 on PATH. */
function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_')));
  const path = (env.PATH ?? '').split(delimiter).filter((dir) => !dir.includes('tools/node24'));
  return { ...env, PATH: path.join(delimiter), npm_config_offline: 'true' };
}

const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Usage'));
const blocks = [...quickStart.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

describe('README quick start, on a fresh clone', () => {
  it('names the two commands, then the host command as a template', () => {
    const commands = (blocks[0] ?? '').split('\n').map((line) => line.replace(/#.*$/, '').trim());
    expect(commands.filter((c) => c !== '')).toEqual(['bash example/run.sh', 'npm test']);
    expect(blocks[1]).toMatch(/^host\/mirage-deploy-pull --repository <clone>\/\S+ .*\n$/);
  });

  it('deploys two commits, and the host command it prints swaps in the second', async () => {
    const cloned = await runProcess('git', ['clone', '--quiet', PROJECT_ROOT, clone]);
    expect(cloned.code, cloned.stderr).toBe(0);
    // The clone runs the bundle under test (`npm run bundle` before the integration tests), not the committed one.
    rmSync(join(clone, 'dist'), { recursive: true, force: true });
    cpSync(join(PROJECT_ROOT, 'dist'), join(clone, 'dist'), { recursive: true });
    expect(existsSync(join(clone, 'node_modules')) || existsSync(join(clone, 'tools/node24/node_modules'))).toBe(false);

    const env = userEnv();
    const run = await runProcess('bash', ['example/run.sh'], { cwd: clone, env, timeoutMs: 560_000 });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.code, output).toBe(0);
    expect(output).not.toContain('EBADENGINE');
    expect(output).not.toContain('install-scripts');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Offline run with stand-ins: /);
    // One line per log group, with its time; the action's own `<group>: N s` line is folded into it.
    expect(run.stdout).toMatch(/^ {2}▸ make -j\d+ build +\d+\.\ds$/m);
    expect(run.stdout).not.toMatch(/^ {2}make -j\d+ build: \d+\.\d s$/m);
    expect(run.stdout).not.toMatch(/^ {2}(Cache restored successfully|Cache Size: .*)$/m);
    expect(run.stdout).toMatch(/^ {2}cache duniverse +restored \(exact\): /m);
    expect(run.stdout).toMatch(/^ {2}total time +\d+\.\d s \(the main step\)$/m);

    const pushes = [...run.stdout.matchAll(/^=== .*; the event: a push of ([0-9a-f]{7}) /gm)].map((m) => m[1]);
    expect(pushes).toHaveLength(2);
    const repo = join(clone, '.tmp/quickstart/deployment.git');
    const folders = await runProcess('git', ['--git-dir', repo, 'ls-tree', '--name-only', 'HEAD', 'xen/']);
    const [first, second] = folders.stdout.split('\n').filter((f) => /^xen\/[0-9a-f]{40}$/.test(f));
    expect([first, second].map((f) => f?.slice(4, 11)).sort()).toEqual([...pushes].sort());
    expect(run.stdout).toMatch(/^ {2}mirage-deploy-pull: updated: xen\/[0-9a-f]{40} \(hello\.xen\) runs$/m);
    // The stand-ins say so where their values appear: versions, and the run link of the manifest.
    expect(run.stdout).toMatch(/^ {2}setup +OCaml \S+, opam \S+, mirage 4\.11\.1\+stand-in; /m);
    const manifest = await runProcess('git', ['--git-dir', repo, 'show', `HEAD:${second}/manifest.json`]);
    expect(manifest.stdout).toContain('"mirage": "4.11.1+stand-in"');
    expect(manifest.stdout).toMatch(/"url": "https:\/\/example\.localhost\/\S+\/actions\/runs\/\d+"/);
    expect(manifest.stdout).not.toContain('https://github.com/');

    // The printed command is README's template with the clone's path.
    const command = lines.at(-1) ?? '';
    expect(command).toBe((blocks[1] ?? '').trim().replaceAll('<clone>', clone));
    const host = await runProcess('sh', ['-c', command], { cwd: clone, env, timeoutMs: 60_000 });
    expect(host.code, host.stderr).toBe(0);
    const secondSha = pushes[1] ?? 'none';
    expect(host.stdout).toMatch(
      new RegExp(`^mirage-deploy-pull: swapped in xen/${secondSha}[0-9a-f]{33} .*, replacing [0-9a-f]{40}$`, 'm'),
    );
    // The stand-in image logs to stderr, as the real hello does.
    expect(`${host.stdout}${host.stderr}`).toContain('[INFO] [application] hello, updated');
    expect(`${host.stdout}${host.stderr}`).not.toContain('EBADENGINE');
    const again = await runProcess('sh', ['-c', command], { cwd: clone, env, timeoutMs: 60_000 });
    expect(again.stdout).toMatch(new RegExp(`^mirage-deploy-pull: up to date: xen/${secondSha}`, 'm'));

    // Another target's run keeps the repository and the host's state folder.
    const hvt = await runProcess('bash', ['example/run.sh', 'hvt'], { cwd: clone, env, timeoutMs: 300_000 });
    expect(hvt.code, `${hvt.stdout}\n${hvt.stderr}`).toBe(0);
    const after = await runProcess('git', ['--git-dir', repo, 'ls-tree', '--name-only', 'HEAD', 'xen/', 'hvt/']);
    expect(after.stdout).toContain(`${first}\n`);
    expect(after.stdout).toMatch(/^hvt\/latest$/m);
    expect(existsSync(join(clone, '.tmp/quickstart/host-xen/current'))).toBe(true);
  }, 900_000);
});
