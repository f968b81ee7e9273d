/**
 * `<image>.buildinfo.json`: what anyone needs to rebuild an image elsewhere and compare hashes, in
 * the spirit of robur's orb: the runner's system and the few environment variables that steer a
 * build, the system packages it used, the switch exported with every package frozen to its exact
 * source, each opam repository's state, the action's inputs and version, and the image's sha256.
 * Pure: the document made from gathered facts, and the check a deploy job makes of one from an
 * artifact.
 */
import { redactUrl } from '../config.js';
import { SHA256_HEX } from '../patterns.js';

export const BUILDINFO_SCHEMA = 1;
/** A switch export with `--full` holds every package's opam file: a few hundred KiB for a unikernel. */
export const BUILDINFO_MAX_BYTES = 8 * 1024 * 1024;

export function buildInfoFileName(imageName: string): string {
  return `${imageName}.buildinfo.json`;
}

/**
 * The only variables recorded, when set: those that change what a compiler, opam or dune produce.
 * An allow-list, so no secret the job's environment holds can land in a public record.
 */
const RECORDED_NAMES = new Set([
  'CC',
  'CFLAGS',
  'LDFLAGS',
  'OCAMLPARAM',
  'OCAMLRUNPARAM',
  'BUILD_PATH_PREFIX_MAP',
  'SOURCE_DATE_EPOCH',
  'TZ',
  'LANG',
]);
const RECORDED_PREFIXES = ['LC_', 'OPAMVAR_', 'DUNE_'];

export function isRecordedVariable(name: string): boolean {
  return RECORDED_NAMES.has(name) || RECORDED_PREFIXES.some((p) => name.startsWith(p) && name.length > p.length);
}

/** The allowed variables of `env` that are set, in name order. */
export function recordedVariables(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env)
      .filter((e): e is [string, string] => e[1] !== undefined && isRecordedVariable(e[0]))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

export interface BuildEnvironment {
  /** The runner's OS as the runner names it (`Linux`, `macOS`). */
  readonly os: string;
  /** opam's `os-distribution` and `os-version`. */
  readonly distribution: string;
  readonly version: string;
  /** opam's `arch`. */
  readonly architecture: string;
  readonly variables: Readonly<Record<string, string>>;
}

export interface SystemPackage {
  readonly name: string;
  readonly version: string;
}

/** A git repository at a commit, or any other source by the sha256 of its content. */
export type RepositoryState =
  | { readonly name: string; readonly url: string; readonly commit: string }
  | { readonly name: string; readonly url: string; readonly sha256: string };

export interface BuildInputs {
  readonly target: string;
  readonly configureArgs: readonly string[];
  readonly bootArgs: readonly string[];
  readonly configFile: string;
  /** Relative to the workspace. */
  readonly workingDirectory: string;
  /** Empty: `make build`. */
  readonly buildCommand: readonly string[];
  /** `ocaml-compiler` as given, and the compiler the switch holds. */
  readonly compiler: string;
  readonly ocamlVersion: string;
  readonly mirageVersion: string;
}

export interface BuildInfo {
  readonly schema: number;
  readonly image: { readonly name: string; readonly file: string; readonly sha256: string; readonly size: number };
  readonly action: { readonly version: string };
  readonly environment: BuildEnvironment;
  readonly systemPackages: readonly SystemPackage[];
  /** `opam switch export --full --freeze` of the build switch, as opam wrote it. */
  readonly opamSwitch: string;
  /**
   * Why opam refused `--freeze` (a package whose source is a local folder), when it did: then
   * `opamSwitch` is `opam switch export --full`, and a rebuild may fetch other sources for it.
   */
  readonly opamSwitchNotFrozen?: string;
  readonly repositories: readonly RepositoryState[];
  readonly inputs: BuildInputs;
}

/**
 * The document, serialised deterministically (its fields in this order, lists as gathered). A
 * credential in a URL (a private repository's or pin's `https://token@…`) is replaced by `***`.
 */
