/**
 * An image does not depend on the folder it was built in: two unikernel folders of one repository
 * (the same source) built one after the other on fresh runners through the Actions cache give the
 * same image, and the reproducibility check, which rebuilds in a copy of the folder elsewhere, passes.
 * The stand-in mirage compiles with `ocamlopt -g`, whose debug information names the folder it
 * compiled in, as the real toolchain's does (the first test shows it): the folder is mapped
 * (BUILD_PATH_PREFIX_MAP) or the images differ. What maps a real build's C stubs is shown with
 * dune in __tests__/mirage/path-map.test.ts.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCacheService } from '../support/cache-scope.js';
import { fixtureInputs, useFixtureScope } from '../support/fixture-action.js';
import { PROJECT_ROOT } from '../support/harness.js';

const fixture = useFixtureScope('build-folders-');
const cache = useCacheService();

/** A fresh runner: a checkout holding the same unikernel in `one/` and `two/`, no opam root. */
function job(folder: 'one' | 'two', inputs: Record<string, string> = {}) {
  const workspace = join(fixture.base, 'workspace');
  const opamRoot = join(fixture.base, 'opam-root');
  rmSync(workspace, { recursive: true, force: true });
  rmSync(opamRoot, { recursive: true, force: true });
  for (const name of ['one', 'two']) {
    mkdirSync(join(workspace, name), { recursive: true });
    cpSync(join(PROJECT_ROOT, 'example/hello'), join(workspace, name), { recursive: true });
  }
  return fixture.run({
    workspace,
    env: { ...cache.service.env, OPAMROOT: opamRoot },
    inputs: { ...fixtureInputs(fixture.opamRepoUrl), 'working-directory': folder, ...inputs },
    timeoutMs: 300_000,
  });
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** The folder part of the dune cache key the run looked for. */
const duneFolder = (log: string) => /^cache dune: looking for \S+-dune-\S+?-(f[0-9a-f]{12})-/m.exec(log)?.[1];

describe('the build folder', { timeout: 300_000 }, () => {
  let first: { sha256: string; duneFolder: string | undefined };

  it('job 1 builds one/: its image names no folder of the runner', async () => {
    const result = await job('one');
    expect(result.main.exitCode, result.log).toBe(0);
    const image = readFileSync(join(fixture.base, 'workspace', 'one', 'dist', 'hello'));
    first = { sha256: sha256(image), duneFolder: duneFolder(result.log) };
    expect(first.duneFolder).toBeDefined();
    expect(result.outputs['image-sha256']).toBe(first.sha256);
    // The stand-in's image records where it was compiled, as a real one does; here, mapped.
    const text = image.toString('latin1');
    expect(text).toContain('/unikernel/_build/default');
    expect(text).not.toContain(join(fixture.base, 'workspace'));
    // the C compiler's map, for a real build's stubs (the stand-in compiles no C)
    expect(readFileSync(join(fixture.base, 'workspace', 'one', 'dune-workspace'), 'utf8')).toContain(
      '(c_flags (:standard -ffile-prefix-map=%{env:MIRAGE_DEPLOY_UNIKERNEL=/nonexistent}=/unikernel))',
    );
    expect(result.post?.exitCode).toBe(0);
  });

  it('job 2 builds two/ after one/ was cached: the same image, and `reproducible: strict` (a rebuild in another folder) passes', async () => {
    const result = await job('two', { reproducible: 'strict' });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs['cache-hit']).toBe('exact');
    expect(result.outputs['image-sha256']).toBe(first.sha256);
    expect(sha256(readFileSync(join(fixture.base, 'workspace', 'two', 'dist', 'hello')))).toBe(first.sha256);
    expect(result.outputs.reproducible).toBe('true');
    expect(result.log).toMatch(
      /reproducible: the second build's image, in \S*mirage-deploy-build-\S+\/rebuild-\S+\/two, has the same sha256/,
    );
    expect(result.post?.exitCode).toBe(0);
    // dune's cache is kept per folder: the C compiler's folder is not mapped.
    expect(duneFolder(result.log)).toBeDefined();
    expect(duneFolder(result.log)).not.toBe(first.duneFolder);
  });
});
