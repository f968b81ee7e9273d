/**
 * Gathers `<image>.buildinfo.json` after a build (src/buildinfo/plan.ts is the document): the
 * runner's system, the system packages from dpkg, the switch export and the repositories' state
 * from opam, the inputs from `Config`. opam is reached only through `OpamAccess`, so whoever runs
 * the build's opam commands (a sandbox) runs these too.
 */
import * as core from '@actions/core';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { basename, join, relative } from 'node:path';
import packageJson from '../../package.json' with { type: 'json' };
import type { Config } from '../config.js';
import type { RunContext } from '../context.js';
import { CommandError, findProgram, runCommand } from '../exec.js';
import { systemVariables } from '../opam/system-variables.js';
import { allPackages, neededPackages, readSystemFacts } from '../mirage/system-packages.js';
import { summaryRow } from '../summary.js';
import type { BuiltImage } from '../types.js';
import { tarEntries, type TarEntry } from './tar.js';
import {
  buildInfoFileName,
  buildInfoText,
  freezeRefusal,
  isGitUrl,
  parseDpkgVersions,
  recordedVariables,
  type BuildEnvironment,
  type RepositoryState,
  type SystemPackage,
} from './plan.js';

/** How the buildinfo reaches opam: the build's own way of running it, and its root. */
export interface OpamAccess {
  /** Runs `opam <args>` as the build runs opam; its standard output, or throws. */
  runOpam(args: readonly string[]): Promise<string>;
  /** OPAMROOT, where opam keeps each repository's copy (`repo/<name>` or `repo/<name>.tar.gz`). */
  readonly root: string;
}

/** The C toolchain every target's build uses, beside what owns `cc`. */
const TOOLCHAIN = ['gcc', 'cpp', 'binutils', 'libc6-dev', 'make'];

async function ccPackage(env: Record<string, string>): Promise<string | undefined> {
  const cc = findProgram(env.CC ?? 'cc', env);
  if (cc === undefined) return undefined;
  const owner = await runCommand('dpkg-query', ['-S', realpathSync(cc)], { silent: true }).catch(() => undefined);
  return owner?.exitCode === 0 ? owner.stdout.split(':')[0]?.trim() : undefined;
}

async function systemPackages(
  names: readonly string[],
  env: Record<string, string>,
): Promise<readonly SystemPackage[]> {
  const cc = await ccPackage(env);
  const all = [...new Set([...names, ...TOOLCHAIN, ...(cc ? [cc] : [])])];
  // exits 1 when one of them is not installed, and still lists the others
  const query = await runCommand('dpkg-query', ['-W', '-f=${Package}\\t${Version}\\t${Status}\\n', ...all], {
    silent: true,
  }).catch(() => undefined);
  if (query === undefined) {
    core.info('buildinfo: no dpkg-query on this runner, so no system packages are recorded');
    return [];
  }
  return parseDpkgVersions(query.stdout);
}

interface ListedFile {
  readonly path: string;
  readonly line: string;
}

const fileLine = (path: string, content: Buffer): ListedFile => ({
  path,
  line: `F ${path} ${createHash('sha256').update(content).digest('hex')}`,
});
const linkLine = (path: string, target: string): ListedFile => ({ path, line: `L ${path} ${target}` });

/**
 * sha256 over the listing of a repository's files, sorted by path byte by byte (as `LC_ALL=C
 * sort` sorts): a line `F <path> <sha256>` per file, `L <path> <target>` per link. The same for
 * a folder and for an archive of it.
 */
function listingDigest(files: ListedFile[]): string {
  const sorted = files
    .map((f) => ({ key: Buffer.from(f.path), line: f.line }))
    .sort((a, b) => Buffer.compare(a.key, b.key));
  return createHash('sha256')
    .update(`${sorted.map((f) => f.line).join('\n')}\n`)
    .digest('hex');
}

function folderDigest(dir: string): string {
  const files: ListedFile[] = [];
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const full = join(at, name);
      const info = lstatSync(full);
      if (info.isDirectory()) walk(full);
      else if (info.isSymbolicLink()) files.push(linkLine(relative(dir, full), readlinkSync(full)));
      else files.push(fileLine(relative(dir, full), readFileSync(full)));
    }
  };
  walk(dir);
  return listingDigest(files);
}

/**
 * opam's compressed copy (`repo/<name>.tar.gz`, opam 2.1 and later), hashed entry by entry in
 * memory: the archive's own bytes hold times, and writing it out costs more than hashing it.
 */
function tarballDigest(entries: readonly TarEntry[], name: string): string {
  const top = `${name}/`;
  const strip = entries.length > 0 && entries.every((e) => e.path.startsWith(top));
  const files = entries.map((e) => {
    const path = (strip ? e.path.slice(top.length) : e.path).replace(/^\.\//, '');
    return e.kind === 'file' ? fileLine(path, e.content) : linkLine(path, e.target);
  });
  return listingDigest(files);
}

/**
 * The commit a git folder's HEAD names, its files read with `read` (a path inside `.git`, '' when
 * absent): the opam root is written by the build, so no git runs on it outside the sandbox (its
 * configuration can name programs git would start).
 */
export function gitHead(read: (path: string) => string): string | undefined {
  const head = read('HEAD').trim();
  const ref = /^ref: (refs\/[\w./-]+)$/.exec(head)?.[1];
  const packed =
    ref &&
    read('packed-refs')
      .split('\n')
      .find((l) => l.endsWith(` ${ref}`));
  const commit = ref === undefined ? head : read(ref).trim() || (packed?.split(' ')[0] ?? '');
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit) && !ref?.includes('..') ? commit : undefined;
}

