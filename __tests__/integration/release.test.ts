/**
 * scripts/release in a throwaway clone of this repository whose `origin` is a local bare
 * repository: the release commit gets `vX.Y.Z` and the major tag, a later release moves the major
 * tag, and every refusal leaves the remote as it was.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess, serverGitEnv } from '../support/bare-repo.js';
import { PROJECT_ROOT } from '../support/harness.js';

const RELEASE = join(PROJECT_ROOT, 'scripts/release');
let root: string;
let clone: string;
let remote: string;

function env(): NodeJS.ProcessEnv {
  return serverGitEnv({
    HOME: join(root, 'home'),
    GIT_AUTHOR_NAME: 'Release Tester',
    GIT_AUTHOR_EMAIL: 'release@example.invalid',
    GIT_COMMITTER_NAME: 'Release Tester',
    GIT_COMMITTER_EMAIL: 'release@example.invalid',
  });
}

async function git(args: string[], cwd = clone): Promise<string> {
  const r = await runProcess('git', args, { cwd, env: env() });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

async function release(version: string) {
  return runProcess('sh', [RELEASE, version], { cwd: clone, env: env(), timeoutMs: 120_000 });
}

/** Every ref of the remote, to prove a refused release changed nothing there. */
const remoteRefs = () => git(['for-each-ref', '--format=%(refname) %(objectname)'], remote);
const remoteCommit = (ref: string) => git(['rev-parse', `${ref}^{commit}`], remote);

