import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse as parseShellWords } from 'shell-quote';
import { parse as parseYaml } from 'yaml';
import type { RunContext } from './context.js';
import { DEFAULT_TARGET, TARGET_NAMES, isTarget, type Target } from './mirage/targets.js';
import { BOOT_TEST_MODES, BOOT_TEST_TIMEOUT_SECONDS, type BootTestConfig } from './mirage/boot-test.js';
import { DEFAULT_COMPILER, type CompilerSpec } from './opam/compiler.js';
import { COMMIT_SHA, OWNER_NAME, SCP_LIKE, SHA256_HEX, plainNameProblem } from './patterns.js';
import { defined } from './defined.js';
import { maskSecret } from './secrets.js';

export type { CompilerSpec };

export const COMPRESSIONS = ['bzip2', 'xz', 'gzip', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** `reproducible`: build a second time from a clean state and compare; report, or fail on a difference. */
export const REPRODUCIBLE_MODES = ['off', 'check', 'strict'] as const;
export type ReproducibleMode = (typeof REPRODUCIBLE_MODES)[number];

export const DEFAULT_OPAM_REPOSITORY = {
  name: 'default',
  url: 'https://github.com/ocaml/opam-repository.git',
} as const;

export interface OpamRepository {
  readonly name: string;
  readonly url: string;
}

export interface OpamPin {
  readonly name: string;
  /** Where to pin from; absent to pin the package's own source from the repository. */
  readonly url?: string;
}

export interface BuildConfig {
  readonly target: Target;
  /** Absolute folder holding the config file. */
  readonly workingDirectory: string;
  /** Config file name, relative to `workingDirectory`. */
  readonly configFile: string;
  readonly configureArgs: readonly string[];
  /** argv replacing `make build`; empty to use it. */
  readonly buildCommand: readonly string[];
  readonly imageName?: string;
  readonly reproducible: ReproducibleMode;
  /** `image-path`: deploy what a build job left instead of building (absolute). */
  readonly prebuilt?: { readonly path: string; readonly isFolder: boolean };
  /** `attestation-bundle` (absolute), only with `prebuilt`. */
  readonly attestationBundle?: string;
}

/** How often the opam root is refreshed: a new period in the key updates the repositories. */
export type CacheRefresh =
  { readonly kind: 'daily' | 'weekly' | 'monthly' | 'never' } | { readonly kind: 'fixed'; readonly label: string };

export interface SetupConfig {
  readonly ocamlCompiler: CompilerSpec;
  /** The raw `ocaml-compiler` input, which goes into cache keys as given. */
  readonly ocamlCompilerInput: string;
  /** A release such as `2.4.1`, or `system`. */
  readonly opamVersion: string;
  readonly opamSha256?: string;
  readonly opamDownloadUrl?: string;
  /** In priority order: the first has priority. */
  readonly opamRepositories: readonly OpamRepository[];
  readonly opamPins: readonly OpamPin[];
  readonly opamDisableSandboxing: boolean;
  readonly mirageVersion: string;
  readonly cache: boolean;
  readonly cachePrefix: string;
  readonly cacheRefresh: CacheRefresh;
}

export interface DeployConfig {
  readonly enabled: boolean;
  /** Branches whose pushes deploy; empty means the repository's default branch. */
  readonly branches: readonly string[];
  /** `owner/name` or a full git URL, as given or defaulted. */
  readonly repository: string;
  readonly repositoryBranch?: string;
  readonly key?: string;
  readonly token?: string;
  readonly knownHosts?: string;
  readonly serverUrl: string;
  readonly compression: Compression;
  readonly keep: number;
  /** `keep-history`: past this many commits, the deploy's commit starts a new root (absent: keep all). */
  readonly keepHistory?: number;
  readonly commitMessage?: string;
  readonly commitUserName: string;
  readonly commitUserEmail: string;
  readonly dryRun: boolean;
  readonly rollbackTo?: string;
  /** `promote-from`: copy a deployed folder of another `deploy-directory` here instead of building. */
  readonly promote?: PromoteConfig;
  /** The deploy folder of the deployment repository: `deploy-directory`, by default the target. */
  readonly directory: string;
  /** The image's name in that folder, without extensions; absent: the built image's name. */
  readonly imageName?: string;
  /** `boot-args`, split like `configure-args`: stored beside the image for the host to pass on. */
  readonly bootArgs: readonly string[];
  /** `github-token`: when set, GitHub deployment records are created for the source commit. */
  readonly githubToken?: string;
  /** `environment` of those records; by default the deploy folder. */
  readonly environment: string;
  /**
   * `deployment-records` (with `github-token`): a record per move of `latest`, named in
   * `<directory>/latest.deployment` for the host to report to.
   */
  readonly deploymentRecords: boolean;
  /** `host-reports`: the record is left `in_progress` for the host's updater to finish. */
  readonly hostReports: boolean;
  /** `wait-for-host`: seconds to wait for the host's `success` or `failure` (0: not waiting). */
  readonly waitForHost: number;
  /** `dependency-graph`: submit the deployed image's locked packages to GitHub's dependency graph. */
  readonly dependencyGraph?: boolean;
}

export interface PromoteConfig {
  /** The folder promoted from (`promote-from`); `directory` is the one promoted to. */
  readonly from: string;
  /** `promote-sha`: `latest` (what `<from>/latest` names) or a sha; by default this run's commit. */
  readonly sha: string;
  /** `boot-args` was given: it replaces the promoted images' `.args`; otherwise theirs travel with them. */
  readonly newBootArgs: boolean;
}

/** Where `deploy-to` sends the image. */
export const DEPLOY_DESTINATIONS = ['repository', 'albatross'] as const;
export type DeployDestination = (typeof DEPLOY_DESTINATIONS)[number];

/** `deploy-to` naming `albatross`: the image goes to albatross daemons over TLS (src/albatross/). */
export interface AlbatrossConfig {
  /** `deploy-to` names `repository` too: the folder is written only after every endpoint runs. */
  readonly repository: boolean;
  /** `host:port` of each `albatross-tls-endpoint`, in the order they are deployed to. */
  readonly endpoints: readonly string[];
  /** PEM texts: the CA's private key (the secret), its certificate, the endpoints' CA. */
  readonly caKey?: string;
  readonly caCert?: string;
  readonly serverCa: string;
  /** The unikernel's name on the hosts; absent: the deployed image's name. */
  readonly name?: string;
  readonly memory?: number;
  readonly cpuid?: number;
  /** `albatross-network` lines, each `device:bridge`. */
  readonly network: readonly string[];
  /** `albatross-block` lines, as albatross-client's `--block` takes them. */
  readonly block: readonly string[];
  readonly restartOnFail: boolean;
  readonly bootWaitSeconds: number;
  /** `albatross-client`: the client binary (absolute) or an http(s) URL to download it from (with its sha256); absent: `albatross-client` on PATH. */
  readonly client?: string;
  readonly clientSha256?: string;
}

/** How the build is kept from the job's secrets (src/sandbox/). */
export interface SandboxConfig {
  /** The secret inputs given to this job, by name (of SECRET_INPUTS). */
  readonly secretsHeld: readonly string[];
  /** `allow-unsandboxed-build`: build without the sandbox, where none can be made, even holding a secret. */
  readonly allowUnsandboxed: boolean;
  /** `build-ssh-agent`: the job's SSH agent (SSH_AUTH_SOCK) is passed into the sandbox. */
  readonly sshAgent: boolean;
}

/** The pull-request preview (src/preview/). */
export interface PreviewConfig {
  /** `pr-comment`: on `pull_request`, compare the build with `<directory>/latest` and comment it. */
  readonly comment: boolean;
  /** `preview-key`: a read-only SSH key for that comparison; never the deploy key. */
  readonly key?: string;
  /** `pr-comment-from`: comment-only mode, from the preview file a build job left (absolute). */
  readonly from?: string;
}

export interface Config {
  readonly build: BuildConfig;
  readonly setup: SetupConfig;
  readonly deploy: DeployConfig;
  /** Absent when `deploy-to` is `repository` only. */
  readonly albatross?: AlbatrossConfig;
  readonly sandbox: SandboxConfig;
  readonly bootTest: BootTestConfig;
  readonly preview: PreviewConfig;
  /** `rebuild`: build a deployed folder's commit again and compare (src/rebuild/); deploys nothing. */
  readonly rebuild?: RebuildConfig;
}

/** `rebuild: <directory>/<sha>` or `<directory>/latest`. */
export interface RebuildConfig {
  /** The deploy folder of the deployment repository, checked as `deploy-directory` is. */
  readonly directory: string;
  /** A full commit sha (lower case), or `latest`: what `<directory>/latest` names. */
  readonly sha: string;
}

/** One bad input: which one, what was given, and how to fix it. */
export interface InputProblem {
  readonly input: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly InputProblem[]) {
    super(problems.map((p) => `input \`${p.input}\`: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export type InputReader = (name: string) => string;

/** Inputs the log must never show, and that the build must not reach (a job holding one builds sandboxed). */
export const SECRET_INPUTS = ['deploy-key', 'deploy-token', 'github-token', 'albatross-ca-key', 'preview-key'] as const;

const TRUE_VALUES = ['true', 'True', 'TRUE'];
const FALSE_VALUES = ['false', 'False', 'FALSE'];
const OPAM_RELEASE = /^\d+\.\d+\.\d+(~[A-Za-z0-9]+)?$/;
const COMPILER_VERSION = /^\d+(\.\d+){0,2}([~+][A-Za-z0-9_.+~-]+)?$/;
const COMPILER_PACKAGE = /^(ocaml-base-compiler|ocaml-variants|ocaml-system)\.(\d[A-Za-z0-9_.+~-]*)$/;
const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_+-]*(\.[A-Za-z0-9_.+~-]+)?$/;
/** A repository or file name: letters, digits, `_`, `.` and `-`, starting with a letter or digit. */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const VERSION_CONSTRAINT =
  /^(\s*(=|!=|>=|<=|>|<)?\s*[A-Za-z0-9][A-Za-z0-9_.+~-]*\s*)(([&|])(\s*(=|!=|>=|<=|>|<)?\s*[A-Za-z0-9][A-Za-z0-9_.+~-]*\s*))*$/;
/** git's remote-helper syntax (`ext::<command>`, `fd::<n>`): the "URL" is a command or a descriptor. */
const HELPER_TRANSPORT = /(^|\+)[A-Za-z][A-Za-z0-9+.-]*::/;

/** `scheme://user:password@host/…` with the user information replaced, for anything echoed. */
export function redactUrl(text: string): string {
  // Over HTTP a user name alone can be a token (`https://ghp_…@host/`); over SSH it is the account (`git@`).
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/\s@]*)@/g, (whole, scheme: string, userinfo: string) =>
    /^(git\+)?https?:\/\/$/i.test(scheme) || userinfo.includes(':') ? `${scheme}***@` : whole,
  );
}

/**
 * Why `name` is not a branch name git accepts (`git check-ref-format --branch`), or undefined.
 * `refs/heads/X` is taken as `X` by the caller; here a name that git would read as an option, as
 * `HEAD` or as `@{-1}`, and every rule of `git check-ref-format` for `refs/heads/<name>`.
 */
export function branchNameProblem(name: string): string | undefined {
  if (name.startsWith('-')) return 'starts with `-`';
  if (name === 'HEAD') return 'is `HEAD`';
  if (name === '@') return 'is `@`';
  if (name.includes('@{')) return 'contains `@{`';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'has an empty path component';
  if (name.endsWith('.')) return 'ends with `.`';
  if (name.includes('..')) return 'contains `..`';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'contains a space, a control character or one of ~ ^ : ? * [ \\';
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return `has a component starting with \`.\` (\`${component}\`)`;
    if (component.endsWith('.lock')) return `has a component ending with \`.lock\` (\`${component}\`)`;
  }
  return undefined;
}

