/**
 * opam's system variables (`arch`, `os`, `os-family`, `os-distribution`, `os-version`), computed
 * from what opam itself reads (`uname`, os-release, `lsb_release`) with opam's own rules
 * (src/state/opamSysPoll.ml), so that a lock file's depexts filters select here what opam would
 * select. Pure: the facts are read by the caller.
 */

export const SYSTEM_VARIABLES = ['arch', 'os', 'os-family', 'os-distribution', 'os-version'] as const;
export type SystemVariable = (typeof SYSTEM_VARIABLES)[number];
export type SystemVariables = Partial<Record<SystemVariable, string>>;

export interface SystemFacts {
  /** `uname -s` */
  readonly sysname: string;
  /** `uname -m` */
  readonly machine: string;
  /** The text of /etc/os-release, else of /usr/lib/os-release, when either exists. */
  readonly osRelease?: string;
  /** `lsb_release -s -r` and `lsb_release -i -s`, when lsb_release exists. */
  readonly lsbRelease?: string;
  readonly lsbId?: string;
}

/** opam's `norm`: empty is absent, the rest lower case. */
const norm = (s: string | undefined): string | undefined => (s ? s.toLowerCase() : undefined);

export function normaliseArch(raw: string): string {
  const a = raw.toLowerCase();
  if (['x86', 'i386', 'i486', 'i586', 'i686'].includes(a)) return 'x86_32';
  if (a === 'x86_64' || a === 'amd64') return 'x86_64';
  if (['powerpc', 'ppc', 'ppcle'].includes(a)) return 'ppc32';
  if (a === 'ppc64' || a === 'ppc64le') return 'ppc64';
  if (a === 'aarch64_be' || a === 'aarch64') return 'arm64';
  if (a === 'armv8b' || a === 'armv8l' || /^(?:armv5|armv6|earmv6|armv7|earmv7)/.test(a)) return 'arm32';
  return a;
}

export function normaliseOs(raw: string): string {
  const s = raw.toLowerCase();
  return s === 'darwin' || s === 'osx' ? 'macos' : s;
}

/**
 * One os-release field as opam reads it (`Scanf "%s@= %s"`, then `"\"%s@\""`): the key is all
 * before the first `=`, the value the first word after it, without a leading quote and what
 * follows the next one. So `ID_LIKE="ubuntu debian"` reads as `ubuntu`. The first line wins.
 */
export function osReleaseField(text: string, key: string): string | undefined {
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if ((eq < 0 ? line : line.slice(0, eq)) !== key) continue;
    const word = eq < 0 ? '' : (/^\s*(\S*)/.exec(line.slice(eq + 1))?.[1] ?? '');
    return word.startsWith('"') ? word.slice(1).split('"')[0] : word;
  }
  return undefined;
}

/** opam's five system variables on a Linux or other Unix machine. */
export function systemVariables(facts: SystemFacts): SystemVariables {
  const os = norm(facts.sysname) === undefined ? undefined : normaliseOs(facts.sysname);
  const field = (key: string) => (facts.osRelease === undefined ? undefined : osReleaseField(facts.osRelease, key));
  const arch = norm(facts.machine) === undefined ? undefined : normaliseArch(facts.machine);
  if (os === 'macos') return defined({ arch, os }); // opam asks Homebrew or MacPorts: not read here
  if (os !== 'linux') {
    const family = ['freebsd', 'openbsd', 'netbsd', 'dragonfly'].includes(os ?? '') ? 'bsd' : os;
    return defined({ arch, os, 'os-family': family, 'os-distribution': os });
  }
  // opam then tries /etc/redhat-release and /etc/issue: not Debian-family sources of an answer.
  const distribution = norm(field('ID')) ?? norm(facts.lsbId) ?? 'linux';
  const family = norm(/^\s*(\S*)/.exec(field('ID_LIKE') ?? '')?.[1]) ?? distribution;
  const version = norm(facts.lsbRelease) ?? norm(field('VERSION_ID'));
  return defined({ arch, os, 'os-family': family, 'os-distribution': distribution, 'os-version': version });
}

/**
 * `OPAMVAR_<name>` (dashes as underscores) overrides a variable for opam; it does here too, so
 * that a job that sets it for opam gets the same depexts.
 */
export function withOverrides(
  vars: SystemVariables,
  env: Readonly<Record<string, string | undefined>>,
): SystemVariables {
  const result: SystemVariables = { ...vars };
  for (const name of SYSTEM_VARIABLES) {
    const value = env[`OPAMVAR_${name.replaceAll('-', '_')}`];
    if (value !== undefined) result[name] = value;
  }
  return result;
}

function defined(vars: Partial<Record<SystemVariable, string | undefined>>): SystemVariables {
  return Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined)) as SystemVariables;
}
