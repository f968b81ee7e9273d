/**
 * The single source of truth for the targets of `mirage configure -t` in MirageOS 4.11
 * (mirage's `lib/devices/target.ml`), and what each needs and produces.
 */

export type RunnerOs = 'Linux' | 'macOS' | 'Windows';

export interface TargetInfo {
  /** Extension of the image that `make build` puts in `dist/`. */
  readonly extension: string;
  /** Files beside the image worth deploying, relative to the unikernel folder; `<name>` is replaced. */
  readonly sideFiles: readonly string[];
  /** Runner operating systems that can build it. */
  readonly buildsOn: readonly RunnerOs[];
  /** Debian/Ubuntu packages the target needs on the runner. */
  readonly systemPackages: readonly string[];
  /** Whether the target cross-compiles with ocaml-solo5 (so the compiler must be one it supports). */
  readonly solo5: boolean;
}

const SOLO5_PACKAGES = ['libseccomp-dev', 'pkg-config'] as const;

const solo5 = (extension: string, sideFiles: readonly string[] = []): TargetInfo => ({
  extension,
  sideFiles,
  buildsOn: ['Linux'],
  systemPackages: SOLO5_PACKAGES,
  solo5: true,
});

export const TARGETS = {
  unix: { extension: '', sideFiles: [], buildsOn: ['Linux', 'macOS'], systemPackages: [], solo5: false },
  macosx: { extension: '', sideFiles: [], buildsOn: ['macOS'], systemPackages: [], solo5: false },
  xen: solo5('.xen', ['dist/<name>.xl', 'dist/<name>.xl.in', 'mirage/<name>_libvirt.xml']),
  qubes: solo5('.xen'),
  hvt: solo5('.hvt'),
  spt: solo5('.spt'),
  virtio: solo5('.virtio', ['mirage/<name>_libvirt.xml']),
  muen: solo5('.muen'),
  genode: solo5('.genode'),
  'unikraft-qemu': {
    extension: '.qemu',
    sideFiles: [],
    buildsOn: ['Linux'],
    systemPackages: [],
    solo5: false,
  },
  'unikraft-firecracker': {
    extension: '.fc',
    sideFiles: [],
    buildsOn: ['Linux'],
    systemPackages: [],
    solo5: false,
  },
} as const satisfies Record<string, TargetInfo>;

export type Target = keyof typeof TARGETS;

export const TARGET_NAMES = Object.keys(TARGETS) as Target[];

/** The default `target` (action.yml): builds on every runner OS the action supports. */
export const DEFAULT_TARGET: Target = 'unix';

export function isTarget(value: string): value is Target {
  return Object.hasOwn(TARGETS, value);
}

const RUNS_ON: Record<RunnerOs, string> = {
  Linux: 'ubuntu-latest',
  macOS: 'macos-latest',
  Windows: 'windows-latest',
};

/**
 * Refuses a target this runner's OS cannot build, before anything is downloaded: a solo5 or xen
 * cross-compiler does not exist for macOS, and `macosx` links against the macOS SDK.
 */
export function checkTargetRunnable(target: Target, runnerOs: RunnerOs): void {
  const { buildsOn } = TARGETS[target] as TargetInfo;
  if (buildsOn.includes(runnerOs)) return;
  const where = buildsOn.join(' or ');
  const instead = target === 'macosx' ? ' or target `unix`' : '';
  throw new Error(
    `input \`target\`: \`${target}\` builds only on ${where} runners, and this runner is ${runnerOs}; ` +
      `use \`runs-on: ${RUNS_ON[buildsOn[0] ?? 'Linux']}\`${instead}`,
  );
}

/** The image's file name in `dist/`. */
export function imageFileName(target: Target, name: string): string {
  return `${name}${TARGETS[target].extension}`;
}

/** The target's side files for a unikernel name, relative to the unikernel folder. */
export function sideFilePaths(target: Target, name: string): string[] {
  return (TARGETS[target] as TargetInfo).sideFiles.map((f) => f.replaceAll('<name>', name));
}