async function commitAndPush(message: string): Promise<void> {
  await git(['commit', '-q', '-am', message]);
  await git(['push', '-q', 'origin', 'main']);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'mirage-deploy-release-'));
  clone = join(root, 'clone');
  remote = join(root, 'remote.git');
  const head = (await runProcess('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT })).stdout.trim();
  await git(['clone', '-q', '--no-checkout', PROJECT_ROOT, clone], root);
  await git(['checkout', '-q', '-B', 'main', head]);
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(clone, 'node_modules'));
  appendFileSync(join(clone, '.git/info/exclude'), 'node_modules\n');
  // The bundle records the paths it was built from, and node_modules here is a symlink into this
  // checkout: the clone's own bundle is committed once, as the integrator does after each merge.
  const bundle = await runProcess('node', ['scripts/bundle.mjs'], { cwd: clone, env: env(), timeoutMs: 120_000 });
  expect(bundle.code, bundle.stderr).toBe(0);
  if (await git(['status', '--porcelain'])) {
    await git(['add', '-A', 'dist']);
    await git(['commit', '-q', '-m', 'Rebuild dist/']);
  }
  await git(['init', '-q', '--bare', remote], root);
  await git(['remote', 'set-url', 'origin', remote]);
  await git(['push', '-q', 'origin', 'main']);
}, 180_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('scripts/release', () => {
  let first: string;

  it('1.0.0: one release commit with v1.0.0 and v1 on it, pushed', async () => {
    const before = await remoteCommit('main');
    const r = await release('1.0.0');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('released v1.0.0; v1 now points at it');
    first = await remoteCommit('main');
    expect(await remoteCommit('v1.0.0')).toBe(first);
    expect(await remoteCommit('v1')).toBe(first);
    expect(await git(['rev-parse', `${first}^`], remote)).toBe(before);
    expect(await git(['log', '-1', '--format=%s', first], remote)).toBe('Release v1.0.0');
    expect(await git(['cat-file', '-t', 'v1.0.0'], remote)).toBe('tag');
    const pkg = JSON.parse(await git(['show', `${first}:package.json`], remote)) as { version: string };
    const lock = JSON.parse(await git(['show', `${first}:package-lock.json`], remote)) as { version: string };
    expect([pkg.version, lock.version]).toEqual(['1.0.0', '1.0.0']);
    const changelog = await git(['show', `${first}:CHANGELOG.md`], remote);
    const today = new Date().toISOString().slice(0, 10);
    expect(changelog).toContain(`## [Unreleased]\n\n## [1.0.0] - ${today}\n`);
    expect(changelog.indexOf('## [1.0.0]')).toBeLessThan(changelog.indexOf('### Setup'));
  });

  it('refuses a second release with nothing under Unreleased', async () => {
    const refs = await remoteRefs();
    const r = await release('1.0.1');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("CHANGELOG.md's Unreleased section is empty");
    expect(await remoteRefs()).toBe(refs);
    expect(await git(['status', '--porcelain'])).toBe('');
  });

  it('1.0.1: v1 moves to the new release commit, v1.0.0 stays', async () => {
    const changelog = join(clone, 'CHANGELOG.md');
    writeFileSync(
      changelog,
      readFileSync(changelog, 'utf8').replace('## [Unreleased]\n', '## [Unreleased]\n\n- A fix.\n'),
    );
    await commitAndPush('Say what the fix changes');
    const r = await release('1.0.1');
    expect(r.code, r.stderr).toBe(0);
    const second = await remoteCommit('main');
    expect(second).not.toBe(first);
    expect(await remoteCommit('v1.0.1')).toBe(second);
    expect(await remoteCommit('v1')).toBe(second);
    expect(await remoteCommit('v1.0.0')).toBe(first);
    const text = await git(['show', `${second}:CHANGELOG.md`], remote);
    expect(text).toMatch(/## \[Unreleased\]\n\n## \[1\.0\.1\] - [0-9-]{10}\n\n- A fix\.\n\n## \[1\.0\.0\]/);
  });

  it.each([
    ['1.0', 'is not a version: give X.Y.Z'],
    ['v1.0.2', 'is not a version: give X.Y.Z'],
    ['1.0.1', 'tag v1.0.1 already exists'],
  ])('refuses %s before touching anything', async (version, message) => {
    const refs = await remoteRefs();
    const r = await release(version);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(await remoteRefs()).toBe(refs);
    expect(await git(['status', '--porcelain'])).toBe('');
  });

  it('refuses a version that is not newer, a dirty tree, another branch, and a main behind the remote', async () => {
    const refs = await remoteRefs();
    const changelog = join(clone, 'CHANGELOG.md');
    writeFileSync(
      changelog,
      readFileSync(changelog, 'utf8').replace('## [Unreleased]\n', '## [Unreleased]\n\n- Another fix.\n'),
    );
    await git(['commit', '-q', '-am', 'Another fix']);
    let r = await release('1.0.2');
    expect(r.stderr).toContain("main is not the remote's main (origin); pull or push first");
    await git(['push', '-q', 'origin', 'main']);
    const pushed = await remoteRefs();
    expect(pushed).not.toBe(refs);

    r = await release('0.9.0');
    expect(r.stderr).toContain('0.9.0 is not newer than the current version 1.0.1');
    await git(['checkout', '-q', '--', '.']);

    appendFileSync(changelog, '\nedited\n');
    r = await release('1.0.2');
    expect(r.stderr).toContain('the working tree has changes');
    await git(['checkout', '-q', '--', 'CHANGELOG.md']);

    await git(['checkout', '-q', '-b', 'topic']);
    r = await release('1.0.2');
    expect(r.stderr).toContain('releases are made from main, not `topic`');
    await git(['checkout', '-q', 'main']);
    expect(await remoteRefs()).toBe(pushed);
  });

  it('refuses a dist/ that is not the bundle of src/', async () => {
    appendFileSync(join(clone, 'dist/index.js'), '\n// edited by hand\n');
    await commitAndPush('Edit the bundle by hand');
    const refs = await remoteRefs();
    const r = await release('1.0.2');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('dist/ is not the bundle of src/: run npm run bundle, commit dist/, then release');
    expect(await remoteRefs()).toBe(refs);
    expect(await git(['status', '--porcelain'])).toBe('');
  });
});
