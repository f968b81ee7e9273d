/**
 * `dependency-graph: true`: the deployed image's locked OCaml packages as a snapshot of GitHub's
 * dependency submission API, so that the dependency graph (and its SBOM export) shows what runs.
 * Pure: the snapshot, and which packages the unikernel asks for itself (direct) as opposed to
 * through another package (indirect).
 */
import { field, listItems, parseOpamFile, type OpamValue } from '../sbom/opam-file.js';
import type { LockFile } from '../sbom/lock.js';

/** A package URL (purl) of opam's type: name and version percent-encoded (`+` is `%2B`). */
export function opamPurl(name: string, version: string): string {
  return `pkg:opam/${encodeURIComponent(name)}@${encodeURIComponent(version)}`;
}

/** The package names a root opam file's `depends` lists, filters and alternatives included. */
export function dependsNames(opamText: string): Set<string> {
  const names = new Set<string>();
  const visit = (v: OpamValue): void => {
    if (v.kind === 'string') names.add(v.value);
    else if (v.kind === 'option') visit(v.value);
    else if (v.kind === 'list' || v.kind === 'expr' || v.kind === 'group') v.items.forEach(visit);
  };
  listItems(field(parseOpamFile(opamText), 'depends')).forEach(visit);
  return names;
}

export interface SnapshotRequest {
  readonly lock: LockFile;
  /** The `depends` names of the lock's root packages; undefined when their opam files are not at hand. */
  readonly direct?: ReadonlySet<string>;
  /** `<directory>/<image>`: the job correlator's and the manifest's name. */
  readonly image: string;
  /** Where the lock file is in the source repository (the manifest's `source_location`). */
  readonly sourceLocation: string;
  readonly sha: string;
  readonly ref: string;
  readonly runId: string;
  readonly runUrl: string;
  readonly detector: { readonly name: string; readonly version: string; readonly url: string };
  readonly scanned: string;
}

export interface ResolvedPackage {
  readonly package_url: string;
  readonly relationship?: 'direct' | 'indirect';
  readonly scope: 'runtime';
  readonly dependencies: string[];
}

/**
 * One snapshot per deploy, one manifest per image: the job correlator names the deploy folder and
 * the image, so matrix jobs deploying other images do not replace each other's snapshot.
 */
export function dependencySnapshot(req: SnapshotRequest) {
  const resolved: Record<string, ResolvedPackage> = {};
  for (const p of req.lock.packages) {
    resolved[p.name] = {
      package_url: opamPurl(p.name, p.version),
      ...(req.direct === undefined ? {} : { relationship: req.direct.has(p.name) ? 'direct' : 'indirect' }),
      scope: 'runtime',
      dependencies: [],
    };
  }
  return {
    version: 0,
    sha: req.sha,
    ref: req.ref,
    job: { correlator: `mirage-deploy:${req.image}`, id: req.runId, html_url: req.runUrl },
    detector: req.detector,
    scanned: req.scanned,
    manifests: { [req.image]: { name: req.image, file: { source_location: req.sourceLocation }, resolved } },
  };
}

/** The warning for a refused submission: what to change, never the token. */
export function submissionWarning(status: number | undefined, message: string): string {
  const fix =
    status === 403 || status === 404
      ? 'give the token `contents: write` (workflow `permissions: contents: write`), or set `dependency-graph: false`'
      : 'the deploy itself is not affected';
  return `input \`dependency-graph\`: submitting the dependency snapshot failed (${status ?? 'no answer'}: ${message}); ${fix}`;
}
