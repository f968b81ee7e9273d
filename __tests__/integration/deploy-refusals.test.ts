/**
 * Names, inputs and artifacts that used to be accepted with a bad effect (issue 26), each refused
 * by the bundle before any side effect: the deployment repository unchanged byte for byte, no SSH
 * session, no work or key folder, nothing left in RUNNER_TEMP, and the message naming the input.
 * The deploys are deploy-only runs (`image-path`) of a stand-in artifact, so no opam is needed.
 */
import { mkdirSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editRecord, makeArtifact, type Artifact } from '../support/artifact.js';
import { createBareRepo, snapshotRepo } from '../support/bare-repo.js';
import { sshDeployInputs } from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import { commands } from '../support/fixture-action.js';
import { listTree, removeRun, runAction, type RunResult } from '../support/harness.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const scratch = useDeployScratch('deploy-refusals-');
const runs: RunResult[] = [];
let repo: string;
let sshd: SshdServer;
let artifacts = 0;

beforeAll(async () => {
  repo = await createBareRepo(join(scratch.base, 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
}, 120_000);

afterAll(async () => {
  runs.forEach(removeRun);
  await sshd?.stop();
});

/** A fresh artifact of `target`, changed by `tamper` as an uploader could. */
async function artifact(target: string, tamper: (a: Artifact) => void = () => undefined): Promise<Artifact> {
  const made = await makeArtifact(join(scratch.base, `artifact-${++artifacts}`), { target, seed: 'refusals' });
  tamper(made);
  return made;
}

/** A deploy-only push run of the bundle; `artifact` given as `image-path`. */
async function deploy(dist: string, target: string, inputs: Record<string, string>): Promise<RunResult> {
  const result = await runAction({
    event: 'push-default-branch',
    inputs: { target, 'image-path': dist, deploy: 'true', ...sshDeployInputs(sshd), ...inputs },
    timeoutMs: 120_000,
  });
  runs.push(result);
  return result;
}

/** Runs `run` and checks it failed with `message` having touched nothing. */
async function expectRefused(run: () => Promise<RunResult>, message: RegExp): Promise<RunResult> {
  const before = await snapshotRepo(repo);
  const sessions = sshd.commands().length;
  const result = await run();
  expect(result.main.exitCode, result.log).toBe(1);
  expect(result.errors.join('\n')).toMatch(message);
  expect(result.outputs.deployed).toBeUndefined();
  expect(await snapshotRepo(repo)).toBe(before);
  expect(sshd.commands()).toHaveLength(sessions);
  expect(result.state['work-dirs']).toBeUndefined();
  expect(result.state['credential-dirs']).toBeUndefined();
  expect(commands(result.log).filter((c) => /\b(git|ssh|bzip2|xz|gzip)\b/.test(c))).toEqual([]);
  expect(result.post?.exitCode).toBe(0);
  expect(listTree(result.dirs.runnerTemp)).toEqual([]);
  return result;
}

describe('inputs refused with the other inputs, before any work', () => {
  let dist: string;
  beforeAll(async () => {
    dist = (await artifact('xen')).dist;
  });

  it.each([
    [
      'deploy-image-name',
      '`.mirage`',
      '.mirage',
      /^input `deploy-image-name`: `\.mirage` is not an image name: it starts with `\.`/m,
    ],
    ['deploy-image-name', '`-x`', '-x', /^input `deploy-image-name`: `-x` is not an image name: it starts with `-`/m],
    ['deploy-image-name', '`a b`', 'a b', /^input `deploy-image-name`: `a b` is not an image name: it holds a space/m],
    [
      'boot-args',
      'with an unterminated quote',
      "--a='unterminated",
      /^input `boot-args`: `--a='unterminated` opens a `'` quote it never closes/m,
    ],
    ['boot-args', 'with a carriage return', '--a=1\r--b=2', /^input `boot-args`: holds a carriage return/m],
    [
      'deploy-repository-branch',
      '`refs/tags/v1`',
      'refs/tags/v1',
      /^input `deploy-repository-branch`: `refs\/tags\/v1` is a full ref/m,
    ],
    [
      'deploy-repository-branch',
      '`refs/heads/refs/heads/x`',
      'refs/heads/refs/heads/x',
      /^input `deploy-repository-branch`: `refs\/heads\/refs\/heads\/x` is a full ref but not a branch's/m,
    ],
    ['environment', 'with a newline', 'production\nstaging', /^input `environment`: holds a line break/m],
    ['environment', 'of 3000 characters', 'e'.repeat(3000), /^input `environment`: is 3000 characters long/m],
    ['github-token', '`not a token`', 'not a token', /^input `github-token`: holds a space/m],
  ])('%s %s', async (input, _label, value, message) => {
    const result = await expectRefused(() => deploy(dist, 'xen', { [input]: value }), message);
    expect(result.errors.at(-1)).toBe('one input is invalid; nothing was done');
    expect(commands(result.log)).toEqual([]);
  });
});

describe('artifacts and names refused before the work folder, the compression and the clone', () => {
  it('deploy-image-name `config.ml` with compression none, which would overwrite the image', async () => {
    const { dist } = await artifact('unix');
    await expectRefused(
      () => deploy(dist, 'unix', { 'deploy-image-name': 'config.ml', compression: 'none' }),
      /^input `deploy-image-name`: the deploy folder would hold two files named `config\.ml`, the image and the config file/m,
    );
  });

  it.each(['SHA256SUMS', 'manifest.json'])('%s as the image name', async (name) => {
    const { dist } = await artifact('unix');
    await expectRefused(
      () => deploy(dist, 'unix', { 'deploy-image-name': name, compression: 'none' }),
      new RegExp(`^input \`deploy-image-name\`: the deploy folder would hold two files named \`${name}\``, 'm'),
    );
  });

  it('a build.json whose configFile is `hello.bz2`, the compressed image', async () => {
    const { dist } = await artifact('unix', (a) =>
      editRecord(a, (record) => ({ ...record, configFile: 'hello.bz2' }), ['hello.bz2']),
    );
    await expectRefused(
      () => deploy(dist, 'unix', {}),
      /^input `image-path`: the deploy folder would hold two files named `hello\.bz2`, the image and the config file/m,
    );
  });

  it.each([
    ['name', '.mirage', /`name` "\.mirage" starts with `\.`/],
    ['name', '-x', /`name` "-x" starts with `-`/],
    ['configFile', 'a b', /`configFile` "a b" holds a space/],
  ])('a build.json whose %s is %j', async (field, value, why) => {
    const { dist } = await artifact('xen', (a) =>
      editRecord(a, (record) => ({ ...record, [field]: value }), field === 'configFile' ? [value] : []),
    );
    const result = await expectRefused(
      () => deploy(dist, 'xen', {}),
      /^input `image-path`: .*build\.json cannot be used: /m,
    );
    expect(result.errors.join('\n')).toMatch(why);
  });

  it('a dist/mirage-deploy/ that is a link to a folder outside the artifact', async () => {
    const { dist, handover } = await artifact('xen', (a) => {
      const outside = join(scratch.base, `outside-${artifacts}`);
      mkdirSync(outside);
      renameSync(a.handover, join(outside, 'mirage-deploy'));
      symlinkSync(join(outside, 'mirage-deploy'), a.handover);
    });
    await expectRefused(
      () => deploy(dist, 'xen', {}),
      new RegExp(`^input \`image-path\`: ${handover.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is a link`, 'm'),
    );
  });

  it('the same artifacts, untampered, deploy (the refusals above are the names, not the set-up)', async () => {
    const { dist } = await artifact('unix');
    const result = await deploy(dist, 'unix', { 'deploy-image-name': 'www', compression: 'none' });
    expect(result.main.exitCode, result.log).toBe(0);
    expect(result.outputs.deployed).toBe('true');
  });
});
