/** Pure decisions of the opam setup: what to run and how to read what opam prints. */
import type { OpamPin, OpamRepository, SetupConfig } from '../config.js';
import { CONNECT_SECONDS, LOW_SPEED_BYTES } from '../deadlines.js';
import { compareVersions } from '../mirage/depexts.js';
import type { CacheHit } from '../types.js';

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
/**
 * A repository URL as opam writes it in its list: the URL of a git repository (`….git`, without a
 * backend) gets `git+`, as opam guesses its backend. Comparing the input with opam's form keeps a
 * restored root's repository (the default opam-repository.git among them) from being set again,
 * and fetched again, on every partial hit.
 */
export function opamUrlForm(url: string): string {
  const [base = ''] = url.split('#');
  return /^(?:https?|file|ssh):\/\//.test(base) && base.endsWith('.git') ? `git+${url}` : url;
}

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
    } else if (existing.url !== repo.url && existing.url !== opamUrlForm(repo.url)) {
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

/** One `mirage-version` atom (`>= 4.11.0`; a bare version is `=`), or undefined when unreadable. */
function versionAtom(text: string): { readonly op: string; readonly version: string } | undefined {
  const match = /^(=|!=|>=|<=|>|<)?\s*(\S+)$/.exec(text.trim());
  return match?.[2] === undefined ? undefined : { op: match[1] ?? '=', version: match[2] };
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
      const atom = versionAtom(text);
      if (atom === undefined) throw new Error(`input \`mirage-version\`: cannot read \`${text}\` in \`${constraint}\``);
      return `${atom.op} "${atom.version}"`;
    })
    .join(' ');
}

const VERSION_TESTS: Record<string, (order: number) => boolean> = {
  '=': (c) => c === 0,
  '!=': (c) => c !== 0,
  '>=': (c) => c >= 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '<': (c) => c < 0,
};

/** Whether `version` satisfies the `mirage-version` input (`&` before `|`, as in opam), in opam's version order. */
export function versionSatisfies(version: string, constraint: string): boolean {
  return constraint.split('|').some((group) =>
    group.split('&').every((piece) => {
      const atom = versionAtom(piece);
      const test = atom && VERSION_TESTS[atom.op];
      return atom !== undefined && test !== undefined && test(compareVersions(version, atom.version));
    }),
  );
}

