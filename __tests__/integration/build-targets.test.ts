/**
 * The build through the bundle, for every target a Linux runner builds: setup from the offline
 * opam repository fixture (Debian's OCaml as ocaml-system, the stand-in mirage CLI and
 * opam-monorepo), then configure, lock, install-switch, pull and build, with the real
 * @actions/cache client against the loopback cache service and Azurite. A second run of each
 * target, on a fresh runner, restores duniverse/ and does not pull.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TARGETS, TARGET_NAMES, type Target } from '../../src/mirage/targets.js';
import { useCacheService } from '../support/cache-scope.js';
import { checkoutExample, commands, fixtureInputs, useFixtureScope } from '../support/fixture-action.js';
import { summaryTableRows, summaryValues } from '../support/summary-table.js';

const fixture = useFixtureScope('build-targets-');
const cache = useCacheService();

/**
 * A fresh runner at the same paths as the last one for this name (as hosted runners are): no opam
 * root, a clean checkout of the example in `hello/`.
 */
async function build(name: string, inputs: Record<string, string>, env: Record<string, string> = {}) {
  const workspace = join(fixture.base, name, 'workspace');
  const opamRoot = join(fixture.base, name, 'opam-root');
  rmSync(workspace, { recursive: true, force: true });
  rmSync(opamRoot, { recursive: true, force: true });
  mkdirSync(workspace, { recursive: true });
  const dir = checkoutExample(workspace);
  const result = await fixture.run({
    workspace,
    env: { ...cache.service.env, OPAMROOT: opamRoot, ...env },
    inputs: { ...fixtureInputs(fixture.opamRepoUrl), ...inputs },
    timeoutMs: 300_000,
  });
  return { result, dir };
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const entries = (prefix: string) => cache.service.entries().filter((e) => e.finalized && e.key.startsWith(prefix));

const LINUX_TARGETS = TARGET_NAMES.filter((t) => (TARGETS[t].buildsOn as readonly string[]).includes('Linux'));

describe.each(LINUX_TARGETS)('target %s through the bundle', (target: Target) => {
  const image = `hello${TARGETS[target].extension}`;

  it('configures, locks, installs, pulls and builds; the outputs describe the image on disk', async () => {
    const { result, dir } = await build(target, { target });
    expect(result.main.exitCode, result.log).toBe(0);

    const path = join(dir, 'dist', image);
    expect(result.outputs.image).toBe(path);
    expect(result.outputs['image-sha256']).toBe(sha256(path));
    expect(result.outputs['image-size']).toBe(String(statSync(path).size));

    const ran = commands(result.log).filter((c) => /\/(mirage|make) /.test(c));
    expect(ran).toEqual([
      expect.stringMatching(new RegExp(`/mirage configure -t ${target} -f config\\.ml --no-depext$`)),
      expect.stringMatching(/\/make -j\d+ lock$/),
      expect.stringMatching(/\/make -j\d+ install-switch$/),
      expect.stringMatching(/\/make -j\d+ pull$/),
      expect.stringMatching(/\/make -j\d+ build$/),
    ]);
    for (const group of [`mirage configure -t ${target}`, 'depend: make', 'make -j']) {
      expect(result.log).toContain(`::group::${group}`);
    }
    expect(result.log).toMatch(/^cache duniverse: miss$/m);
    for (const side of TARGETS[target].sideFiles) {
      expect(existsSync(join(dir, side.replace('<name>', 'hello'))), side).toBe(true);
    }

    expect(result.summary).toContain(`<h3>mirage-deploy: ${target} (hello)</h3>`);
    expect(summaryTableRows(result.summary)[0]).toEqual(['what', 'this run']);
    const values = summaryValues(result.summary);
    expect(values.target).toBe(target);
    expect(values.image).toBe(`hello/dist/${image}`);
    expect(values.sha256).toBe(sha256(path));
    expect(values.time).toMatch(
      /^setup \d+\.\d s, configure \d+\.\d s, depend \d+\.\d s, build \d+\.\d s, boot test \d+\.\d s$/,
    );
    expect(result.post?.exitCode).toBe(0);
    expect(entries(`v1-duniverse-Linux-${target}-`)).toHaveLength(1);
  });

  it('a second run on a fresh runner restores duniverse/ from the cache and pulls nothing', async () => {
    const { result, dir } = await build(target, { target });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.log).toMatch(/^cache duniverse: exact$/m);
    expect(result.log).toContain('`make pull` skipped');
    expect(commands(result.log).some((c) => / pull$/.test(c))).toBe(false);
    expect(result.log).not.toContain('Pulling duration');
    expect(existsSync(join(dir, 'duniverse', 'duration'))).toBe(true);

    const path = join(dir, 'dist', image);
    expect(result.outputs['image-sha256']).toBe(sha256(path));
    // An exact hit already has its entry: nothing new is saved.
    expect(result.log).toMatch(/cache duniverse: not saved: restored from its exact key/);
    expect(entries(`v1-duniverse-Linux-${target}-`)).toHaveLength(1);
  });
});

