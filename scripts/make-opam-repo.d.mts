/** Where the fixture sources live (__fixtures__/opam/, absolute). */
export declare const FIXTURE_DIR: string;

export interface OpamRepository {
  /** `file:///...` URL of the materialized repository, for `opam init` / `opam repository add`. */
  url: string;
  /** Absolute path of the materialized repository. */
  path: string;
}

/** The version of the OCaml compiler on PATH (`ocamlc -vnum`). */
export declare function systemOcamlVersion(): Promise<string>;

/**
 * Materialize the offline opam repository fixture into `destDir` with absolute file:// URLs and
 * checksums, with `ocaml-system` for `options.ocamlVersion` (default: the compiler on PATH).
 */
export declare function makeOpamRepository(
  destDir: string,
  options?: { ocamlVersion?: string },
): Promise<OpamRepository>;