/** What the requirements opam file asks for is in the switch: mirage within `mirage-version`, and opam-monorepo. */
export function requirementsInstalled(installed: ReadonlyMap<string, string>, mirageVersion: string): boolean {
  const mirage = installed.get('mirage');
  return mirage !== undefined && installed.has('opam-monorepo') && versionSatisfies(mirage, mirageVersion);
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

/** How the opam root came from the cache (src/cache/keys.ts). */
export interface CacheOutcome {
  readonly hit: CacheHit;
  /** This run's refresh period; absent without the cache. */
  readonly period?: string;
  /** The restored root's period when it is an earlier one (`stalePeriod`): a new period. */
  readonly stalePeriod?: string;
  /** The root restored is this very root of an earlier period (`otherPeriodOnly`). */
  readonly sameRoot: boolean;
}

/** What opam itself says of an initialised root, read before any command changes it. */
export interface OpamState {
  readonly repositories: readonly KnownRepository[];
  readonly switchExists: boolean;
  /** The switch's pinned packages; none when the switch does not exist yet. */
  readonly pins: readonly string[];
}

/** On a new period: the stored lock's packages, and what the repositories said of them before the update. */
export interface LockBeforeUpdate {
  readonly locked: readonly LockedVersion[];
  /**
   * Read only where it can decide anything (the same root, with a lock); undefined there when opam
   * could not show every locked package.
   */
  readonly before?: LockedState;
}

/** opam's build sandbox once prepared (src/opam/sandbox.ts): `off` only where the input turned it off. */
export type OpamSandbox = 'on' | 'off';

/** Everything the setup's decisions need, read once after the root is restored. */
export interface SetupSnapshot {
  readonly root: string;
  readonly cache: CacheOutcome;
  /** The root holds opam's `config`. */
  readonly initialised: boolean;
  /** The switch's `.opam-switch/switch-state` is there. */
  readonly switchState: boolean;
  /** The switch's installed versions, from that file (empty without it). */
  readonly installed: ReadonlyMap<string, string>;
  /** opam's build sandbox as prepared. */
  readonly sandbox: OpamSandbox;
  /** Asked only of an initialised root that is converged (`keepsRestoredRoot` false). */
  readonly opam?: OpamState;
  /** Only on a new period. */
  readonly lock?: LockBeforeUpdate;
}

/**
 * The relock decision of a new period. Where the root restored is another one, holds no lock, or
 * opam could not show the lock's packages, it is known before anything runs; otherwise it compares
 * what the repositories say of the locked packages before and after `opam update`, so its second
 * half (`relockAfterUpdate`) can only be decided after the update has run.
 */
export type RelockStep =
  | { readonly when: 'no-refresh' }
  | { readonly when: 'known'; readonly locked: readonly LockedVersion[]; readonly plan: RelockPlan }
  | { readonly when: 'after-update'; readonly locked: readonly LockedVersion[]; readonly before: LockedState };

/** Every decision of the setup, each with its reason in `reasons` (in the order they run). */
export interface SetupPlan {
  readonly reasons: readonly string[];
  /** An exact hit of a usable root: no opam command reads or changes it. */
  readonly keep: boolean;
  /** `opam init`'s arguments, for a root that has no `config`. */
  readonly init?: readonly string[];
  /**
   * Repository commands in order. After `opam init` they are decided from what init made
   * (`planRepositories` on opam's list then): opam writes a URL its own way (`https://…/x.git` as `git+https://…`),
   * which no pure function should guess.
   */
  readonly repositories: readonly string[][] | 'after-init';
  /** `opam update --repositories`: every converged root that init did not just fetch. */
  readonly updateRepositories: boolean;
  /**
   * `opam switch create`; `askVersions`: a version prefix is resolved against the repositories'
   * compiler versions, which only exist once the repository commands and the update have run.
   */
  readonly createSwitch?: { readonly askVersions: boolean };
  readonly pins: readonly string[][];
  /** A new period: what the updated repositories change is upgraded. */
  readonly upgrade: boolean;
  /** `opam install` of the requirements opam file (`requirementsOpamFile`): only what is missing. */
  readonly install: boolean;
  /**
   * The restored switch already has the requirements: when `opam update` then finds no repository
   * changed (nothing is upgraded), the install, a solve over the whole index, would change nothing.
   */
  readonly requirementsInstalled: boolean;
  readonly relock: RelockStep;
}

/** An exact hit whose root has its config and switch: converging it would change nothing. */
export function keepsRestoredRoot(s: Pick<SetupSnapshot, 'cache' | 'initialised' | 'switchState'>): boolean {
  return s.cache.hit === 'exact' && s.initialised && s.switchState;
}

function relockStep(cache: CacheOutcome, lock: LockBeforeUpdate | undefined): RelockStep {
  if (cache.stalePeriod === undefined || lock === undefined) return { when: 'no-refresh' };
  const { locked, before } = lock;
  if (!cache.sameRoot || locked.length === 0 || before === undefined) {
    return { when: 'known', locked, plan: planRelock(cache.sameRoot, locked.length, before, undefined) };
  }
  return { when: 'after-update', locked, before };
}

/** The relock step's second half, from what the repositories say of the locked packages after the update. */
/** The colours OPAMCOLOR=always puts into opam's output for the log. */
const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/**
 * Whether `opam update` found every repository as the restored root left it: each of its lines
 * `[<name>] …` says `no changes from` (opam 2.1 to 2.4). Then the switch the previous period
 * converged is already what the repositories give, and what the relock compares has not moved.
 */
export function repositoriesUnchanged(updateOutput: string): boolean {
  const plain = updateOutput.replace(COLOUR, '');
  const lines = [...plain.matchAll(/^\[[^\]\s]+\] (.*)$/gm)].map((m) => m[1] ?? '');
  return lines.length > 0 && lines.every((line) => line.startsWith('no changes from '));
}

export function relockAfterUpdate(
  step: Extract<RelockStep, { when: 'after-update' }>,
  after: LockedState | undefined,
): RelockPlan {
  return planRelock(true, step.locked.length, step.before, after);
}

function rootReason(s: SetupSnapshot): string {
  if (!s.initialised) return `opam root ${s.root}: none, \`opam init\` makes it`;
  const from = s.cache.hit === 'miss' ? 'already there (not from the cache)' : `restored (${s.cache.hit} hit)`;
  return `opam root ${s.root}: ${from}`;
}

function periodReason(cache: CacheOutcome): string[] {
  if (cache.stalePeriod === undefined) return [];
  return [
    `cache-refresh: the restored root is of period ${cache.stalePeriod}, this run's is ${cache.period ?? ''}: ` +
      'updating the repositories, upgrading what changed and locking the unikernel again',
  ];
}

