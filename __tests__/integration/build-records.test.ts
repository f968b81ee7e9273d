/**
 * Build records through the bundle, over sshd, with the offline opam fixture: `hello.buildinfo.json`
 * beside the image (checked against the switch and this runner), the two-job pattern's
 * `attestation-bundle` stored as `hello.sigstore.json` (another image's refused before anything is
 * pushed), and `dependency-graph: true` against a loopback stand-in of the dependency submission API.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/deploy/manifest.js';
import { createBareRepo, snapshotRepo } from '../support/bare-repo.js';
import { checkFolderLikeAHost, filesAt, showFile, sshDeployInputs } from '../support/deploy-scenario.js';
import { commands, useFixtureScope } from '../support/fixture-action.js';
import { startGithubApi, type GithubApi } from '../support/github-api.js';
import { PROJECT_ROOT, type RunOptions, type RunResult } from '../support/harness.js';
import { sigstoreBundle } from '../support/sigstore.js';
import { summaryValues } from '../support/summary-table.js';
import { startSshd, type SshdServer } from '../support/sshd.js';

const ONE_JOB = '3123456789abcdef0123456789abcdef01234567';
const TWO_JOB = '4123456789abcdef0123456789abcdef01234567';
const REFUSED_TOKEN = '5123456789abcdef0123456789abcdef01234567';
const TOKEN = 'ghs_contentsWriteToken0123456789abcdefgh';
const READ_ONLY = 'ghs_contentsReadToken0123456789abcdefghi';

const fixture = useFixtureScope('build-records-');
let repo: string;
let sshd: SshdServer;
let api: GithubApi;
let oneJob: RunResult;

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
  api = await startGithubApi({ readOnlyTokens: [READ_ONLY] });
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
  await api?.stop();
});

/** A job on a fresh checkout, with the loopback API, a secret-looking variable and a few recorded ones. */
function job(sha: string, inputs: Record<string, string>, options: Partial<RunOptions> = {}): Promise<RunResult> {
  return fixture.runExample({
    workspace: `ws-${sha.slice(0, 4)}`,
    sha,
    inputs: { target: 'xen', cache: 'false', ...inputs },
    env: {
      GITHUB_API_URL: api.url,
      SOURCE_DATE_EPOCH: '1700000000',
      TZ: 'UTC',
      OPAMVAR_records: 'on',
      MY_JOB_SECRET: 'hunter2-never-recorded',
      AWS_SECRET_ACCESS_KEY: 'AKIAnever-recorded',
    },
    ...options,
  });
}

const deployInputs = () => ({ deploy: 'true', ...sshDeployInputs(sshd) });

/** `name version` of each installed package dpkg knows among `names`, read by this test's own query. */
function dpkgVersion(name: string): string {
  return execFileSync('dpkg-query', ['-W', '-f=${Version}', name], { encoding: 'utf8' });
}

