// The offline opam repository fixture, for tests. One implementation: the
// logic lives in scripts/make-opam-repo.mjs (also a CLI for the quick start
// and benchmarks); this module only re-exports it with its types.
export { FIXTURE_DIR, makeOpamRepository, systemOcamlVersion } from '../../scripts/make-opam-repo.mjs';
export type { OpamRepository } from '../../scripts/make-opam-repo.mjs';