/** Whether `path` is `root` or inside it, both already resolved. */
function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

const FOLDER_SEGMENT = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;

/**
 * Why `segment` cannot name a folder or file of the deployment repository, or undefined when it
 * can: no `.`/`..`, no `.git`, not `latest` nor shaped like a commit sha (those are the layout's own
 * names), no leading `-` (read as an option by a host's tools).
 */
function badSegment(segment: string): string | undefined {
  if (!FOLDER_SEGMENT.test(segment)) return 'use letters, digits, `.`, `_` and `-`, not starting with `-`';
  if (segment === '.' || segment === '..') return '`.` and `..` are not folder names';
  if (segment.toLowerCase() === '.git') return "`.git` is git's own folder";
  if (segment === 'latest') return '`latest` is the file naming the newest deploy';
  if (COMMIT_SHA.test(segment.toLowerCase())) return 'a name shaped like a commit sha is a deploy folder';
  return undefined;
}

/**
 * Why `text` is not a list of complete shell words, or undefined: a quote left open or a `\` with
 * nothing after it, which the splitter would otherwise silently read as something else
 * (`--a='x` as two words `--a=` and `x`).
 */
export function shellWordsProblem(text: string): string | undefined {
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (c === '\\') {
      if (i === text.length - 1) return 'ends with a `\\` that escapes nothing';
      i += 1;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    }
  }
  return quote === undefined ? undefined : `opens a \`${quote}\` quote it never closes`;
}