/** sha256 of a folder as `find | sort` lists it: each file's path and content hash, by shell tools. */
function folderSha256(dir: string): string {
  const listing = execFileSync(
    'sh',
    ['-c', 'cd "$1" && LC_ALL=C find . -type f | sed "s|^\\./||" | LC_ALL=C sort', 'sh', dir],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter((l) => l !== '')
    .map(
      (f) =>
        `F ${f} ${createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex')}`,
    );
  return createHash('sha256')
    .update(`${listing.join('\n')}\n`)
    .digest('hex');
}

describe('hello.buildinfo.json', () => {
  it('is stored beside the image, in SHA256SUMS and the manifest, with facts that match the switch and the runner', async () => {
    oneJob = await job(ONE_JOB, { ...deployInputs(), 'boot-args': '--hello=records' });
    expect(oneJob.main.exitCode, oneJob.log).toBe(0);
    expect(/^.*no hello\.buildinfo\.json.*$/m.exec(oneJob.log)?.[0]).toBeUndefined();
    const folder = `xen/${ONE_JOB}`;
    expect(await filesAt(repo, 'main', folder)).toContain(`${folder}/hello.buildinfo.json`);
    const text = await showFile(repo, 'main', `${folder}/hello.buildinfo.json`);
    const sums = await showFile(repo, 'main', `${folder}/SHA256SUMS`);
    const digest = createHash('sha256').update(text).digest('hex');
    expect(sums).toContain(`${digest}  hello.buildinfo.json\n`);
    const manifest = parseManifest(await showFile(repo, 'main', `${folder}/manifest.json`));
    expect(manifest?.images['hello.xen.bz2']?.files['hello.buildinfo.json']).toBe(digest);
    expect(summaryValues(oneJob.summary)['build record']).toBe('hello.buildinfo.json');
    const host = await checkFolderLikeAHost(repo, 'main', folder, join(fixture.base, 'host-1'));
    expect(host.stored.code, host.stored.output).toBe(0);

    const info = JSON.parse(text);
    const opamRoot = join(fixture.base, 'opam-root');
    expect(info.schema).toBe(1);
    expect(info.image).toEqual({
      name: 'hello',
      file: 'hello.xen',
      sha256: oneJob.outputs['image-sha256'],
      size: Number(oneJob.outputs['image-size']),
    });
    expect(info.action.version).toBe(JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).version);
    // the switch, as opam exports it with every package frozen, asked by this test
    const opam = (args: string[]) =>
      spawnSync('opam', args, {
        encoding: 'utf8',
        env: { ...process.env, OPAMROOT: opamRoot, OPAMSWITCH: 'mirage', OPAMYES: '1' },
      });
    // the fixture's stand-in mirage comes from a local folder, which opam cannot freeze: the record says so
    const frozen = opam(['switch', 'export', '--full', '--freeze', '-']);
    expect(frozen.status).not.toBe(0);
    expect(frozen.stderr).toContain('mirage is path pinned');
    expect(info.opamSwitchNotFrozen).toBe("mirage is path pinned, it can't be exported with --freeze.");
    expect(info.opamSwitch).toBe(opam(['switch', 'export', '--full', '-']).stdout);
    expect(oneJob.log).toMatch(/::notice::the build record's switch export is not frozen/);
    expect(info.opamSwitch).toMatch(/^package "mirage" \{/m);
    // the runner
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    expect(info.environment).toMatchObject({
      os: 'Linux',
      distribution: /^ID=(.*)$/m.exec(osRelease)?.[1],
      version: /^VERSION_ID="?([^"\n]*)"?$/m.exec(osRelease)?.[1],
      architecture: arch() === 'x64' ? 'x86_64' : arch(),
    });
    expect(info.environment.variables).toMatchObject({
      SOURCE_DATE_EPOCH: '1700000000',
      TZ: 'UTC',
      LANG: 'C.UTF-8',
      OPAMVAR_records: 'on',
    });
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('AKIA');
    expect(text).not.toContain('MY_JOB_SECRET');
    expect(text).not.toContain(sshd.deployKey);
    expect(
      Object.keys(info.environment.variables).every((k) => /^(TZ|LANG|SOURCE_DATE_EPOCH|LC_|OPAMVAR_|DUNE_)/.test(k)),
    ).toBe(true);
    for (const name of ['gcc', 'binutils', 'libc6-dev']) {
      expect(info.systemPackages).toContainEqual({ name, version: dpkgVersion(name) });
    }
    // the fixture repository is a local folder, not git: recorded by the sha256 of opam's copy's files
    const copy = join(fixture.base, 'repo-copy');
    mkdirSync(copy);
    execFileSync('tar', ['-xzf', join(opamRoot, 'repo', 'fixture.tar.gz'), '-C', copy]);
    expect(info.repositories).toEqual([
      { name: 'fixture', url: fixture.opamRepoUrl, sha256: folderSha256(join(copy, 'fixture')) },
    ]);
    expect(info.inputs).toEqual({
      target: 'xen',
      configureArgs: [],
      bootArgs: ['--hello=records'],
      configFile: 'config.ml',
      workingDirectory: 'hello',
      buildCommand: [],
      compiler: 'ocaml-system',
      ocamlVersion: oneJob.outputs['ocaml-version'],
      mirageVersion: '4.11.1+stand-in',
    });
  }, 300_000);
});

