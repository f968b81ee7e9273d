// Building blocks for the deployment-repository tests: a workspace, a run context and Config as the
// action would parse them, a deterministic stand-in image, and read-only views of a bare repository.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseConfig, type Config } from '../../src/config.js';
import type { EventPayload, RunContext } from '../../src/context.js';
import { preflight } from '../../src/deploy/credentials/preflight.js';
import { deployImage, rollback } from '../../src/deploy/index.js';
import { readSourceFacts } from '../../src/deploy/source.js';
import type { BuiltImage, DeployOutcome, OpamSetup } from '../../src/types.js';
import { runProcess, serverGitEnv } from './bare-repo.js';
import { testContext } from './context.js';
import type { SshdServer } from './sshd.js';

export const SETUP: OpamSetup = {
  opamVersion: '2.4.1',
  ocamlVersion: '4.13.1',
  mirageVersion: '4.11.1',
  cacheHit: 'miss',
  root: '/nonexistent/opam-root',
  env: {},
  seconds: 0,
  opamPath: 'opam',
};

/** A stable, distinct source sha for each label. */
export function shaOf(label: string | number): string {
  return createHash('sha1').update(`source ${label}`).digest('hex');
}

/** `bytes` of incompressible, reproducible content: the same seed always gives the same image. */
export function imageBytes(seed: string, bytes: number): Buffer {
  const chunks: Buffer[] = [];
  let block = createHash('sha256').update(seed).digest();
  for (let n = 0; n < bytes; n += block.length) {
    chunks.push(block);
    block = createHash('sha256').update(block).digest();
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

/** A folder like a unikernel's after `make build`: config.ml, dist/<name><ext> and side files. */
export async function makeImage(
  dir: string,
  opts: { target: string; seed: string; bytes?: number; name?: string; sideFiles?: string[]; config?: string },
): Promise<BuiltImage> {
  const name = opts.name ?? 'hello';
  const ext = opts.target === 'unix' ? '' : `.${opts.target}`;
  await mkdir(path.join(dir, 'dist'), { recursive: true });
  const configFile = path.join(dir, 'config.ml');
  await writeFile(configFile, opts.config ?? `(* ${opts.seed} *)\nlet () = Mirage.register "${name}" []\n`);
  const data = imageBytes(opts.seed, opts.bytes ?? 64 * 1024);
  const imagePath = path.join(dir, 'dist', `${name}${ext}`);
  await writeFile(imagePath, data);
  const sideFiles: string[] = [];
  for (const side of opts.sideFiles ?? []) {
    const p = path.join(dir, 'dist', side);
    await writeFile(p, `# ${side} for ${opts.seed}\n`);
    sideFiles.push(p);
  }
  return {
    target: opts.target,
    name,
    path: imagePath,
    sha256: createHash('sha256').update(data).digest('hex'),
    size: data.length,
    sideFiles,
    configFile,
    timings: {},
  };
}

export interface DeployScratch {
  /** A fresh temporary folder: remove it when done. */
  readonly base: string;
  /** `<base>/workspace`, holding a config.ml. */
  readonly workspace: string;
  /** `<base>/runner-temp`. */
  readonly runnerTemp: string;
}

/** A new temporary folder named from `prefix`, with a deploy job's workspace and RUNNER_TEMP in it. */
export async function makeDeployScratch(prefix: string): Promise<DeployScratch> {
  const base = await mkdtemp(path.join(os.tmpdir(), prefix));
  const workspace = path.join(base, 'workspace');
  const runnerTemp = path.join(base, 'runner-temp');
  await mkdir(workspace, { recursive: true });
  await mkdir(runnerTemp, { recursive: true });
  await writeFile(path.join(workspace, 'config.ml'), 'let () = ()\n');
  return { base, workspace, runnerTemp };
}

/** The inputs that deploy into the loopback sshd's repository with its deploy key. */
export function sshDeployInputs(sshd: Pick<SshdServer, 'url' | 'deployKey' | 'knownHosts'>): Record<string, string> {
  return { 'deploy-repository': sshd.url, 'deploy-key': sshd.deployKey, 'known-hosts': sshd.knownHosts };
}

export interface ContextOptions {
  readonly sha: string;
  readonly workspace: string;
  readonly runnerTemp: string;
  /** The pushed commit's time; absent for a run without a push payload. */
  readonly commitTime?: string;
  readonly eventName?: string;
  readonly runId?: string;
}

export function deployContext(o: ContextOptions): RunContext {
  const payload: EventPayload = {
    ref: 'refs/heads/main',
    repository: { full_name: 'mirage/mirage-www', default_branch: 'main' },
    ...(o.commitTime ? { head_commit: { timestamp: o.commitTime } } : {}),
  };
  return testContext({
    eventName: o.eventName ?? 'push',
    payload,
    sha: o.sha,
    runId: o.runId ?? '4242',
    workspace: o.workspace,
    runnerTemp: o.runnerTemp,
  });
}

/** The Config the action would parse from these inputs (deploy on), for a workspace holding config.ml. */
export function deployConfig(ctx: RunContext, inputs: Record<string, string>): Config {
  const all: Record<string, string> = { deploy: 'true', ...inputs };
  return parseConfig((name) => all[name] ?? '', ctx);
}

/**
 * The deploy as main runs it: the preflight and the source facts first (before the build), then
 * deployImage with both.
 */
export async function checkedDeploy(
  config: Config,
  ctx: RunContext,
  image: BuiltImage,
  setup: OpamSetup,
): Promise<DeployOutcome> {
  const cleared = await preflight(config.deploy);
  const source = await readSourceFacts(ctx, config.build.workingDirectory);
  return deployImage(config, ctx, image, setup, cleared, source);
}

/** `rollback-to` as main runs it: the preflight first, then rollback with what it cleared. */
export async function checkedRollback(config: Config, ctx: RunContext, sha: string): Promise<DeployOutcome> {
  return rollback(config, ctx, sha, await preflight(config.deploy));
}

/** Read-only git on a bare repository, with no user or system configuration. */
export async function bareGit(repo: string, args: readonly string[]): Promise<string> {
  const r = await runProcess('git', ['--git-dir', repo, ...args], { env: serverGitEnv() });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} in ${repo} failed: ${r.stderr}`);
  return r.stdout;
}

export async function showFile(repo: string, rev: string, file: string): Promise<string> {
  return bareGit(repo, ['show', `${rev}:${file}`]);
}

/** Files under `prefix/` at `rev` (names relative to the repository root). */
export async function filesAt(repo: string, rev: string, prefix: string): Promise<string[]> {
  const out = await bareGit(repo, ['ls-tree', '-r', '--name-only', rev, '--', `${prefix}/`]);
  return out.split('\n').filter((l) => l !== '');
}

/** `<sha> <parents…>` per commit, newest first. */
export async function history(repo: string, rev = 'main'): Promise<string[][]> {
  const out = await bareGit(repo, ['log', '--format=%H %P', rev]);
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.trim().split(' '));
}

export interface FolderCheck {
  /** Where the folder was unpacked. */
  readonly dir: string;
  /** `sha256sum -c SHA256SUMS` on the folder as stored. */
  readonly stored: { readonly code: number | null; readonly output: string };
  /** Each compressed image unpacked, then the `# unpacked:` lines checked with `sha256sum -c`. */
  readonly unpacked: { readonly code: number | null; readonly output: string };
}

const result = (r: { code: number | null; stdout: string; stderr: string }) => ({
  code: r.code,
  output: r.stdout + r.stderr,
});

const UNPACK: Readonly<Record<string, string[]>> = {
  '.bz2': ['bzip2', '-dk'],
  '.xz': ['xz', '-dk'],
  '.gz': ['gzip', '-dk'],
};

/**
 * What a host does with coreutils alone: extract `folder` at `rev` (git archive | tar), run
 * `sha256sum -c SHA256SUMS`, unpack the images and check them against their `# unpacked:` lines.
 */
export async function checkFolderLikeAHost(
  repo: string,
  rev: string,
  folder: string,
  into: string,
): Promise<FolderCheck> {
  await mkdir(into, { recursive: true });
  const archive = await runProcess(
    'sh',
    ['-c', 'git --git-dir "$1" archive "$2" "$3" | tar -x -C "$4"', 'sh', repo, rev, folder, into],
    {
      env: serverGitEnv(),
    },
  );
  if (archive.code !== 0) throw new Error(`git archive ${folder}: ${archive.stderr}`);
  const dir = path.join(into, folder);
  const stored = await runProcess('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: dir });
  const sums = await readFile(path.join(dir, 'SHA256SUMS'), 'utf8');
  for (const line of sums.split('\n')) {
    const name = /^[0-9a-f]{64} {2}(.*)$/.exec(line)?.[1] ?? '';
    const suffix = Object.keys(UNPACK).find((s) => name.endsWith(s));
    if (suffix === undefined) continue;
    const [program = '', ...args] = UNPACK[suffix] ?? [];
    const r = await runProcess(program, [...args, name], { cwd: dir });
    if (r.code !== 0) return { dir, stored: result(stored), unpacked: { code: r.code, output: r.stderr } };
  }
  const lines = sums
    .split('\n')
    .filter((l) => l.startsWith('# unpacked: '))
    .map((l) => `${l.slice('# unpacked: '.length)}\n`)
    .join('');
  const unpacked = await runProcess('sha256sum', ['--strict', '-c', '-'], { cwd: dir, input: lines });
  return { dir, stored: result(stored), unpacked: result(unpacked) };
}
