/** Pure decisions of the opam setup: what to run and how to read what opam prints. */
import type { OpamPin, OpamRepository } from '../config.js';
import { CONNECT_SECONDS, LOW_SPEED_BYTES } from '../deadlines.js';

export const SWITCH_NAME = 'mirage';

/** Variables every later step needs too (exported for the job, and passed to every opam command). */
export function opamVariables(root: string, cores: number): Record<string, string> {
  return {
    OPAMROOT: root,
    OPAMSWITCH: SWITCH_NAME,
    OPAMYES: '1',
    // A job has no one to answer a prompt, a risky one included.
    OPAMCONFIRMLEVEL: 'unsafe-yes',
    // System packages are the action's to install, outside the build's sandbox (mirage/system-packages.ts).
    OPAMNODEPEXTS: '1',
    OPAMRETRIES: '10',
    OPAMJOBS: String(cores),
    OPAMDOWNLOADJOBS: String(cores),
    OPAMCOLOR: 'always',
  };
}

/**
 * Progress deadlines for opam's downloads, unless the environment sets its own: OPAMFETCH is opam
 * 2.1's own curl command (opamDownload.ml: the HTTP code written last, which opam reads, and no
 * argument holding a space, since opam splits it on spaces) with curl's connect and speed limits;
 * the GIT_HTTP_LOW_SPEED pair stops a stalled git source (opam and `opam monorepo pull` run the
 * git command). `lowSpeedSeconds` is LOW_SPEED_SECONDS, shortened by the test variable.
 */
export function fetchVariables(
  env: Readonly<Record<string, string | undefined>>,
  curlFound: boolean,
  lowSpeedSeconds: number,
): Record<string, string> {
  const limits = ['--connect-timeout', String(Math.min(CONNECT_SECONDS, lowSpeedSeconds))];
  limits.push('--speed-limit', String(LOW_SPEED_BYTES), '--speed-time', String(lowSpeedSeconds));
  const fetch = ['curl', ...limits, '--write-out', '%%{http_code}\\n', '--retry', '%{retry}%', '--retry-delay', '2'];
  fetch.push('--user-agent', 'opam/%{opam-version}%', '-L', '-o', '%{out}%', '--', '%{url}%');
  const wanted: Record<string, string> = {
    ...(curlFound ? { OPAMFETCH: fetch.join(' ') } : {}),
    GIT_HTTP_LOW_SPEED_LIMIT: String(LOW_SPEED_BYTES),
    GIT_HTTP_LOW_SPEED_TIME: String(lowSpeedSeconds),
  };
  return Object.fromEntries(Object.entries(wanted).filter(([name]) => !env[name]));
}

/** `opam env --sexp`: `(("NAME" "value") …)`, strings with OCaml escapes. */
export function parseEnvSexp(text: string): Record<string, string> {
  const strings: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    strings.push((m[1] ?? '').replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t' })[c] ?? c));
  }
  const env: Record<string, string> = {};
  for (let i = 0; i + 1 < strings.length; i += 2) env[strings[i] as string] = strings[i + 1] as string;
  return env;
}

/**
 * Installed package versions from the switch's `.opam-switch/switch-state`. Read from the file
 * because `opam var` loads the repositories' state: seconds with opam-repository, on every warm run.
 */
export function installedVersions(switchState: string): Map<string, string> {
  const block = /^installed:\s*\[([^\]]*)\]/m.exec(switchState)?.[1] ?? '';
  const versions = new Map<string, string>();
  for (const m of block.matchAll(/"([^".]+)\.([^"]+)"/g)) versions.set(m[1] as string, m[2] as string);
  return versions;
}

/** A repository the opam root knows, and whether any switch (or the default) selects it. */
export interface KnownRepository extends OpamRepository {
  readonly selected: boolean;
}

/**
 * `opam repository list --all`: a `#` header, then `name url selections` rows. A repository the
 * unikernel's `make repo-rm` unselected (mirage's overlays) is still known, with no selections.
 */
export function parseRepositoryList(text: string): KnownRepository[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('['))
    .flatMap((line) => {
      const [name, url, ...selections] = line.split(/\s+/);
      return name && url ? [{ name, url, selected: selections.length > 0 }] : [];
    });
}

/** `opam pin list --short`: one package name a line. */
export function parsePinList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^[A-Za-z0-9][A-Za-z0-9_+-]*$/.test(line));
}

/**
 * Commands that turn the configured repositories into the wanted ones. New ones are appended
 * (`--rank=-1`) in order, so on a fresh root the first input stays the first in priority. An
 * unwanted repository that nothing selects stays: it changes no solution, and it is the overlay
 * the unikernel's `make lock` adds again (removing it would fetch it again on every partial hit).
 */
export function planRepositories(current: readonly KnownRepository[], wanted: readonly OpamRepository[]): string[][] {
  const commands: string[][] = [];
  const wantedNames = new Set(wanted.map((r) => r.name));
  for (const repo of current) {
    if (repo.selected && !wantedNames.has(repo.name))
      commands.push(['repository', 'remove', repo.name, '--all-switches', '--set-default']);
  }
  for (const repo of wanted) {
    const existing = current.find((r) => r.name === repo.name);
    if (existing === undefined || !existing.selected) {
      commands.push(['repository', 'add', repo.name, repo.url, '--all-switches', '--set-default', '--rank=-1']);
    } else if (existing.url !== repo.url) {
      commands.push(['repository', 'set-url', repo.name, repo.url]);
    }
  }
  return commands;
}