/** Collects problems so that every bad input is reported at once, not one per run. */
class Reader {
  readonly problems: InputProblem[] = [];
  constructor(private readonly read: InputReader) {}

  raw(name: string): string {
    return this.read(name).trim();
  }

  optional(name: string): string | undefined {
    const value = this.raw(name);
    return value === '' ? undefined : value;
  }

  fail(input: string, message: string): undefined {
    this.problems.push({ input, message });
    return undefined;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === '') return fallback;
    if (TRUE_VALUES.includes(value)) return true;
    if (FALSE_VALUES.includes(value)) return false;
    this.fail(name, `\`${value}\` is not a boolean; use \`true\` or \`false\``);
    return fallback;
  }

  choice<T extends string>(name: string, choices: readonly T[], fallback: T, what: string): T {
    const value = this.raw(name) || fallback;
    if ((choices as readonly string[]).includes(value)) return value as T;
    this.fail(name, `\`${value}\` is not ${what}; use one of: ${choices.join(', ')}`);
    return fallback;
  }

  /** Shell-like words; `oneLine` refuses a newline, which would otherwise split one command into more arguments. */
  words(name: string, oneLine = false): string[] {
    const value = this.raw(name);
    if (value === '') return [];
    if (oneLine && /[\r\n]/.test(value)) {
      this.fail(
        name,
        'holds more than one line, but it is one command run without a shell (a second line would become more ' +
          'arguments of the first); write one command on one line, or call a script that runs the others',
      );
      return [];
    }
    const unfinished = shellWordsProblem(value);
    if (unfinished !== undefined) {
      this.fail(
        name,
        `\`${value}\` ${unfinished}, so it does not split into arguments; close the quote, or escape the ` +
          'character with `\\` (or quote a `\'` as `"\'"`)',
      );
      return [];
    }
    const words: string[] = [];
    for (const token of parseShellWords(value, (key) => `$${key}`)) {
      if (typeof token === 'string') {
        words.push(token);
      } else if ('op' in token && token.op === 'glob') {
        words.push(token.pattern);
      } else {
        const shown = 'op' in token ? token.op : '#';
        this.fail(
          name,
          `\`${shown}\` is shell syntax, but the command runs without a shell; ` +
            'pass plain arguments, or call a script that does the rest',
        );
        return [];
      }
    }
    return words;
  }
}

function parseCompiler(r: Reader): CompilerSpec {
  const value = r.raw('ocaml-compiler') || DEFAULT_COMPILER;
  if (value === 'ocaml-system') return { kind: 'system' };
  const pkg = COMPILER_PACKAGE.exec(value);
  if (pkg?.[1] && pkg[2]) {
    return pkg[1] === 'ocaml-system' ? { kind: 'system' } : { kind: 'package', name: pkg[1], version: pkg[2] };
  }
  if (COMPILER_VERSION.test(value)) return { kind: 'version', version: value };
  r.fail(
    'ocaml-compiler',
    `\`${value}\` is not an OCaml compiler; use a version such as \`5.4\` or \`5.4.1\`, ` +
      'a package such as `ocaml-base-compiler.5.4.1` or `ocaml-variants.5.4.1+options`, or `ocaml-system`',
  );
  return { kind: 'version', version: DEFAULT_COMPILER };
}

function isGitUrl(value: string): boolean {
  return /^(ssh|https?|git|file):\/\/[^\s]+$/.test(value) || SCP_LIKE.test(value);
}

function helperTransport(url: string): string {
  return (
    `(\`${redactUrl(url)}\`) uses a git remote-helper transport (\`ext::\`, \`fd::\`), which runs a command ` +
    'instead of fetching; give an `https://`, `ssh://`, `git@host:path` or `file://` URL'
  );
}

function parseRepositories(r: Reader): OpamRepository[] {
  const value = r.raw('opam-repositories');
  if (value === '') return [DEFAULT_OPAM_REPOSITORY];
  const example = 'write one `name: url` a line, e.g. `default: https://github.com/ocaml/opam-repository.git`';
  let parsed: unknown;
  try {
    parsed = parseYaml(value);
  } catch (error) {
    r.fail('opam-repositories', `is not valid YAML (${(error as Error).message.split('\n')[0]}); ${example}`);
    return [];
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    r.fail('opam-repositories', `${JSON.stringify(value)} is not a YAML map of name to URL; ${example}`);
    return [];
  }
  const repositories: OpamRepository[] = [];
  for (const [name, url] of Object.entries(parsed)) {
    if (!PLAIN_NAME.test(name)) {
      r.fail(
        'opam-repositories',
        `\`${name}\` is not a valid repository name; use letters, digits, \`-\`, \`_\`, \`.\``,
      );
    } else if (typeof url === 'string' && HELPER_TRANSPORT.test(url)) {
      r.fail('opam-repositories', `the URL of \`${name}\` ${helperTransport(url)}`);
    } else if (typeof url !== 'string' || !(isGitUrl(url) || /^git\+|^[a-z]+\+https?:\/\//.test(url))) {
      r.fail('opam-repositories', `the URL of \`${name}\` (\`${redactUrl(String(url))}\`) is not a URL; ${example}`);
    } else {
      repositories.push({ name, url });
    }
  }
  return repositories;
}

function parsePins(r: Reader): OpamPin[] {
  const pins: OpamPin[] = [];
  for (const line of r.raw('opam-pins').split('\n')) {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) continue;
    const colon = text.indexOf(':');
    const name = (colon === -1 ? text : text.slice(0, colon)).trim();
    const url = colon === -1 ? undefined : text.slice(colon + 1).trim();
    if (!PACKAGE_NAME.test(name)) {
      r.fail('opam-pins', `\`${text}\` does not start with a package name; write \`pkg\` or \`pkg: url\``);
    } else if (url !== undefined && HELPER_TRANSPORT.test(url)) {
      r.fail('opam-pins', `the URL of \`${name}\` ${helperTransport(url)}`);
    } else if (url !== undefined && !/^[a-z+]*:\/\/\S+$|^[a-z]+\+\S+$|^\S+@\S+:\S+$/.test(url)) {
      r.fail('opam-pins', `\`${redactUrl(text)}\`: \`${redactUrl(url)}\` is not a URL; write \`pkg\` or \`pkg: url\``);
    } else {
      pins.push(url === undefined ? { name } : { name, url });
    }
  }
  return pins;
}

