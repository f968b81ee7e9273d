/**
 * Pure decisions of the build sandbox: whether this job builds in one, and what bubblewrap is
 * asked for (the mounts, in order, and the environment). No process, no file.
 */

/** What decides whether the build runs in the sandbox. */
export interface SandboxFacts {
  readonly runnerOs: string;
  /** The job builds (not `image-path`, not `rollback-to`). */
  readonly builds: boolean;
  /** The secret inputs this job was given, by name. */
  readonly secretsHeld: readonly string[];
  /** Input `allow-unsandboxed-build`. */
  readonly allowUnsandboxed: boolean;
  /** bubblewrap ran the probe in the sandbox this job would use; otherwise why not. */
  readonly probe: { readonly ok: true } | { readonly ok: false; readonly reason: string };
}

export type SandboxDecision =
  | { readonly use: 'bubblewrap'; readonly why: 'required' | 'available' }
  | { readonly use: 'none'; readonly why: 'not-building' }
  | { readonly use: 'none'; readonly why: 'refused'; readonly message: string }
  | { readonly use: 'none'; readonly why: 'opted-out' | 'unavailable'; readonly message: string };

function unavailableReason(f: SandboxFacts): string {
  if (f.runnerOs !== 'Linux') return `the build sandbox needs Linux (bubblewrap); this runner is ${f.runnerOs}`;
  return f.probe.ok ? '' : f.probe.reason;
}

/**
 * A job that builds while holding a secret needs the sandbox: what the build runs could otherwise
 * read the secret. Without one it is refused before anything is built, unless the workflow says
 * `allow-unsandboxed-build`; a job without secrets builds anyway and says so.
 */
export function decideSandbox(f: SandboxFacts): SandboxDecision {
  if (!f.builds) return { use: 'none', why: 'not-building' };
  const held = f.secretsHeld.length > 0;
  if (f.runnerOs === 'Linux' && f.probe.ok) return { use: 'bubblewrap', why: held ? 'required' : 'available' };
  const reason = unavailableReason(f);
  if (!held) {
    return { use: 'none', why: 'unavailable', message: `the build runs unsandboxed: ${reason}` };
  }
  const secrets = f.secretsHeld.map((s) => `\`${s}\``).join(', ');
  if (f.allowUnsandboxed) {
    return {
      use: 'none',
      why: 'opted-out',
      message:
        `the build runs unsandboxed while this job holds ${secrets} (input \`allow-unsandboxed-build\`): ` +
        `what the build runs can read them. ${reason}`,
    };
  }
  return {
    use: 'none',
    why: 'refused',
    message:
      `not building: this job holds ${secrets}, and the build cannot be sandboxed here (${reason}), so what it runs ` +
      'could read them. Build in a job without secrets and deploy its `dist/mirage-deploy/` from a second job with ' +
      'input `image-path` (the two-job pattern in the README), or set input `allow-unsandboxed-build: true` ' +
      'to build with the secrets exposed',
  };
}

/** Where the sandbox's folders are, on the runner. Every path absolute. */
export interface MountFacts {
  readonly workspace: string;
  readonly opamRoot: string;
  readonly duneCacheRoot: string;
  /** The build's one scratch folder, inside RUNNER_TEMP. */
  readonly scratch: string;
  readonly home: string;
  readonly runnerTemp: string;
  readonly toolCache: string;
  /** The runner's file commands (GITHUB_ENV, GITHUB_OUTPUT, …) that exist. */
  readonly fileCommands: readonly string[];
  /** `/var/run` is its own folder, not a link to `/run` (where a docker socket may wait). */
  readonly varRunIsFolder: boolean;
  /** Local folders the inputs name (a `file://` opam repository, pin or `--extra-repos`), bound read-only: /tmp may hide them. */
  readonly readOnly: readonly string[];
  /** `build-ssh-agent`: the agent's socket, bound in. */
  readonly sshAuthSock?: string;
}

/** What one command gets beyond the build's sandbox (bwrapArgs). */
export interface CommandIsolation {
  /** A network namespace of its own: loopback alone, which bubblewrap brings up. */
  readonly loopbackOnly?: boolean;
  /** Host devices bound into its fresh /dev. */
  readonly devices?: readonly string[];
  /** The workspace, the opam root and dune's cache read-only: it writes only in the scratch folder. */
  readonly scratchOnly?: boolean;
}

type Mount = { readonly kind: 'hide' | 'ro' | 'rw'; readonly path: string };

/** `path` is `dir` or inside it. */
export function isInside(path: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir : `${dir}/`;
  return path === dir || path.startsWith(d);
}

const depth = (path: string): number => path.split('/').filter((s) => s !== '').length;

/**
 * The mounts over the read-only `/`, parents first, so that a folder bound read-write inside a
 * hidden one (the opam root in HOME, the scratch folder in RUNNER_TEMP) is mounted after the
 * tmpfs that hides its parent; at the same path a hide comes first.
 */