function installReason(setup: SetupConfig, installed: ReadonlyMap<string, string>): string {
  const has = ['mirage', 'opam-monorepo'].flatMap((name) => {
    const version = installed.get(name);
    return version === undefined ? [] : [`${name}.${version}`];
  });
  const already = has.length > 0 ? ` (the switch has ${has.join(', ')})` : '';
  return `installing what is missing of: mirage {${setup.mirageVersion}}, opam-monorepo${already}`;
}

function initArgs(setup: SetupConfig, sandbox: SetupSnapshot['sandbox']): string[] {
  const [first] = setup.opamRepositories;
  if (first === undefined) throw new Error('input `opam-repositories`: give at least one repository');
  const flags = sandbox === 'off' ? ['--disable-sandboxing'] : [];
  return ['init', '--bare', '--no-setup', ...flags, first.name, first.url];
}

function repositoryReason(commands: SetupPlan['repositories']): string {
  if (commands === 'after-init') {
    return 'opam repositories: the first from `opam init`, the others compared with what init made';
  }
  if (commands.length === 0) return 'opam repositories: as the input lists them';
  return `opam repositories: ${commands.map((c) => `${c[1] ?? ''} ${c[2] ?? ''}`).join(', ')}`;
}

function pinReason(current: readonly string[], wanted: readonly OpamPin[]): string[] {
  const gone = current.filter((name) => !wanted.some((p) => p.name.split('.')[0] === name));
  const parts = [
    ...(gone.length > 0 ? [`removed: ${gone.join(', ')}`] : []),
    ...(wanted.length > 0 ? [`(re)applied: ${wanted.map((p) => p.name).join(', ')}`] : []),
  ];
  return parts.length > 0 ? [`opam pins: ${parts.join('; ')}`] : [];
}

function switchReason(setup: SetupConfig, exists: boolean): string {
  return exists
    ? `switch ${SWITCH_NAME}: there, kept`
    : `switch ${SWITCH_NAME}: none, created with the compiler of input \`ocaml-compiler\`: ${setup.ocamlCompilerInput}`;
}

/**
 * Every decision of the setup from one snapshot: keep an exact hit as it is, or initialise and
 * converge the root (repositories, switch, pins), update and upgrade on a new period, install
 * what is missing, and as much of the relock decision as is known before anything runs.
 */
export function planSetup(setup: SetupConfig, s: SetupSnapshot): SetupPlan {
  const relock = relockStep(s.cache, s.lock);
  const reasons = [rootReason(s), ...periodReason(s.cache)];
  if (keepsRestoredRoot(s)) {
    reasons.push(`opam root ${s.root}: exact cache hit, nothing to install`);
    return {
      reasons,
      keep: true,
      repositories: [],
      updateRepositories: false,
      pins: [],
      upgrade: false,
      install: false,
      requirementsInstalled: true,
      relock,
    };
  }
  const opam = s.initialised ? s.opam : undefined;
  if (s.initialised && opam === undefined)
    throw new Error(`opam root ${s.root}: the setup did not read what opam says of it`);
  const switchExists = opam?.switchExists ?? false;
  const currentPins = switchExists ? (opam?.pins ?? []) : [];
  const repositories = opam === undefined ? 'after-init' : planRepositories(opam.repositories, setup.opamRepositories);
  const upgrade = s.cache.stalePeriod !== undefined;
  reasons.push(repositoryReason(repositories), switchReason(setup, switchExists));
  reasons.push(...pinReason(currentPins, setup.opamPins));
  if (upgrade) reasons.push('cache-refresh: `opam upgrade` of what the updated repositories change');
  reasons.push(installReason(setup, s.installed));
  return {
    reasons,
    keep: false,
    ...(opam === undefined ? { init: initArgs(setup, s.sandbox) } : {}),
    repositories,
    updateRepositories: opam !== undefined,
    ...(switchExists ? {} : { createSwitch: { askVersions: setup.ocamlCompiler.kind === 'version' } }),
    pins: planPins(currentPins, setup.opamPins),
    upgrade,
    install: true,
    // Pins re-applied may want a pinned package rebuilt: opam's install decides that.
    requirementsInstalled:
      switchExists && setup.opamPins.length === 0 && requirementsInstalled(s.installed, setup.mirageVersion),
    relock,
  };
}

/** The log line of a new period's relock decision. */
export function relockMessage(plan: RelockPlan, locked: number): string {
  return plan.relock
    ? `cache-refresh: the unikernel is locked again: ${plan.reason}`
    : `cache-refresh: no locked package (of ${locked}) changed in the repositories: the lock, switch and duniverse stay`;
}