export function buildInfoText(info: Omit<BuildInfo, 'schema'>): string {
  const doc: BuildInfo = {
    schema: BUILDINFO_SCHEMA,
    image: info.image,
    action: info.action,
    environment: info.environment,
    systemPackages: [...info.systemPackages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    opamSwitch: redactUrl(info.opamSwitch),
    ...(info.opamSwitchNotFrozen === undefined ? {} : { opamSwitchNotFrozen: info.opamSwitchNotFrozen }),
    repositories: info.repositories.map((r) => ({ ...r, url: redactUrl(r.url) })),
    inputs: info.inputs,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** `dpkg-query -W -f='${Package}\t${Version}\t${Status}\n'` output: the installed packages. */
export function parseDpkgVersions(output: string): SystemPackage[] {
  const found = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [name, version, status] = line.split('\t');
    if (name && version && status === 'install ok installed') found.set(name.replace(/:.*$/, ''), version);
  }
  return [...found.entries()].map(([name, version]) => ({ name, version }));
}

/** opam's reason for refusing `--freeze`: its `[ERROR]` line, colours removed, else its last line. */
export function freezeRefusal(stderr: string): string {
  const lines = stderr
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const error = lines.find((l) => l.startsWith('[ERROR]'));
  return (error ?? lines[lines.length - 1] ?? 'opam refused it').replace(/^\[ERROR\]\s*/, '');
}

/** Whether opam fetches this repository URL with git (`git+…`, `git://`, or a path ending `.git`). */
export function isGitUrl(url: string): boolean {
  return /^git(\+[a-z]+)?:\/\//.test(url) || /\.git(#.*)?$/.test(url.replace(/\/+$/, ''));
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isRecordOfStrings = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isString);

/** The first field of an environment or inputs record that is missing or of the wrong type. */
function shapeProblem(d: Record<string, unknown>): string | undefined {
  const env = (d.environment ?? {}) as Record<string, unknown>;
  const inputs = (d.inputs ?? {}) as Record<string, unknown>;
  const image = (d.image ?? {}) as Record<string, unknown>;
  const checks: Array<[string, boolean]> = [
    ['image.sha256', isString(image.sha256) && SHA256_HEX.test(image.sha256)],
    ['image.name', isString(image.name)],
    ['action.version', isString((d.action as Record<string, unknown> | undefined)?.version)],
    ['environment', ['os', 'distribution', 'version', 'architecture'].every((k) => isString(env[k]))],
    ['environment.variables', isRecordOfStrings(env.variables)],
    [
      'environment.variables (a name outside the allow-list)',
      isRecordOfStrings(env.variables) && Object.keys(env.variables as object).every(isRecordedVariable),
    ],
    [
      'systemPackages',
      Array.isArray(d.systemPackages) &&
        d.systemPackages.every((p: { name?: unknown; version?: unknown }) => isString(p?.name) && isString(p?.version)),
    ],
    ['opamSwitch', isString(d.opamSwitch)],
    ['opamSwitchNotFrozen', d.opamSwitchNotFrozen === undefined || isString(d.opamSwitchNotFrozen)],
    [
      'repositories',
      Array.isArray(d.repositories) &&
        d.repositories.every(
          (r: Record<string, unknown>) =>
            isString(r?.name) && isString(r?.url) && (isString(r?.commit) || isString(r?.sha256)),
        ),
    ],
    [
      'inputs',
      ['target', 'configFile', 'workingDirectory', 'compiler', 'mirageVersion'].every((k) => isString(inputs[k])),
    ],
    ['inputs (argument lists)', ['configureArgs', 'bootArgs', 'buildCommand'].every((k) => isStringList(inputs[k]))],
  ];
  return checks.find(([, ok]) => !ok)?.[0];
}

/**
 * Why a buildinfo from an artifact cannot be published, or undefined: too large, not this schema,
 * a field missing or mistyped, a variable outside the allow-list, or another image's sha256.
 */
export function buildInfoProblem(text: string, size: number, imageSha256: string): string | undefined {
  if (size > BUILDINFO_MAX_BYTES) return `it is ${size} bytes, more than the ${BUILDINFO_MAX_BYTES} a build writes`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `it is not JSON (${(error as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not a JSON object';
  const d = value as Record<string, unknown>;
  if (d.schema !== BUILDINFO_SCHEMA) return `its schema is ${String(d.schema)}, this action reads ${BUILDINFO_SCHEMA}`;
  const bad = shapeProblem(d);
  if (bad !== undefined) return `its \`${bad}\` is missing or malformed`;
  const sha256 = (d.image as { sha256: string }).sha256;
  if (sha256 !== imageSha256) return `it describes the image of sha256 ${sha256}, not this one (${imageSha256})`;
  return undefined;
}