function parseBuild(r: Reader, ctx: RunContext, needsSources: boolean): BuildConfig {
  const target = r.raw('target') || DEFAULT_TARGET;
  if (!isTarget(target)) {
    r.fail('target', `\`${target}\` is not a MirageOS target; use one of: ${TARGET_NAMES.join(', ')}`);
  }
  const dir = r.raw('working-directory') || '.';
  const workingDirectory = isAbsolute(dir) ? dir : resolve(ctx.workspace, dir);
  const configFile = r.raw('config-file') || 'config.ml';
  if (needsSources) {
    if (!existsSync(workingDirectory) || !statSync(workingDirectory).isDirectory()) {
      r.fail(
        'working-directory',
        `\`${dir}\` is not a folder (looked in ${workingDirectory}); give the folder holding config.ml, relative to the workspace`,
      );
    } else if (!isInside(realpathSync(workingDirectory), realpathSync(ctx.workspace))) {
      r.fail(
        'working-directory',
        `\`${dir}\` resolves to ${realpathSync(workingDirectory)}, outside the workspace ${ctx.workspace}; ` +
          'give a folder of the checkout (relative to the workspace, or an absolute path inside it)',
      );
    } else if (!existsSync(join(workingDirectory, configFile))) {
      r.fail(
        'config-file',
        `\`${configFile}\` was not found in ${workingDirectory}; check \`working-directory\` and \`config-file\`` +
          ' (did the workflow run actions/checkout first?)',
      );
    } else if (!isInside(realpathSync(join(workingDirectory, configFile)), realpathSync(workingDirectory))) {
      r.fail(
        'config-file',
        `\`${configFile}\` resolves to ${realpathSync(join(workingDirectory, configFile))}, outside ${workingDirectory}; ` +
          'give the name of a file in `working-directory`, not a link to one elsewhere',
      );
    }
  }
  const prebuilt = parsePrebuilt(r, ctx);
  const reproducible = r.choice('reproducible', REPRODUCIBLE_MODES, 'off', 'a reproducibility check');
  if (prebuilt !== undefined && reproducible !== 'off') {
    r.fail(
      'reproducible',
      `is \`${reproducible}\` together with \`image-path\`, which builds nothing; set it in the job that builds`,
    );
  }
  const imageName = r.optional('image-name');
  if (imageName !== undefined && !PLAIN_NAME.test(imageName)) {
    r.fail('image-name', `\`${imageName}\` is not a file name; use letters, digits, \`-\`, \`_\`, \`.\``);
  }
  return {
    target: isTarget(target) ? target : DEFAULT_TARGET,
    workingDirectory,
    configFile,
    configureArgs: r.words('configure-args'),
    buildCommand: r.words('build-command', true),
    reproducible,
    ...defined({ imageName, prebuilt, attestationBundle: parseAttestationBundle(r, ctx, prebuilt) }),
  };
}

/** `attestation-bundle`: the two-job pattern's deploy job only, where the build's attestation exists. */
function parseAttestationBundle(r: Reader, ctx: RunContext, prebuilt: BuildConfig['prebuilt']): string | undefined {
  const given = r.optional('attestation-bundle');
  // as `image-path`: a manual run given `rollback-to` deploys no image, so it has no bundle to check
  if (given === undefined || r.optional('rollback-to') !== undefined) return undefined;
  if (prebuilt === undefined) {
    return r.fail(
      'attestation-bundle',
      'works only in the two-job pattern, with `image-path`: the attestation is made after the build step, so ' +
        "give it to the deploy job that takes the build job's `dist/` (copy the bundle into `dist/` before the upload)",
    );
  }
  const path = isAbsolute(given) ? given : resolve(ctx.workspace, given);
  if (!existsSync(path)) {
    return r.fail(
      'attestation-bundle',
      `\`${given}\` does not exist (looked in ${path}); give the bundle path inside the downloaded \`dist/\``,
    );
  }
  return path;
}

function parsePrebuilt(r: Reader, ctx: RunContext): BuildConfig['prebuilt'] {
  const given = r.optional('image-path');
  if (given === undefined) return undefined;
  // One deploy job serves both: a manual run given `rollback-to` moves `latest` and deploys no image.
  if (r.optional('rollback-to') !== undefined) return undefined;
  const path = isAbsolute(given) ? given : resolve(ctx.workspace, given);
  if (!existsSync(path)) {
    return r.fail(
      'image-path',
      `\`${given}\` does not exist (looked in ${path}); give the folder the build job's \`dist/\` was downloaded to`,
    );
  }
  return { path, isFolder: statSync(path).isDirectory() };
}

const REFRESH_PERIODS = ['daily', 'weekly', 'monthly', 'never'] as const;

function parseCacheRefresh(r: Reader): CacheRefresh {
  const value = r.raw('cache-refresh') || 'weekly';
  const period = REFRESH_PERIODS.find((p) => p === value);
  if (period !== undefined) return { kind: period };
  const label = /^fixed:([A-Za-z0-9._]{1,64})$/.exec(value)?.[1];
  if (label !== undefined) return { kind: 'fixed', label };
  r.fail(
    'cache-refresh',
    `\`${value}\` is not a refresh period; use one of ${REFRESH_PERIODS.join(', ')}, ` +
      'or `fixed:LABEL` (letters, digits, `.`, `_`) to refresh whenever you change LABEL',
  );
  return { kind: 'weekly' };
}