/** `pkg: url` pins the URL; `pkg.1.2` pins that version; `pkg` pins its upstream (dev-repo) source. */
export function pinCommand(pin: OpamPin): string[] {
  if (pin.url !== undefined) return ['pin', 'add', '--no-action', pin.name, pin.url];
  const dot = pin.name.indexOf('.');
  if (dot > 0) return ['pin', 'add', '--no-action', pin.name.slice(0, dot), pin.name.slice(dot + 1)];
  return ['pin', 'add', '--no-action', '--dev-repo', pin.name];
}

/** Pins that are not wanted any more go; every wanted one is (re)applied, which opam makes idempotent. */
export function planPins(current: readonly string[], wanted: readonly OpamPin[]): string[][] {
  const wantedNames = new Set(wanted.map((p) => p.name.split('.')[0]));
  return [
    ...current.filter((name) => !wantedNames.has(name)).map((name) => ['pin', 'remove', '--no-action', name]),
    ...wanted.map(pinCommand),
  ];
}

/**
 * The `mirage-version` input as an opam filter: `>= 4.11.0 & < 5.0.0` → `>= "4.11.0" & < "5.0.0"`,
 * and a bare version means exactly that version.
 */
export function opamFormula(constraint: string): string {
  return constraint
    .split(/([&|])/)
    .map((piece) => {
      const text = piece.trim();
      if (text === '&' || text === '|') return text;
      const match = /^(=|!=|>=|<=|>|<)?\s*(\S+)$/.exec(text);
      if (!match?.[2]) throw new Error(`input \`mirage-version\`: cannot read \`${text}\` in \`${constraint}\``);
      return `${match[1] ?? '='} "${match[2]}"`;
    })
    .join(' ');
}

/**
 * An opam file whose dependencies are what the action installs into the switch: `opam install
 * <its folder> --deps-only` then takes any constraint formula (opam 2.1 has no `--formula`) and
 * installs only what is missing. MirageOS 4.11 locks every target with opam-monorepo.
 */
export function requirementsOpamFile(mirageVersion: string): string {
  return [
    'opam-version: "2.0"',
    'synopsis: "What mirage-deploy installs into the switch"',
    // Without these opam lints the file on every install.
    'maintainer: "mirage-deploy"',
    'authors: "mirage-deploy"',
    'homepage: "https://github.com/mirage/mirage"',
    'bug-reports: "https://github.com/mirage/mirage/issues"',
    `depends: [ "mirage" {${opamFormula(mirageVersion)}} "opam-monorepo" ]`,
    '',
  ].join('\n');
}

/** A locked package, as the lock file names it. */
export interface LockedVersion {
  readonly name: string;
  readonly version: string;
}

/**
 * What the repositories say about the locked packages, read once before and once after a
 * refresh's `opam update`: every version of each (a new one could be locked) and the opam file of
 * each locked version (a changed one could change what it depends on). The lock holds every
 * package of the unikernel's closure, so a transitive dependency is one of them.
 */
export interface LockedState {
  readonly versions: string;
  readonly files: string;
}

/** The two queries that make a LockedState; both read opam's index, neither rebuilds it. */
export function lockedStateQueries(locked: readonly LockedVersion[]): { versions: string[]; files: string[] } {
  const names = [...new Set(locked.map((p) => p.name))].sort();
  const versions = [...new Set(locked.map((p) => `${p.name}.${p.version}`))].sort();
  return {
    versions: ['list', '--all', '--all-versions', '--short', '--columns=package', ...names],
    files: ['show', '--raw', ...versions],
  };
}

export type RelockPlan = { readonly relock: true; readonly reason: string } | { readonly relock: false };

/**
 * Whether a refreshed root must lock the unikernel again. Not when it was restored from this very
 * root of the last period, with a lock, and the repositories' update changed nothing the lock
 * names: locking again would give the same lock, so the lock, the switch and the duniverse stay.
 * A state that could not be read (a package opam does not know) locks again.
 */
export function planRelock(
  sameRoot: boolean,
  locked: number,
  before: LockedState | undefined,
  after: LockedState | undefined,
): RelockPlan {
  if (!sameRoot)
    return { relock: true, reason: 'the root restored is of another target, configuration or dependency set' };
  if (locked === 0) return { relock: true, reason: 'the root restored holds no lock file' };
  if (before === undefined || after === undefined) {
    return { relock: true, reason: 'opam could not show every locked package' };
  }
  if (before.versions !== after.versions) {
    const old = new Set(before.versions.split('\n'));
    const added = after.versions.split('\n').filter((v) => v !== '' && !old.has(v));
    const named = added.length > 0 ? `: ${added.join(', ')}` : '';
    return { relock: true, reason: `the repositories have other versions of locked packages${named}` };
  }
  if (before.files !== after.files) {
    return { relock: true, reason: 'the repositories changed the opam file of a locked package' };
  }
  return { relock: false };
}