function orderedMounts(f: MountFacts): Mount[] {
  const hidden = [f.home, f.runnerTemp];
  const mounts: Mount[] = [
    ...hidden.map((path) => ({ kind: 'hide' as const, path })),
    // The tool cache (opam's binary) is read-only under `/` already, unless a hidden folder holds it.
    ...(hidden.some((h) => isInside(f.toolCache, h)) ? [{ kind: 'ro' as const, path: f.toolCache }] : []),
    ...f.readOnly.map((path) => ({ kind: 'ro' as const, path })),
    ...[f.workspace, f.opamRoot, f.duneCacheRoot, f.scratch].map((path) => ({ kind: 'rw' as const, path })),
  ];
  const rank = { hide: 0, ro: 1, rw: 2 };
  return mounts.sort((a, b) => depth(a.path) - depth(b.path) || rank[a.kind] - rank[b.kind]);
}

function mountArgs(m: Mount): string[] {
  if (m.kind === 'hide') return ['--tmpfs', m.path];
  return [m.kind === 'ro' ? '--ro-bind' : '--bind', m.path, m.path];
}

/**
 * bubblewrap's arguments up to the command: `/` read-only, fresh /dev, /proc, /tmp and /run, new
 * PID, IPC and user namespaces (as root too: no host privilege, and opam's own bwrap still works
 * nested, which `--cap-drop ALL` breaks), its own session, gone with the action. bubblewrap always
 * sets no-new-privileges, so sudo cannot raise it. `only` narrows one command further: no network
 * but loopback, and the host devices it needs (the boot test's `/dev/kvm`).
 */
export function bwrapArgs(f: MountFacts, cwd: string, only: CommandIsolation = {}): string[] {
  const writable = [f.workspace, f.opamRoot, f.duneCacheRoot, f.scratch];
  const covered = f.fileCommands.filter((file) => writable.some((dir) => isInside(file, dir)));
  return [
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--proc', '/proc',
    '--tmpfs', '/tmp',
    '--tmpfs', '/run',
    ...(f.varRunIsFolder ? ['--tmpfs', '/var/run'] : []),
    ...orderedMounts(f).flatMap(mountArgs),
    ...(only.scratchOnly ? scratchOnlyArgs(f) : []),
    ...covered.flatMap((file) => ['--ro-bind', '/dev/null', file]),
    ...(f.sshAuthSock === undefined ? [] : ['--bind', f.sshAuthSock, f.sshAuthSock]),
    ...(only.devices ?? []).flatMap((device) => ['--dev-bind', device, device]),
    '--unshare-user', '--unshare-pid', '--unshare-ipc',
    ...(only.loopbackOnly ? ['--unshare-net'] : []),
    '--new-session', '--die-with-parent',
    '--chdir', cwd,
    '--',
  ]; // prettier-ignore
}

/**
 * The build's writable folders made read-only where they are mounted, not below: what is mounted
 * inside them (the scratch folder, a hidden RUNNER_TEMP) stays as it is.
 */
function scratchOnlyArgs(f: MountFacts): string[] {
  return [f.workspace, f.opamRoot, f.duneCacheRoot].flatMap((path) => ['--remount-ro', path]);
}

/** The local folder a `file://` URL or an absolute path names, for the read-only binds. */
export function localFolder(url: string): string | undefined {
  const path = url.replace(/^(git\+)?file:\/\//, '');
  return path.startsWith('/') ? path.replace(/\/+$/, '') || undefined : undefined;
}

/** Variables of the job the build may see, by name; everything else (GITHUB_ENV, ACTIONS_*, INPUT_*) stays out. */
const PASSED = new Set([
  'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'TERM', 'TZ', 'CI',
  'GITHUB_ACTIONS', 'GITHUB_SHA', 'GITHUB_REF', 'GITHUB_REF_NAME', 'GITHUB_REPOSITORY', 'GITHUB_WORKSPACE',
  'GITHUB_RUN_ID', 'GITHUB_RUN_NUMBER', 'GITHUB_EVENT_NAME', 'GITHUB_SERVER_URL',
  'RUNNER_OS', 'RUNNER_ARCH', 'RUNNER_TEMP',
  'http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY',
]); // prettier-ignore

/** Families of the build's own tools' settings a workflow may set for it. */
const PASSED_PREFIXES = ['OPAM', 'DUNE_', 'OCAML', 'MIRAGE_'];

function passed(name: string): boolean {
  return PASSED.has(name) || PASSED_PREFIXES.some((p) => name.startsWith(p) && !name.startsWith('MIRAGE_DEPLOY'));
}

/**
 * The build's environment, built up from an allow-list rather than by removing what is known to
 * be private: the job's variables that are passed, then the command's own (opam's, the switch's,
 * dune's), then the agent's socket when `build-ssh-agent` asks for it.
 */
export function sandboxEnv(
  job: Readonly<Record<string, string | undefined>>,
  own: Readonly<Record<string, string>>,
  sshAuthSock?: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(job)) if (value !== undefined && passed(name)) env[name] = value;
  return { ...env, ...own, ...(sshAuthSock === undefined ? {} : { SSH_AUTH_SOCK: sshAuthSock }) };
}

/** The variables of `opam env` exported for later steps: never one that changes how programs load (LD_*). */
const SWITCH_VARIABLES = new Set([
  'OPAM_SWITCH_PREFIX', 'CAML_LD_LIBRARY_PATH', 'OCAML_TOPLEVEL_PATH', 'OCAMLTOP_INCLUDE_PATH', 'MANPATH',
  'PKG_CONFIG_PATH',
]); // prettier-ignore

/** `opam env` is read from a root the build writes: only its known variables are trusted to mean what they say. */
export function switchVariables(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => SWITCH_VARIABLES.has(name)));
}
