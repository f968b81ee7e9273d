/** What each phase hands to the next. */

export type CacheHit = 'exact' | 'partial' | 'miss';

/** The result of the setup phase (src/opam/). */
export interface OpamSetup {
  readonly opamVersion: string;
  readonly ocamlVersion: string;
  /** Version of the `mirage` package installed in the switch. */
  readonly mirageVersion: string;
  readonly cacheHit: CacheHit;
  /**
   * A refresh (a new `cache-refresh` period) changed nothing the root's stored lock names, so the
   * lock, the switch and the duniverse stay as they were (opam/plan.ts planRelock).
   */
  readonly lockKept?: true;
  /** The opam root (OPAMROOT), which the opam cache saves. */
  readonly root: string;
  /**
   * Environment for every later command that needs the switch (OPAMROOT, OPAMSWITCH, PATH with
   * the switch's bin first, OPAMYES …): the full environment, not a delta.
   */
  readonly env: Record<string, string>;
  /** Seconds spent, for the summary. */
  readonly seconds: number;
  /** The verified opam binary: what the action runs itself, never an `opam` the build put on the switch's PATH. */
  readonly opamPath: string;
}

/** What went into an image: its lock file, the build switch's export and the SBOM made of them. */
export interface ImageSbom {
  /** Absolute paths. */
  readonly lockFile: string;
  readonly switchExport: string;
  readonly cyclonedx: string;
  /** The lock file's packages, in name order. */
  readonly packages: ReadonlyArray<{ readonly name: string; readonly version: string }>;
}

/** The result of the build phase (src/mirage/). */
export interface BuiltImage {
  readonly target: string;
  /** The unikernel's name (`register "name"` or `image-name`). */
  readonly name: string;
  /** Absolute path of the image in `dist/`. */
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  /** Absolute paths of the target's side files that exist (`.xl`, `.xl.in`, libvirt xml). */
  readonly sideFiles: readonly string[];
  /** Absolute path of the unikernel's config file. */
  readonly configFile: string;
  /** Seconds per build step (configure, depend, build), for the summary. */
  readonly timings: Readonly<Record<string, number>>;
  /** Absent when the build left no lock file, or it could not be read. */
  readonly sbom?: ImageSbom;
  /** The reproducibility check's verdict, when input `reproducible` asked for one. */
  readonly reproducible?: boolean;
  /** Absolute path of `<image>.buildinfo.json` (src/buildinfo/), when the build could write it. */
  readonly buildInfo?: string;
  /** Absolute path of the Sigstore bundle attesting the image (`attestation-bundle`), checked. */
  readonly attestation?: string;
}

/** The result of the deploy phase (src/deploy/). */
export interface DeployOutcome {
  readonly deployed: boolean;
  readonly commit?: string;
  /** `<directory>/<sha>` */
  readonly path?: string;
  readonly url?: string;
  /** One line for the log and the summary: what happened and why. */
  readonly message: string;
  /** With `wait-for-host`: what the host reported. */
  readonly host?: HostReport;
}

/** `wait-for-host`: the host's `success` or `failure` on the deployment record, or none in time. */
export interface HostReport {
  readonly status: 'success' | 'failure' | 'timeout';
  readonly message: string;
}