function parseSetup(r: Reader): SetupConfig {
  const ocamlCompiler = parseCompiler(r);
  const opamVersion = r.raw('opam-version') || '2.4.1';
  if (opamVersion !== 'system' && !OPAM_RELEASE.test(opamVersion)) {
    r.fail(
      'opam-version',
      `\`${opamVersion}\` is not an opam release; use a version such as \`2.4.1\`, or \`system\` for the opam on PATH`,
    );
  }
  const opamSha256 = r.optional('opam-sha256')?.toLowerCase();
  if (opamSha256 !== undefined && !SHA256_HEX.test(opamSha256)) {
    r.fail('opam-sha256', 'is not a SHA-256; give the 64 hexadecimal digits of `sha256sum opam`');
  }
  const opamDownloadUrl = r.optional('opam-download-url')?.replace(/\/+$/, '');
  if (opamDownloadUrl !== undefined && !/^https?:\/\/\S+$/.test(opamDownloadUrl)) {
    r.fail('opam-download-url', `\`${opamDownloadUrl}\` is not an http(s) URL`);
  }
  const mirageVersion = r.raw('mirage-version') || '>= 4.11.0 & < 5.0.0';
  if (!VERSION_CONSTRAINT.test(mirageVersion)) {
    r.fail(
      'mirage-version',
      `\`${mirageVersion}\` is not an opam version constraint; write e.g. \`>= 4.11.0 & < 5.0.0\` or \`4.11.1\``,
    );
  }
  const cachePrefix = r.raw('cache-prefix') || 'v1';
  if (!/^[A-Za-z0-9_.-]+$/.test(cachePrefix)) {
    r.fail(
      'cache-prefix',
      `\`${cachePrefix}\` may hold only letters, digits, \`-\`, \`_\` and \`.\` (cache keys cannot contain commas)`,
    );
  }
  return {
    cacheRefresh: parseCacheRefresh(r),
    ocamlCompiler,
    ocamlCompilerInput: r.raw('ocaml-compiler') || DEFAULT_COMPILER,
    opamVersion,
    ...defined({ opamSha256, opamDownloadUrl }),
    opamRepositories: parseRepositories(r),
    opamPins: parsePins(r),
    opamDisableSandboxing: r.boolean('opam-disable-sandboxing', false),
    mirageVersion,
    cache: r.boolean('cache', true),
    cachePrefix,
  };
}

/**
 * A branch input as the branch's name: `refs/heads/<name>` is taken as `<name>`; any other full
 * ref (`refs/tags/v1`, `refs/heads/refs/heads/x`) is refused, since git would make a branch of
 * that name under `refs/heads/`.
 */
function branchInput(r: Reader, input: string, given: string, example: string): string | undefined {
  const name = given.startsWith('refs/heads/') ? given.slice('refs/heads/'.length) : given;
  if (name.startsWith('refs/')) {
    return r.fail(
      input,
      `\`${given}\` is a full ref but not a branch's (git would make a branch named \`refs/heads/${name}\`); ` +
        `give the branch's name alone, such as ${example}, or \`refs/heads/<name>\``,
    );
  }
  const problem = branchNameProblem(name);
  if (problem === undefined) return name;
  return r.fail(input, `\`${given}\` is not a branch name git accepts (it ${problem}); give a name such as ${example}`);
}

function parseBranches(r: Reader): string[] {
  return r
    .raw('deploy-branches')
    .split(/[,\n]/)
    .map((b) => b.trim())
    .filter((b) => b !== '')
    .map((b) => branchInput(r, 'deploy-branches', b, '`main`, comma or newline separated'))
    .filter((b): b is string => b !== undefined);
}

function parseRepository(r: Reader, ctx: RunContext, enabled: boolean): string {
  const repository = r.optional('deploy-repository') ?? (ctx.repository ? `${ctx.repository}-deployment` : '');
  if (enabled && repository === '') {
    r.fail('deploy-repository', 'is empty and GITHUB_REPOSITORY is not set; give `owner/name` or a git URL');
  } else if (repository !== '' && !OWNER_NAME.test(repository) && !isGitUrl(repository)) {
    r.fail(
      'deploy-repository',
      `\`${redactUrl(repository)}\` is neither \`owner/name\` nor a git URL (\`ssh://git@host:port/path.git\`, \`git@host:path.git\`, \`https://host/path.git\`)`,
    );
  }
  return repository;
}

/** The secret and what pins the server: `deploy-key` or `deploy-token`, `known-hosts`. */
function parseAccess(r: Reader): Pick<DeployConfig, 'key' | 'token' | 'knownHosts'> {
  const key = r.optional('deploy-key');
  const token = r.optional('deploy-token');
  if (key !== undefined && token !== undefined) {
    r.fail(
      'deploy-token',
      'is set together with `deploy-key`; set one secret only (the key for SSH, the token for HTTPS)',
    );
  }
  const knownHosts = r.optional('known-hosts');
  for (const line of knownHosts?.split('\n') ?? []) {
    const text = line.trim();
    if (text !== '' && !text.startsWith('#') && text.split(/\s+/).length < 3) {
      r.fail('known-hosts', `\`${text.slice(0, 60)}\` is not a known_hosts line; write \`host keytype base64-key\``);
    }
  }
  return defined({ key, token, knownHosts });
}

function parseDirectory(r: Reader, target: Target): string {
  const directory = r.optional('deploy-directory') ?? target;
  const badFolder = directory
    .split('/')
    .map(badSegment)
    .find((why) => why !== undefined);
  if (badFolder !== undefined) {
    r.fail(
      'deploy-directory',
      `\`${directory}\` is not a folder of the deployment repository: ${badFolder}; give one or more ` +
        'segments separated by `/`, such as `xen` or `xen-staging/eu`',
    );
  }
  return directory;
}

/** `deploy-image-name`: a plain file name (the host refuses any other), and not one of the layout's own. */
function parseImageName(r: Reader): string | undefined {
  const imageName = r.optional('deploy-image-name');
  if (imageName === undefined) return undefined;
  const plain = plainNameProblem(imageName);
  const bad = plain === undefined ? badSegment(imageName) : `it ${plain}`;
  if (bad === undefined) return imageName;
  return r.fail(
    'deploy-image-name',
    `\`${imageName}\` is not an image name: ${bad}; give one name of letters, digits, \`.\`, \`_\` and \`-\`, ` +
      "starting with a letter or digit, without the target's extension, such as `mir-mirage.io`",
  );
}

function parseBootArgs(r: Reader): string[] {
  if (r.raw('boot-args').includes('\r')) {
    r.fail(
      'boot-args',
      'holds a carriage return (a Windows line ending?), but the `.args` file has one argument a line; remove it',
    );
    return [];
  }
  const bootArgs = r.words('boot-args');
  if (bootArgs.some((arg) => /[\n\0]/.test(arg))) {
    r.fail('boot-args', 'an argument holds a line break, but the `.args` file has one argument a line; remove it');
  }
  return bootArgs;
}

