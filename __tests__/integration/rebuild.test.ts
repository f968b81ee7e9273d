/**
 * `rebuild: <directory>/<sha>` through the bundle, over sshd, with the offline opam fixture: a unix
 * deploy of example/hello rebuilt on a fresh runner (its own opam root, no cache) is `identical`
 * and pushes nothing; a build whose image changes every run is `different`, naming the first
 * differing byte; a recorded repository URL other than the workflow's, a checkout at another
 * commit and mismatched inputs are refused before anything is built.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/deploy/manifest.js';
import { firstDifference } from '../../src/mirage/reproducible.js';
import { createBareRepo, snapshotRepo } from '../support/bare-repo.js';
import { sshDeployInputs } from '../support/deploy-scenario.js';
import { commands, useFixtureScope } from '../support/fixture-action.js';
import { makeOpamRepository } from '../support/opam-repo.js';
import type { RunOptions, RunResult } from '../support/harness.js';
import { summaryTableRows, summaryValues } from '../support/summary-table.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const DEPLOYED = '8123456789abcdef0123456789abcdef01234567';
const CHANGING = '9123456789abcdef0123456789abcdef01234567';
const FROM_GIT = 'a123456789abcdef0123456789abcdef01234567';
const CHANGING_BUILD = 'sh -c "make build && head -c 16 /dev/urandom >> dist/hello"';

const fixture = useFixtureScope('rebuild-');
let repo: string;
let sshd: SshdServer;

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
});

/** A deploy of the unix image of `sha`, on the file's shared opam root, without a cache. */
function deploy(
  sha: string,
  inputs: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<RunResult> {
  return fixture.runExample({
    workspace: `deploy-${sha.slice(0, 4)}`,
    sha,
    inputs: { target: 'unix', cache: 'false', deploy: 'true', ...sshDeployInputs(sshd), ...inputs },
    env,
  });
}

/** A rebuild job on a fresh runner: its own workspace and opam root, the deploy key to read with. */
function rebuild(
  name: string,
  what: string,
  inputs: Record<string, string> = {},
  prepare?: (dir: string) => void,
  options: Pick<RunOptions, 'onStart' | 'onLine'> = {},
): Promise<RunResult> {
  return fixture.runExample({
    workspace: `rebuild-${name}`,
    opamRoot: `opam-root-${name}`,
    sha: DEPLOYED,
    inputs: { target: 'unix', rebuild: what, ...sshDeployInputs(sshd), ...inputs },
    ...(prepare ? { prepare } : {}),
    ...options,
  });
}

/** The deploy keys on disk in a run's RUNNER_TEMP (`mirage-deploy-credentials-*` /key). */
const keysIn = (runnerTemp: string): string[] =>
  readdirSync(runnerTemp)
    .filter((d) => d.startsWith('mirage-deploy-credentials-'))
    .filter((d) => existsSync(join(runnerTemp, d, 'key')));

/** The programs a refused run must not have started: opam, mirage, make. */
const buildCommands = (log: string) => commands(log).filter((c) => /(^|\/)(opam|mirage|make) /.test(c));

/** The unpacked image a deploy stored in `<folder>/`, read from the bare repository. */
function storedImage(folder: string, file: string): Buffer {
  const big = { maxBuffer: 1 << 30 };
  const compressed = execFileSync('git', ['--git-dir', repo, 'show', `main:${folder}/${file}.bz2`], big);
  return execFileSync('bzip2', ['-dc'], { input: compressed, ...big });
}

describe('rebuild: <directory>/<sha>', () => {
  let deployed: RunResult;

  beforeAll(async () => {
    deployed = await deploy(DEPLOYED);
    expect(deployed.main.exitCode, deployed.log).toBe(0);
  }, 300_000);

  it('on a fresh runner without a cache gives the deployed image: identical, nothing pushed, no cache', async () => {
    const before = await snapshotRepo(repo);
    // Looked at when the first opam command starts: the key was only needed to read the folder.
    let runnerTemp = '';
    let keysAtSetup: string[] | undefined;
    const run = await rebuild('fresh', `unix/${DEPLOYED}`, {}, undefined, {
      onStart: (step, _pid, dirs) => (runnerTemp = step === 'main' ? dirs.runnerTemp : runnerTemp),
      onLine: (step, line) => {
        if (step === 'main' && keysAtSetup === undefined && /^\[command\]\S*\/opam /.test(line)) {
          keysAtSetup = keysIn(runnerTemp);
        }
      },
    });
    expect(run.main.exitCode, run.log).toBe(0);
    expect(keysAtSetup).toEqual([]);
    expect(run.outputs.rebuild).toBe('identical');
    const manifest = parseManifest(
      execFileSync('git', ['--git-dir', repo, 'show', `main:unix/${DEPLOYED}/manifest.json`], { encoding: 'utf8' }),
    );
    expect(run.outputs['image-sha256']).toBe(manifest?.images['hello.bz2']?.sha256);
    const values = summaryValues(run.summary);
    expect(values.rebuild).toBe(`identical: sha256 ${run.outputs['image-sha256']}, as recorded in unix/${DEPLOYED}`);
    expect(values['rebuild facts']).toBe("the recorded facts are this runner's");
    expect(run.outputs.deployed).toBeUndefined();
    expect(await snapshotRepo(repo)).toBe(before);
    // from scratch: opam set up in the empty root, no cache asked for or saved
    expect(commands(run.log).some((c) => /opam init /.test(c))).toBe(true);
    // with `cache` left at its default (on), a job without a cache service would say so in a `cache …` row
    expect(summaryTableRows(run.summary).filter(([name]) => name?.startsWith('cache '))).toEqual([]);
    expect(run.log).not.toMatch(/^cache [\w-]+: looking for/m);
    expect(run.outputs['cache-hit']).toBe('miss');
    expect(run.outputs.sandbox).toBe('bubblewrap');
    // the recorded lock file, not a new lock: `make lock` skipped, the switch installed from it
    expect(run.log).toContain("mirage/hello-unix.opam.locked from the rebuilt folder's record: `make lock` skipped");
    expect(readFileSync(join(run.dirs.workspace, 'hello', 'mirage', 'hello-unix.opam.locked'), 'utf8')).toBe(
      execFileSync('git', ['--git-dir', repo, 'show', `main:unix/${DEPLOYED}/hello.opam.locked`], { encoding: 'utf8' }),
    );
    expect(run.log).toMatch(/make install-switch/);
  }, 400_000);

  it("refuses a recorded repository URL other than the workflow's, before anything is built", async () => {
    const before = await snapshotRepo(repo);
    const elsewhere = `file://${join(fixture.base, 'elsewhere')}`;
    const run = await rebuild('url', 'unix/latest', { 'opam-repositories': `fixture: ${elsewhere}` });
    expect(run.main.exitCode).not.toBe(0);
    expect(run.log).toContain(
      `input \`opam-repositories\`: repository 1 is recorded as \`fixture: ${fixture.opamRepoUrl}\`, the workflow gives \`fixture: ${elsewhere}\``,
    );
    expect(run.log).toMatch(new RegExp(`not rebuilding unix/${DEPLOYED}, nothing was built`));
    expect(buildCommands(run.log)).toEqual([]);
    expect(existsSync(join(run.dirs.workspace, 'hello', 'dist'))).toBe(false);
    expect(run.outputs.rebuild).toBeUndefined();
    expect(await snapshotRepo(repo)).toBe(before);
  }, 120_000);

  it('refuses a checkout at another commit, naming actions/checkout and the ref to give', async () => {
    let head = '';
    const run = await rebuild('checkout', `unix/${DEPLOYED}`, {}, (dir) => {
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-C', dir, ...args], {
          encoding: 'utf8',
        });
      git('init', '-q');
      git('add', '.');
      git('commit', '-q', '-m', 'another commit');
      head = git('rev-parse', 'HEAD').trim();
    });
    expect(run.main.exitCode).not.toBe(0);
    expect(run.log).toContain(
      `the checkout is at ${head}, but unix/${DEPLOYED} was built from ${DEPLOYED}; check that commit out (\`actions/checkout\` with \`ref: ${DEPLOYED}\`)`,
    );
    expect(buildCommands(run.log)).toEqual([]);
  }, 120_000);

  it('refuses inputs other than the recorded ones, naming each', async () => {
    const run = await rebuild('inputs', `unix/${DEPLOYED}`, {
      'configure-args': '--hello=other',
      'build-command': 'make build',
    });
    expect(run.main.exitCode).not.toBe(0);
    expect(run.log).toContain('input `configure-args`: recorded (none), the workflow gives `--hello=other`');
    expect(run.log).toContain('input `build-command`: recorded (none), the workflow gives `make build`');
    // one annotation per mismatched input, then the step's error
    expect(run.errors.filter((e) => /^input `(configure-args|build-command)`/.test(e))).toHaveLength(2);
    expect(run.errors.filter((e) => /^input `(?!rebuild)/.test(e))).toHaveLength(2);
    expect(buildCommands(run.log)).toEqual([]);
  }, 120_000);

  it('sets a git repository to the commit recorded, though it has moved on since', async () => {
    const opamGit = join(fixture.base, 'opam-repository-git.git');
    await makeOpamRepository(opamGit);
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-C', opamGit, ...args], {
        encoding: 'utf8',
      }).trim();
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'the repository at the deploy');
    const recordedCommit = git('rev-parse', 'HEAD');
    const inputs = { 'opam-repositories': `fixture: file://${opamGit}`, 'deploy-directory': 'from-git' };
    const deployed = await fixture.runExample({
      workspace: 'deploy-git',
      opamRoot: 'opam-root-deploy-git',
      sha: FROM_GIT,
      inputs: { target: 'unix', cache: 'false', deploy: 'true', ...sshDeployInputs(sshd), ...inputs },
    });
    expect(deployed.main.exitCode, deployed.log).toBe(0);
    const record = JSON.parse(
      execFileSync('git', ['--git-dir', repo, 'show', `main:from-git/${FROM_GIT}/hello.buildinfo.json`], {
        encoding: 'utf8',
      }),
    );
    expect(record.repositories).toEqual([{ name: 'fixture', url: `file://${opamGit}`, commit: recordedCommit }]);

    writeFileSync(join(opamGit, 'NEWS'), 'a later commit\n');
    git('add', 'NEWS');
    git('commit', '-qm', 'the repository moves on');
    const run = await fixture.runExample({
      workspace: 'rebuild-git',
      opamRoot: 'opam-root-rebuild-git',
      sha: FROM_GIT,
      inputs: { target: 'unix', rebuild: `from-git/${FROM_GIT}`, ...sshDeployInputs(sshd), ...inputs },
    });
    expect(run.main.exitCode, run.log).toBe(0);
    expect(run.outputs.rebuild).toBe('identical');
    expect(run.log).toContain(`file://${opamGit}#${recordedCommit}`);
    expect(summaryValues(run.summary)['rebuild facts']).toBe("the recorded facts are this runner's");
  }, 600_000);

  it('says different for an image that changes every build, fails and names the first differing byte', async () => {
    // built with a variable the record keeps and the rebuild's runner does not have: a differing fact
    const changing = await deploy(
      CHANGING,
      { 'build-command': CHANGING_BUILD, 'boot-test': 'off' },
      { SOURCE_DATE_EPOCH: '1700000000' },
    );
    expect(changing.main.exitCode, changing.log).toBe(0);
    const before = await snapshotRepo(repo);
    const run = await fixture.runExample({
      workspace: 'rebuild-changing',
      opamRoot: 'opam-root-changing',
      sha: CHANGING,
      inputs: {
        target: 'unix',
        rebuild: `unix/${CHANGING}`,
        'build-command': CHANGING_BUILD,
        'boot-test': 'off',
        ...sshDeployInputs(sshd),
      },
    });
    expect(run.main.exitCode).not.toBe(0);
    expect(run.outputs.rebuild).toBe('different');
    const recorded = storedImage(`unix/${CHANGING}`, 'hello');
    const rebuilt = readFileSync(run.outputs.image ?? '');
    const offset = firstDifference(recorded, rebuilt);
    expect(offset).toBeGreaterThan(0);
    const row = `different: first difference at byte offset ${offset} (sizes ${recorded.length} recorded, ${rebuilt.length} rebuilt)`;
    expect(summaryValues(run.summary).rebuild).toBe(row);
    expect(run.log).toMatch(
      new RegExp(`::error::the rebuild of unix/${CHANGING} gave sha256 ${run.outputs['image-sha256']}`),
    );
    const facts = summaryValues(run.summary)['rebuild facts'] ?? '';
    expect(facts).toMatch(
      /^environment variables: recorded \{[^}]*"SOURCE_DATE_EPOCH":"1700000000"[^}]*\}, this runner \{/,
    );
    expect(facts).not.toMatch(/SOURCE_DATE_EPOCH.*SOURCE_DATE_EPOCH/);
    expect(run.errors.some((e) => e.includes(`; ${row.replace(/^different: /, '')}; differing facts: ${facts}`))).toBe(
      true,
    );
    expect(await snapshotRepo(repo)).toBe(before);
  }, 600_000);
});
