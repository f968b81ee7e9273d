/** Where the fixture sources live (__fixtures__/opam/, absolute). */
export declare const FIXTURE_DIR: string;

export interface OpamRepository {
  /** `file:///...` URL of the materialized repository, for `opam init` / `opam repository add`. */
  url: string;
  /** Absolute path of the materialized repository. */
  path: string;
}

/** Materialize the offline opam repository fixture into `destDir` with absolute file:// URLs and checksums. */
export declare function makeOpamRepository(destDir: string): Promise<OpamRepository>;