/** `github-token` and `environment`: what the GitHub deployment records need, checked before any work. */
function parseRecords(
  r: Reader,
  directory: string,
  enabled: boolean,
): Pick<
  DeployConfig,
  'githubToken' | 'environment' | 'deploymentRecords' | 'hostReports' | 'waitForHost' | 'dependencyGraph'
> {
  const githubToken = r.optional('github-token');
  if (githubToken !== undefined && !/^[\x21-\x7e]{1,255}$/.test(githubToken)) {
    r.fail(
      'github-token',
      githubToken.length > 255
        ? `is ${githubToken.length} characters long, but a token has at most 255; give the workflow's token, \`\${{ github.token }}\`, or leave it empty`
        : "holds a space, a line break or a character outside printable ASCII, which no token holds; give the workflow's token, `${{ github.token }}`, or leave it empty",
    );
  }
  const given = r.optional('environment');
  // eslint-disable-next-line no-control-regex
  if (given !== undefined && (given.length > 255 || /[\x00-\x1f\x7f]/.test(given))) {
    r.fail(
      'environment',
      given.length > 255
        ? `is ${given.length} characters long; GitHub takes an environment name of at most 255, such as \`production\``
        : 'holds a line break or another control character; give one line, such as `production`, or leave it empty for the deploy folder',
    );
  }
  const dependencyGraph = r.boolean('dependency-graph', false);
  if (dependencyGraph && githubToken === undefined) {
    r.fail(
      'dependency-graph',
      'is `true`, but `github-token` is empty: the dependency submission API needs a token with `contents: write`; ' +
        'give `github-token: ${{ github.token }}` with that permission, or set `dependency-graph: false`',
    );
  }
  return {
    ...defined({ githubToken }),
    environment: given ?? directory,
    dependencyGraph,
    ...parseHostReports(r, githubToken, enabled),
  };
}

/** `deployment-records`, `host-reports` and `wait-for-host`: the host reports to a record only if one is made. */
function parseHostReports(
  r: Reader,
  githubToken: string | undefined,
  enabled: boolean,
): Pick<DeployConfig, 'deploymentRecords' | 'hostReports' | 'waitForHost'> {
  const deploymentRecords = r.boolean('deployment-records', true);
  const waitForHost = wholeNumber(r, 'wait-for-host', 'a number of seconds') ?? 0;
  const hostReports = r.boolean('host-reports', false) || waitForHost > 0;
  const input = waitForHost > 0 ? 'wait-for-host' : 'host-reports';
  if (hostReports && githubToken === undefined) {
    r.fail(
      input,
      'needs `github-token` (with `deployments: write`): the host reports to the deployment record it makes',
    );
  } else if (hostReports && !deploymentRecords) {
    r.fail(input, 'needs `deployment-records: true`: the host reports to the record named in `latest.deployment`');
  }
  if (waitForHost > 0 && !enabled) {
    r.fail('wait-for-host', 'needs `deploy: true`: only a deploy gives the host something to run');
  }
  return { deploymentRecords, hostReports, waitForHost };
}

function parseKeepHistory(r: Reader): number | undefined {
  const given = r.optional('keep-history');
  if (given === undefined) return undefined;
  if (!/^[1-9]\d{0,5}$/.test(given)) {
    r.fail(
      'keep-history',
      `\`${given}\` is not a number of commits; give a whole number from 1, such as 50, or leave it empty to keep all history`,
    );
    return undefined;
  }
  return Number(given);
}

/** The inputs a rebuild cannot go with: each chooses another thing to do than building a deployed commit again. */
const NOT_WITH_REBUILD: ReadonlyArray<readonly [string, string]> = [
  ['rollback-to', 'a rollback builds nothing'],
  ['promote-from', 'a promote builds nothing'],
  ['image-path', 'a rebuild builds the image itself'],
];

/**
 * `rebuild`: `<directory>/<sha>` or `<directory>/latest`, the directory checked as `deploy-directory`
 * is. A rebuild deploys nothing, so every input that deploys or builds nothing is refused beside it.
 */
function parseRebuild(r: Reader): RebuildConfig | undefined {
  const given = r.optional('rebuild');
  if (given === undefined) return undefined;
  const slash = given.lastIndexOf('/');
  const directory = slash < 0 ? '' : given.slice(0, slash);
  const sha = given.slice(slash + 1).toLowerCase();
  const bad =
    directory === ''
      ? 'it has no `/`'
      : directory
          .split('/')
          .map(badSegment)
          .find((w) => w !== undefined);
  if (bad !== undefined || (sha !== 'latest' && !COMMIT_SHA.test(sha))) {
    const why = bad ?? `\`${sha}\` is not \`latest\` or a full commit sha (40 or 64 hexadecimal digits)`;
    return r.fail(
      'rebuild',
      `\`${given}\` is not \`<directory>/<sha>\` or \`<directory>/latest\`: ${why}; write e.g. \`unix/latest\``,
    );
  }
  for (const [other, why] of NOT_WITH_REBUILD) {
    if (r.optional(other) !== undefined)
      r.fail('rebuild', `cannot be used with \`${other}\`: ${why}; give one of the two`);
  }
  if (r.boolean('deploy', false)) {
    r.fail('rebuild', 'deploys nothing, but `deploy` is `true`; run the rebuild in a job of its own, without `deploy`');
  }
  if (/albatross/.test(r.raw('deploy-to'))) {
    r.fail('rebuild', 'deploys nothing, to albatross neither; remove `deploy-to`');
  }
  return { directory, sha };
}

/** `promote-from` and `promote-sha`, refused beside another way of choosing what to deploy. */
function parsePromote(r: Reader, ctx: RunContext, directory: string): PromoteConfig | undefined {
  const from = r.optional('promote-from');
  if (from === undefined) {
    if (r.optional('promote-sha') !== undefined)
      r.fail('promote-sha', 'is only read with `promote-from`; set both, or neither');
    return undefined;
  }
  const bad = from
    .split('/')
    .map(badSegment)
    .find((why) => why !== undefined);
  if (bad !== undefined) {
    return r.fail(
      'promote-from',
      `\`${from}\` is not a folder of the deployment repository: ${bad}; give one such as \`staging\``,
    );
  }
  for (const other of ['rollback-to', 'image-path'] as const) {
    if (r.optional(other) !== undefined) {
      r.fail(
        'promote-from',
        `cannot be used with \`${other}\`: a promote copies a deployed folder; give one of the two`,
      );
    }
  }
  if (r.optional('deploy-directory') === undefined || directory === from) {
    r.fail(
      'promote-from',
      `needs \`deploy-directory\`, the folder to promote \`${from}\` to (such as \`prod\`), other than \`${from}\``,
    );
  }
  if (/albatross/.test(r.raw('deploy-to'))) {
    r.fail('promote-from', 'copies between folders of the deployment repository; remove `albatross` from `deploy-to`');
  }
  const given = (r.optional('promote-sha') ?? ctx.sha).toLowerCase();
  if (given !== 'latest' && !COMMIT_SHA.test(given)) {
    r.fail('promote-sha', `\`${given}\` is not \`latest\` or a full commit sha (40 or 64 hexadecimal digits)`);
  }
  return { from, sha: given, newBootArgs: r.optional('boot-args') !== undefined };
}