describe('dune cache', () => {
  // The stand-in mirage does not run dune, so the build command fills dune's cache folder as dune
  // would: what matters here is that the folder travels through the cache between runners.
  const inputs = {
    target: 'unix',
    'build-command': `sh -c 'make build && mkdir -p "$DUNE_CACHE_ROOT/files/v4" && cp dist/hello "$DUNE_CACHE_ROOT/files/v4/"'`,
  };

  it('is enabled for the build, saved after a successful run and restored on the next runner', async () => {
    const duneRoot = join(fixture.base, 'dune-cache');
    const first = await build('dune', inputs, { DUNE_CACHE_ROOT: duneRoot });
    expect(first.result.main.exitCode, first.result.log).toBe(0);
    expect(first.result.log).toMatch(/^cache dune: miss$/m);
    // keyed by the unikernel's folder too (cache/keys.ts duneCacheKeys)
    const dune = () =>
      entries('v1-dune-Linux-X64-f').filter((e) => /^v1-dune-Linux-X64-f[0-9a-f]{12}-unix-/.test(e.key));
    expect(dune(), first.result.log).toHaveLength(1);
    const [saved] = dune();
    // Main's table says what was restored, the post step's what was saved.
    expect(first.result.summary).toContain('<h3>mirage-deploy: unix (hello): post step</h3>');
    expect(summaryTableRows(first.result.summary)).toEqual(
      expect.arrayContaining([
        ['cache dune', `not found (miss): ${saved?.key}`],
        ['cache', 'saved?'],
        ['cache dune', `saved: ${saved?.key}`],
      ]),
    );

    rmSync(duneRoot, { recursive: true, force: true });
    const second = await build('dune', { ...inputs, 'build-command': 'make build' }, { DUNE_CACHE_ROOT: duneRoot });
    expect(second.result.main.exitCode, second.result.log).toBe(0);
    expect(second.result.log).toMatch(/^cache dune: exact$/m);
    expect(summaryTableRows(second.result.summary)).toEqual(
      expect.arrayContaining([
        ['cache dune', `restored (exact): ${saved?.key}`],
        ['cache dune', `not saved: restored from its exact key ${saved?.key}, so there is nothing new to save`],
      ]),
    );
    expect(sha256(join(duneRoot, 'files/v4/hello'))).toBe(first.result.outputs['image-sha256']);
    // The cache client's own lines (download, size, tar) stay inside the restore's group.
    expect(groupOf(second.result.log, 'Cache restored successfully')).toEqual([
      'Restore the opam root',
      'Restore the duniverse cache',
      'Restore the dune cache',
    ]);
  });

  it('says in the summary why it saves nothing when the build made no dune cache', async () => {
    const duneRoot = join(fixture.base, 'no-dune-cache');
    const { result } = await build('no-dune', { target: 'unix' }, { DUNE_CACHE_ROOT: duneRoot });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(summaryTableRows(result.summary)).toContainEqual([
      'cache dune',
      'nothing to save: the build made no dune cache (dune did not run, or ran without its cache)',
    ]);
    const values = summaryValues(result.summary);
    expect(values.SBOM).toMatch(/^hello\/dist\/mirage-deploy\/hello\.cdx\.json \(\d+ packages\)$/);
    expect(values['total time']).toMatch(/^\d+\.\d s \(the main step\)$/);
  });
});

/** The log groups that hold a line equal to `text`, in order. */
function groupOf(log: string, text: string): string[] {
  let group = '';
  const found: string[] = [];
  for (const line of log.split('\n')) {
    if (line.startsWith('::group::')) group = line.slice('::group::'.length);
    else if (line === '::endgroup::') group = '';
    else if (line === text) found.push(group);
  }
  return found;
}
