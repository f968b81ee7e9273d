/**
 * The default `ocaml-compiler` (action.yml, config.ts). 5.4.1 because the solo5 and xen targets
 * need an `ocaml-solo5` release built for exactly this compiler, and 5.4.1 is the newest OCaml
 * that two ocaml-solo5 lines support (1.2.2 and 1.3.3): hvt, spt, virtio, muen, genode, xen and
 * qubes then build with the default, and so do unix and unikraft.
 */
export const DEFAULT_COMPILER = '5.4.1';

/** How the switch's compiler was asked for (input `ocaml-compiler`, parsed in config.ts). */
export type CompilerSpec =
  | { readonly kind: 'system' }
  /** A version or prefix such as `5.4` or `5.4.1`, resolved against the repositories. */
  | { readonly kind: 'version'; readonly version: string }
  /** A full package such as `ocaml-base-compiler.5.4.1`. */
  | { readonly kind: 'package'; readonly name: string; readonly version: string };

/** Compilers each ocaml-solo5 line is built for (MirageOS 4.11 notes). */
export const SOLO5_COMPILERS = ['4.14.2', '5.2.1', '5.3.0', '5.4.0', '5.4.1', '5.5.0'] as const;

function parts(version: string): number[] {
  return (/^[\d.]+/.exec(version)?.[0] ?? '').split('.').filter(Boolean).map(Number);
}

function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  // 5.4.1 sorts after 5.4.1~rc1 and 5.4.1+options: opam releases have no suffix.
  return Number(a.includes('~')) - Number(b.includes('~')) || a.localeCompare(b);
}

/**
 * The newest release matching a prefix: `5.4` matches 5.4.0 and 5.4.1 but not 5.40.0; release
 * candidates (`~`) and variants (`+`) only when the prefix names them.
 */
export function pickCompilerVersion(prefix: string, versions: readonly string[]): string | undefined {
  const matching = versions.filter((v) => {
    if (v === prefix) return true;
    if (!v.startsWith(`${prefix}.`)) return false;
    return !/[~+]/.test(v.slice(prefix.length));
  });
  return [...matching].sort(compareVersions).at(-1);
}

/** The compiler versions the repositories hold: `compilerVersionsQuery`'s output, one version a line. */
export function parseVersionList(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^\d[^\s]*$/.test(line));
}

/**
 * Every version of ocaml-base-compiler in the repositories, one a line. `--no-switch`, because the
 * switch it is asked for does not exist yet (and OPAMSWITCH names it: `opam show` refuses then).
 */
export const COMPILER_VERSIONS_QUERY = [
  'list',
  'ocaml-base-compiler',
  '--all',
  '--all-versions',
  '--no-switch',
  '--short',
  '--columns=version',
] as const;

/** The package the switch is created with, once any version prefix is resolved. */
export function compilerPackage(spec: CompilerSpec, available: readonly string[] = []): string {
  switch (spec.kind) {
    case 'system':
      return 'ocaml-system';
    case 'package':
      return `${spec.name}.${spec.version}`;
    case 'version': {
      const version = pickCompilerVersion(spec.version, available);
      if (version === undefined) {
        throw new Error(
          `input \`ocaml-compiler\`: no ocaml-base-compiler release matches \`${spec.version}\` in the opam repositories` +
            (available.length ? ` (they have ${available.join(', ')})` : '') +
            '; give one of those, a full package such as `ocaml-variants.5.4.1+options`, or `ocaml-system`',
        );
      }
      return `ocaml-base-compiler.${version}`;
    }
  }
}