describe('attestation-bundle (two-job pattern)', () => {
  let artifact: string;

  /** A deploy job on a fresh workspace holding the build's dist/ and `bundle` at dist/attestation.json. */
  function deployJob(sha: string, bundle: string, inputs: Record<string, string> = {}): Promise<RunResult> {
    const workspace = join(fixture.base, `deploy-${sha.slice(0, 4)}`);
    rmSync(workspace, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    cpSync(artifact, join(workspace, 'dist'), { recursive: true });
    writeFileSync(join(workspace, 'dist', 'attestation.json'), bundle);
    return fixture.run({
      workspace,
      sha,
      inputs: {
        target: 'xen',
        'image-path': 'dist',
        'attestation-bundle': 'dist/attestation.json',
        ...deployInputs(),
        ...inputs,
      },
      env: { GITHUB_API_URL: api.url },
      timeoutMs: 120_000,
    });
  }

  it('the build job leaves the buildinfo in dist/mirage-deploy/; the deploy job stores it and the bundle as hello.sigstore.json', async () => {
    const built = await job(TWO_JOB, {});
    expect(built.main.exitCode, built.log).toBe(0);
    artifact = join(built.dirs.workspace, 'hello', 'dist');
    const leftInfo = readFileSync(join(artifact, 'mirage-deploy', 'hello.buildinfo.json'), 'utf8');
    const bundle = sigstoreBundle([{ name: 'hello.xen', sha256: built.outputs['image-sha256'] ?? '' }]);
    const deployed = await deployJob(TWO_JOB, bundle);
    expect(deployed.main.exitCode, deployed.log).toBe(0);
    const folder = `xen/${TWO_JOB}`;
    expect(await showFile(repo, 'main', `${folder}/hello.sigstore.json`)).toBe(bundle);
    expect(summaryValues(deployed.summary).attestation).toBe('the Sigstore bundle attests this image');
    // published as the build wrote it
    expect(await showFile(repo, 'main', `${folder}/hello.buildinfo.json`)).toBe(leftInfo);
    const sums = await showFile(repo, 'main', `${folder}/SHA256SUMS`);
    expect(sums).toContain(`${createHash('sha256').update(bundle).digest('hex')}  hello.sigstore.json\n`);
    expect(sums).toMatch(/ {2}hello\.buildinfo\.json\n/);
  }, 300_000);

  it("refuses a bundle whose digest is another image's, and a tampered buildinfo, before anything is pushed", async () => {
    const before = await snapshotRepo(repo);
    const other = sigstoreBundle([{ name: 'hello.xen', sha256: 'e'.repeat(64) }]);
    const refused = await deployJob(REFUSED_TOKEN, other);
    expect(refused.main.exitCode).not.toBe(0);
    expect(refused.log).toMatch(/input `attestation-bundle`: .*attests sha256 e{64}, not the image's/);
    expect(refused.log).not.toMatch(/Deploy: write/);
    expect(await snapshotRepo(repo)).toBe(before);

    const infoPath = join(artifact, 'mirage-deploy', 'hello.buildinfo.json');
    const original = readFileSync(infoPath, 'utf8');
    const doc = JSON.parse(original);
    doc.environment.variables.GITHUB_TOKEN = 'ghs_smuggled';
    writeFileSync(infoPath, JSON.stringify(doc));
    try {
      const bundle = sigstoreBundle([{ name: 'hello.xen', sha256: doc.image.sha256 }]);
      const tampered = await deployJob(REFUSED_TOKEN, bundle);
      expect(tampered.main.exitCode).not.toBe(0);
      expect(tampered.log).toMatch(/input `image-path`: .*hello\.buildinfo\.json cannot be published: .*allow-list/);
      expect(await snapshotRepo(repo)).toBe(before);
    } finally {
      writeFileSync(infoPath, original);
    }
  }, 300_000);

  it('is refused in a job that builds, naming the two-job pattern, before anything runs', async () => {
    const result = await job(REFUSED_TOKEN, { 'attestation-bundle': 'hello/config.ml' });
    expect(result.main.exitCode).not.toBe(0);
    expect(result.log).toMatch(/input `attestation-bundle`: works only in the two-job pattern, with `image-path`/);
    expect(commands(result.log)).toEqual([]);
  }, 120_000);
});

describe('dependency-graph: true', () => {
  const snapshots = () => api.requests.filter((r) => r.path.endsWith('/dependency-graph/snapshots'));

  it('submits one snapshot per deploy: every locked package as a pkg:opam purl, direct from the unikernel opam file', async () => {
    api.requests.length = 0;
    const sha = '6123456789abcdef0123456789abcdef01234567';
    const run = await job(sha, { ...deployInputs(), 'dependency-graph': 'true', 'github-token': TOKEN });
    expect(run.main.exitCode, run.log).toBe(0);
    expect(snapshots()).toHaveLength(1);
    const [request] = snapshots();
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/repos/mirage/mirage-www/dependency-graph/snapshots');
    expect(request?.authorization).toMatch(new RegExp(`${TOKEN}$`));
    const body = request?.body as {
      manifests: Record<string, { resolved: Record<string, { package_url: string; relationship: string }> }>;
    };
    expect(body).toMatchObject({
      version: 0,
      sha,
      ref: 'refs/heads/main',
      job: { correlator: 'mirage-deploy:xen/hello' },
    });
    expect(Object.keys(body.manifests)).toEqual(['xen/hello']);
    const lock = readFileSync(join(run.dirs.workspace, 'hello/mirage/hello-xen.opam.locked'), 'utf8');
    const locked = [
      ...(/^depends: \[\n([\s\S]*?)^\]/m.exec(lock)?.[1] ?? '').matchAll(/^\s*"([^"]+)" \{= "([^"]+)"/gm),
    ];
    expect(locked.length).toBeGreaterThan(3);
    const resolved = body.manifests['xen/hello']?.resolved ?? {};
    expect(Object.keys(resolved).sort()).toEqual(locked.map((m) => m[1]).sort());
    const rootOpam = readFileSync(join(run.dirs.workspace, 'hello/mirage/hello-xen.opam'), 'utf8');
    const rootDepends = /^depends: \[([\s\S]*?)^\]/m.exec(rootOpam)?.[1] ?? '';
    for (const [, name, version] of locked) {
      expect(resolved[name ?? '']?.package_url).toBe(`pkg:opam/${name}@${encodeURIComponent(version ?? '')}`);
      const direct = new RegExp(`"${name}"`).test(rootDepends);
      expect(resolved[name ?? '']?.relationship, name).toBe(direct ? 'direct' : 'indirect');
    }
    expect(summaryValues(run.summary)['dependency graph']).toBe(`${locked.length} packages submitted`);
    expect(Object.values(resolved).some((p) => p.relationship === 'direct')).toBe(true);
    expect(Object.values(resolved).some((p) => p.relationship === 'indirect')).toBe(true);
  }, 300_000);

  it('a refused submission warns and the deploy still succeeds', async () => {
    api.requests.length = 0;
    const sha = '7123456789abcdef0123456789abcdef01234567';
    const run = await job(sha, { ...deployInputs(), 'dependency-graph': 'true', 'github-token': READ_ONLY });
    expect(run.main.exitCode, run.log).toBe(0);
    expect(run.outputs.deployed).toBe('true');
    expect(snapshots()).toHaveLength(1);
    expect(run.log).toMatch(
      /::warning::input `dependency-graph`: submitting the dependency snapshot failed \(403: Resource not accessible by integration.*contents: write/,
    );
    expect(summaryValues(run.summary)['dependency graph']).toBe('not submitted (403)');
  }, 300_000);
});