function parseDeploy(r: Reader, ctx: RunContext, target: Target): DeployConfig {
  const enabled = r.boolean('deploy', false);
  const keepText = r.raw('keep') || '0';
  if (!/^\d+$/.test(keepText)) {
    r.fail('keep', `\`${keepText}\` is not a number of images; use 0 to keep all, or a positive whole number`);
  }
  const serverUrl = (r.optional('server-url') ?? ctx.serverUrl).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(serverUrl)) {
    r.fail('server-url', `\`${serverUrl}\` is not an http(s) URL such as \`https://github.com\``);
  }
  const rollbackTo = r.optional('rollback-to')?.toLowerCase();
  if (rollbackTo !== undefined && !COMMIT_SHA.test(rollbackTo)) {
    r.fail('rollback-to', `\`${rollbackTo}\` is not a full commit sha; give the 40-character sha of a deployed commit`);
  }
  const given = r.optional('deploy-repository-branch');
  const repositoryBranch =
    given === undefined ? undefined : branchInput(r, 'deploy-repository-branch', given, '`main` or `gh-pages`');
  const directory = parseDirectory(r, target);
  return {
    enabled,
    branches: parseBranches(r),
    repository: parseRepository(r, ctx, enabled),
    ...parseAccess(r),
    ...defined({ repositoryBranch, commitMessage: r.optional('commit-message'), rollbackTo }),
    ...defined({ imageName: parseImageName(r), keepHistory: parseKeepHistory(r) }),
    ...defined({ promote: parsePromote(r, ctx, directory) }),
    serverUrl,
    compression: r.choice('compression', COMPRESSIONS, 'bzip2', 'a compression'),
    keep: /^\d+$/.test(keepText) ? Number(keepText) : 0,
    commitUserName: r.raw('commit-user-name') || 'github-actions[bot]',
    commitUserEmail: r.raw('commit-user-email') || '41898282+github-actions[bot]@users.noreply.github.com',
    dryRun: r.boolean('dry-run', false),
    directory,
    bootArgs: parseBootArgs(r),
    ...parseRecords(r, directory, enabled),
  };
}

