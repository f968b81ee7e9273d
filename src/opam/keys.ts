import { createHash } from 'node:crypto';
import type { OpamPin, OpamRepository } from '../config.js';

/** Everything that makes one opam root differ from another, in the order keys are cut from the end. */
export interface OpamKeyInputs {
  readonly prefix: string;
  readonly os: string;
  /** e.g. `ubuntu-24.04`, `debian-12`, `macos-14.5`. */
  readonly osRelease: string;
  readonly arch: string;
  readonly opamVersion: string;
  /** The `ocaml-compiler` input as given. */
  readonly compiler: string;
  readonly repositories: readonly OpamRepository[];
  readonly pins: readonly OpamPin[];
  readonly mirageVersion: string;
  readonly target: string;
  /** dependencyHash() of the unikernel's dependency inputs. */
  readonly dependencies: string;
}

export interface OpamCacheKeys {
  readonly key: string;
  /** Longest first; each ends with the separator so that it matches whole parts only. */
  readonly restoreKeys: readonly string[];
}

function shortHash(value: string, length = 12): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/** Cache keys may not hold commas, and readable parts keep them debuggable in the cache list. */
function clean(part: string): string {
  return part.replace(/[^A-Za-z0-9._+~-]/g, '_');
}

/**
 * The opam root's key. Restore keys drop the dependency hash, then the target, the mirage
 * constraint and the pins, never the repositories or the compiler: a restored root then always
 * has the right switch and repositories, and converging it is installing the difference.
 */
export function opamCacheKeys(k: OpamKeyInputs): OpamCacheKeys {
  const parts = [
    clean(k.prefix),
    'opam',
    clean(k.os),
    clean(k.osRelease),
    clean(k.arch),
    `opam${clean(k.opamVersion)}`,
    `ocaml${clean(k.compiler)}`,
    `r${shortHash(k.repositories.map((r) => `${r.name}=${r.url}`).join('\n'))}`,
    `p${shortHash(k.pins.map((p) => `${p.name}=${p.url ?? ''}`).join('\n'))}`,
    `m${shortHash(k.mirageVersion.replace(/\s+/g, ''))}`,
    clean(k.target),
    `d${k.dependencies}`,
  ];
  const prefixOf = (count: number): string => `${parts.slice(0, count).join('-')}-`;
  return {
    key: parts.join('-'),
    restoreKeys: [prefixOf(11), prefixOf(10), prefixOf(9), prefixOf(8)],
  };
}

export interface DependencyFile {
  /** Relative to the working directory, with `/`. */
  readonly path: string;
  readonly content: string | Buffer;
}

/** Hash of config.ml, `*.opam` and `mirage/*.opam.locked`: what decides the unikernel's packages. */
export function dependencyHash(files: readonly DependencyFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const content = typeof file.content === 'string' ? Buffer.from(file.content) : file.content;
    hash.update(`${file.path}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex').slice(0, 16);
}

/** Which files of a working directory listing are dependency inputs (besides the config file). */
export function isDependencyInput(relativePath: string): boolean {
  return /^[^/]+\.opam$/.test(relativePath) || /^mirage\/[^/]+\.opam\.locked$/.test(relativePath);
}

/** `debian-12` from /etc/os-release; `linux-unknown` when it says nothing usable. */
export function linuxRelease(osRelease: string): string {
  const field = (name: string): string | undefined => {
    const match = new RegExp(`^${name}=(.*)$`, 'm').exec(osRelease);
    return match?.[1]?.trim().replace(/^["']|["']$/g, '') || undefined;
  };
  return `${field('ID') ?? 'linux'}-${field('VERSION_ID') ?? field('BUILD_ID') ?? 'unknown'}`;
}