/**
 * A repository's state in the opam root: its git commit, else the sha256 of its copy. opam 2.1
 * and later keep a git repository's clone, `.git` included, inside `repo/<name>.tar.gz`: its
 * commit is read from there too.
 */
export async function repositoryState(root: string, name: string, url: string): Promise<RepositoryState> {
  const dir = join(root, 'repo', name);
  const tarball = `${dir}.tar.gz`;
  if (existsSync(dir)) {
    const gitDir = join(dir, '.git');
    const commit = isGitUrl(url) ? gitHead((p) => readIfFile(join(gitDir, p))) : undefined;
    return commit === undefined ? { name, url, sha256: folderDigest(dir) } : { name, url, commit };
  }
  if (!existsSync(tarball)) throw new Error(`opam's copy of repository \`${name}\` is neither ${dir} nor ${tarball}`);
  const entries = tarEntries(gunzipSync(await readFile(tarball)));
  const commit = isGitUrl(url) ? gitHead(tarGitReader(entries, name)) : undefined;
  return commit === undefined ? { name, url, sha256: tarballDigest(entries, name) } : { name, url, commit };
}

const readIfFile = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');

/** The files of `<name>/.git/` in opam's archive, by their path inside `.git`. */
function tarGitReader(entries: readonly TarEntry[], name: string): (path: string) => string {
  const files = new Map<string, Buffer>();
  for (const e of entries) {
    const path = e.path.replace(/^\.\//, '');
    if (e.kind === 'file' && path.startsWith(`${name}/.git/`)) files.set(path.slice(name.length + 6), e.content);
  }
  return (path) => files.get(path)?.toString('utf8') ?? '';
}

/**
 * `opam switch export --full --freeze`; when opam refuses to freeze (it cannot for a package whose
 * source is a local folder), the export without `--freeze` and opam's reason, said in a notice.
 */
export async function exportSwitch(opam: OpamAccess): Promise<{ text: string; notFrozen?: string }> {
  try {
    return { text: await opam.runOpam(['switch', 'export', '--full', '--freeze', '-']) };
  } catch (error) {
    const stderr = error instanceof CommandError ? error.result.stderr : String(error);
    const notFrozen = freezeRefusal(stderr);
    core.notice(
      `the build record's switch export is not frozen: opam says "${notFrozen}"; a rebuild may fetch other ` +
        'sources for such packages (pin them to a git commit or an archive with a checksum to freeze them)',
    );
    return { text: await opam.runOpam(['switch', 'export', '--full', '-']), notFrozen };
  }
}

export interface BuildInfoRequest {
  readonly image: Pick<BuiltImage, 'name' | 'path' | 'sha256' | 'size'>;
  readonly config: Config;
  readonly ctx: RunContext;
  readonly versions: { readonly ocamlVersion: string; readonly mirageVersion: string };
  /** The environment the build ran with: its PATH finds the C compiler whose package is recorded. */
  readonly env: Record<string, string>;
  readonly locks: readonly { readonly name: string; readonly content: string }[];
}

async function gather(req: BuildInfoRequest, opam: OpamAccess): Promise<string> {
  const { build, setup, deploy } = req.config;
  const vars = systemVariables(await readSystemFacts());
  const environment: BuildEnvironment = {
    os: req.ctx.runnerOs,
    distribution: vars['os-distribution'] ?? 'unknown',
    version: vars['os-version'] ?? 'unknown',
    architecture: vars.arch ?? 'unknown',
    // The job's own variables, not those the action adds for the build (dune's cache root and jobs,
    // from the runner's HOME and cores): a rebuild by the action sets those again, and recording
    // them would make a re-run's record, and so its folder, differ for nothing.
    variables: recordedVariables(process.env),
  };
  const needed = req.ctx.runnerOs === 'Linux' ? allPackages(neededPackages(build.target, req.locks, vars)) : [];
  const exported = await exportSwitch(opam);
  const repositories = await Promise.all(setup.opamRepositories.map((r) => repositoryState(opam.root, r.name, r.url)));
  return buildInfoText({
    image: { name: req.image.name, file: basename(req.image.path), sha256: req.image.sha256, size: req.image.size },
    action: { version: packageJson.version },
    environment,
    systemPackages: await systemPackages(needed, req.env),
    opamSwitch: exported.text,
    ...(exported.notFrozen === undefined ? {} : { opamSwitchNotFrozen: exported.notFrozen }),
    repositories,
    inputs: {
      target: build.target,
      configureArgs: build.configureArgs,
      bootArgs: deploy.bootArgs,
      configFile: build.configFile,
      workingDirectory: relative(req.ctx.workspace, build.workingDirectory) || '.',
      buildCommand: build.buildCommand,
      compiler: setup.ocamlCompilerInput,
      ocamlVersion: req.versions.ocamlVersion,
      mirageVersion: req.versions.mirageVersion,
    },
  });
}

/**
 * Writes `<dir>/<image>.buildinfo.json` and returns its path; undefined, with a warning, when a
 * fact cannot be gathered: a missing record is reported, not a reason to stop the deploy.
 */
export async function writeBuildInfo(
  req: BuildInfoRequest,
  dir: string,
  opam: OpamAccess,
): Promise<string | undefined> {
  const path = join(dir, buildInfoFileName(req.image.name));
  try {
    await writeFile(path, await gather(req, opam));
  } catch (error) {
    core.warning(`no ${basename(path)}: ${(error as Error).message}`);
    summaryRow('build record', 'none (see the warning)');
    return undefined;
  }
  core.info(`build record: ${path}`);
  summaryRow('build record', { code: basename(path) });
  return path;
}
