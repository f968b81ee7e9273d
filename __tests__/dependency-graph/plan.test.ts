import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dependencySnapshot, dependsNames, opamPurl, submissionWarning } from '../../src/dependency-graph/plan.js';
import { parseLockFile } from '../../src/sbom/lock.js';
import { FIXTURES } from '../support/harness.js';

const lock = parseLockFile(readFileSync(join(FIXTURES, 'sbom/hello-hvt.opam.locked'), 'utf8'));

const request = {
  lock,
  image: 'hvt/hello',
  sourceLocation: 'hello/mirage/hello-hvt.opam.locked',
  sha: '0'.repeat(40),
  ref: 'refs/heads/main',
  runId: '42',
  runUrl: 'https://github.com/o/r/actions/runs/42',
  detector: { name: 'mirage-deploy', version: '0.1.0', url: 'https://github.com/o/r' },
  scanned: '2026-01-01T00:00:00.000Z',
};

describe('opamPurl', () => {
  it('percent-encodes the version as the purl spec asks (`+` is not a space)', () => {
    expect(opamPurl('fmt', '0.9.0+dune')).toBe('pkg:opam/fmt@0.9.0%2Bdune');
    expect(opamPurl('mirage-runtime', '4.11.1')).toBe('pkg:opam/mirage-runtime@4.11.1');
  });
});

describe('dependsNames', () => {
  it('reads the names of depends, with filters and alternatives, not the versions in filters', () => {
    const names = dependsNames(
      'opam-version: "2.0"\ndepends: [\n  "ocaml" {>= "4.08.0"}\n  "mirage-runtime" {>= "4.11.1" & < "4.12.0"}\n  ("lwt" | "async")\n  "duration"\n]\n',
    );
    expect([...names].sort()).toEqual(['async', 'duration', 'lwt', 'mirage-runtime', 'ocaml']);
  });
});

describe('dependencySnapshot', () => {
  it('one manifest for the image, every locked package as a pkg:opam purl, direct from the roots', () => {
    const snapshot = dependencySnapshot({ ...request, direct: new Set(['mirage-runtime', 'duration', 'ocaml']) });
    expect(snapshot.job.correlator).toBe('mirage-deploy:hvt/hello');
    expect(Object.keys(snapshot.manifests)).toEqual(['hvt/hello']);
    const resolved = snapshot.manifests['hvt/hello']?.resolved ?? {};
    expect(Object.keys(resolved).sort()).toEqual(lock.packages.map((p) => p.name).sort());
    expect(resolved.fmt).toEqual({
      package_url: 'pkg:opam/fmt@0.9.0%2Bdune',
      relationship: 'indirect',
      scope: 'runtime',
      dependencies: [],
    });
    expect(resolved['mirage-runtime']?.relationship).toBe('direct');
    expect(resolved.cstruct?.relationship).toBe('indirect');
  });

  it('says no relationship when the roots are not at hand, rather than a wrong one', () => {
    const snapshot = dependencySnapshot(request);
    expect(Object.values(snapshot.manifests['hvt/hello']?.resolved ?? {}).some((p) => 'relationship' in p)).toBe(false);
  });
});

describe('submissionWarning', () => {
  it('names the permission for 403 and 404, never fails the deploy', () => {
    expect(submissionWarning(403, 'Resource not accessible by integration')).toMatch(/contents: write/);
    expect(submissionWarning(undefined, 'timeout')).toMatch(/not affected/);
  });
});