function parseDeployTo(r: Reader): DeployDestination[] {
  const given = r
    .raw('deploy-to')
    .split(/[,\n]/)
    .map((d) => d.trim())
    .filter((d) => d !== '');
  const bad = given.find((d) => !(DEPLOY_DESTINATIONS as readonly string[]).includes(d));
  if (bad !== undefined) {
    r.fail('deploy-to', `\`${bad}\` is not a destination; list one or both of: ${DEPLOY_DESTINATIONS.join(', ')}`);
  }
  const destinations = DEPLOY_DESTINATIONS.filter((d) => given.includes(d));
  return destinations.length === 0 ? ['repository'] : destinations;
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/;
const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/;

function lines(r: Reader, name: string): string[] {
  return r
    .raw(name)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function parseEndpoints(r: Reader): string[] {
  const endpoints = lines(r, 'albatross-endpoints');
  if (endpoints.length === 0) {
    r.fail('albatross-endpoints', 'is empty; give one `host:port` of an albatross-tls-endpoint a line');
  }
  for (const endpoint of endpoints) {
    const port = Number(HOST_PORT.exec(endpoint)?.[2] ?? 0);
    if (port < 1 || port > 65535) {
      r.fail('albatross-endpoints', `\`${endpoint}\` is not \`host:port\`; write e.g. \`albatross.example.org:1025\``);
    }
  }
  if (new Set(endpoints).size !== endpoints.length) {
    r.fail('albatross-endpoints', 'names an endpoint twice; list each `host:port` once');
  }
  return endpoints;
}

function wholeNumber(r: Reader, name: string, what: string): number | undefined {
  const text = r.optional(name);
  if (text === undefined) return undefined;
  if (/^\d{1,7}$/.test(text)) return Number(text);
  return r.fail(name, `\`${text}\` is not ${what}; give a whole number`);
}

function parseAlbatrossDevices(r: Reader): Pick<AlbatrossConfig, 'network' | 'block'> {
  const network = lines(r, 'albatross-network');
  for (const line of network) {
    if (!/^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+(@[0-9A-Fa-f:]+)?$/.test(line)) {
      r.fail('albatross-network', `\`${line}\` is not \`device:bridge\`; write e.g. \`service:br0\``);
    }
  }
  const block = lines(r, 'albatross-block');
  for (const line of block) {
    if (!/^[A-Za-z0-9_.:@-]+$/.test(line)) {
      r.fail(
        'albatross-block',
        `\`${line}\` is not albatross-client's \`--block\` value (\`name:block-device[@sector-size]\`)`,
      );
    }
  }
  return { network, block };
}

/** The `albatross-*` inputs, when `deploy-to` names `albatross`; their secret is checked in src/albatross/preflight.ts. */
function parseAlbatross(r: Reader, ctx: RunContext, target: Target): AlbatrossConfig | undefined {
  const destinations = parseDeployTo(r);
  if (!destinations.includes('albatross')) return undefined;
  if (target !== 'spt' && target !== 'hvt') {
    r.fail(
      'deploy-to',
      `names \`albatross\`, which runs solo5 images only, but \`target\` is \`${target}\`; use \`spt\` or \`hvt\``,
    );
  }
  const serverCa = r.raw('albatross-server-ca');
  if (!PEM_CERTIFICATE.test(serverCa)) {
    r.fail(
      'albatross-server-ca',
      serverCa === ''
        ? "is empty; give the PEM certificate of the CA that signed the endpoints' certificates (it pins them, as `known-hosts` pins SSH hosts)"
        : 'is not a PEM certificate (`-----BEGIN CERTIFICATE-----`…)',
    );
  }
  const name = r.optional('albatross-name');
  if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    r.fail('albatross-name', `\`${name}\` is not a unikernel name; use letters, digits, \`-\`, \`_\`, \`.\``);
  }
  const client = r.optional('albatross-client');
  const clientSha256 = r.optional('albatross-client-sha256')?.toLowerCase();
  if (clientSha256 !== undefined && !SHA256_HEX.test(clientSha256)) {
    r.fail(
      'albatross-client-sha256',
      'is not a SHA-256; give the 64 hexadecimal digits of `sha256sum albatross-client`',
    );
  }
  const url = client !== undefined && /^https?:\/\//.test(client);
  if (url && clientSha256 === undefined) {
    r.fail(
      'albatross-client-sha256',
      'is empty, but `albatross-client` is a URL: a downloaded client runs only with its pinned digest; give the 64 hexadecimal digits of the build you checked',
    );
  }
  return {
    repository: destinations.includes('repository'),
    endpoints: parseEndpoints(r),
    serverCa,
    ...defined({
      caKey: r.optional('albatross-ca-key'),
      caCert: r.optional('albatross-ca-cert'),
      name,
      memory: wholeNumber(r, 'albatross-memory', 'a memory size in MB'),
      cpuid: wholeNumber(r, 'albatross-cpuid', 'a CPU id'),
      client: client === undefined || url ? client : resolve(ctx.workspace, client),
      clientSha256,
    }),
    ...parseAlbatrossDevices(r),
    restartOnFail: r.boolean('albatross-restart-on-fail', false),
    bootWaitSeconds: wholeNumber(r, 'albatross-boot-wait', 'a number of seconds') ?? 5,
  };
}

/** `pr-comment`, `preview-key`, `pr-comment-from`: each needs the token that writes the comment. */
function parsePreview(r: Reader, ctx: RunContext, deploy: DeployConfig): PreviewConfig {
  const comment = r.boolean('pr-comment', false);
  const key = r.optional('preview-key');
  const from = r.optional('pr-comment-from');
  if ((comment || from !== undefined) && deploy.githubToken === undefined) {
    r.fail(
      comment ? 'pr-comment' : 'pr-comment-from',
      'comments on the pull request with `github-token`, which is empty; give `github-token: ${{ github.token }}` ' +
        'and the workflow `permissions: pull-requests: write`',
    );
  }
  if (key !== undefined) {
    if (!comment) r.fail('preview-key', 'is only read with `pr-comment: true`; remove it, or set `pr-comment: true`');
    if (key === deploy.key) {
      r.fail(
        'preview-key',
        'is the deploy key; give a read-only key (a deploy key without write access), never the write key',
      );
    }
  }
  if (from !== undefined && (deploy.enabled || deploy.rollbackTo !== undefined)) {
    r.fail('pr-comment-from', 'only comments, and builds and deploys nothing; remove `deploy` and `rollback-to`');
  }
  return { comment, ...defined({ key, from: from === undefined ? undefined : resolve(ctx.workspace, from) }) };
}

/**
 * Reads and validates every input. Throws a ConfigError listing all bad inputs; has no side
 * effects beyond masking the secret inputs and looking at the working directory.
 */
export function parseConfig(read: InputReader, ctx: RunContext): Config {
  // Masked before anything is parsed, so that no message from here on can print them.
  for (const name of SECRET_INPUTS) maskSecret(read(name));
  const r = new Reader(read);
  // A rollback moves a pointer, `image-path` deploys a finished image, a promote copies a folder, a comment-only
  // run posts a preview: none builds or needs sources.
  const build = parseBuild(
    r,
    ctx,
    r.raw('rollback-to') === '' &&
      r.raw('image-path') === '' &&
      r.raw('promote-from') === '' &&
      r.raw('pr-comment-from') === '',
  );
  const rebuild = parseRebuild(r);
  // A rebuild starts from scratch: no cache restored or saved, so nothing of an earlier build is reused.
  const setup = rebuild === undefined ? parseSetup(r) : { ...parseSetup(r), cache: false };
  const deploy = parseDeploy(r, ctx, build.target);
  const albatross = parseAlbatross(r, ctx, build.target);
  const sandbox = {
    secretsHeld: SECRET_INPUTS.filter((name) => read(name).trim() !== ''),
    allowUnsandboxed: r.boolean('allow-unsandboxed-build', false),
    sshAgent: r.boolean('build-ssh-agent', false),
  };
  const bootTest = parseBootTest(r, ctx, build.prebuilt !== undefined, deploy.bootArgs);
  const preview = parsePreview(r, ctx, deploy);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return { build, setup, deploy, sandbox, bootTest, preview, ...defined({ albatross, rebuild }) };
}

/** The `boot-test*` inputs; a deploy-only job (`image-path`) tests nothing unless asked. */
function parseBootTest(r: Reader, ctx: RunContext, deployOnly: boolean, bootArgs: readonly string[]): BootTestConfig {
  const mode = r.choice('boot-test', BOOT_TEST_MODES, deployOnly ? 'off' : 'auto', 'a boot test mode');
  const timeoutText = r.raw('boot-test-timeout') || String(BOOT_TEST_TIMEOUT_SECONDS);
  const timeoutSeconds = /^\d{1,4}$/.test(timeoutText) ? Number(timeoutText) : 0;
  if (timeoutSeconds < 1 || timeoutSeconds > 3600) {
    r.fail('boot-test-timeout', `\`${timeoutText}\` is not a number of seconds from 1 to 3600; the default is 10`);
  }
  const expect = r.optional('boot-test-expect');
  if (expect !== undefined) {
    try {
      new RegExp(expect, 'm');
    } catch (error) {
      r.fail('boot-test-expect', `\`${expect}\` is not a regular expression (${(error as Error).message}); escape it`);
    }
  }
  const given = r.optional('boot-test-tender');
  const tender = given === undefined ? undefined : resolve(ctx.workspace, given);
  if (tender !== undefined && !(existsSync(tender) && statSync(tender).isFile())) {
    r.fail(
      'boot-test-tender',
      `\`${given}\` is not a file; give the path of solo5-spt or solo5-hvt (as \`opam install solo5\` installs it)`,
    );
  }
  const args = r.raw('boot-test-args') === '' ? bootArgs : r.words('boot-test-args');
  return { mode, args, timeoutSeconds, ...defined({ expect, tender }) };
}
