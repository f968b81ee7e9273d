/**
 * Finding the image that `make build` left in `dist/`: pure decisions over directory listings, so
 * that every way of getting it wrong is a table row in a unit test.
 */
import { TARGETS, imageFileName, type Target } from './targets.js';

export interface DistEntry {
  readonly name: string;
  readonly isFile: boolean;
  /** A symbolic link: never published (its target may be anywhere on the runner). */
  readonly isSymlink?: boolean;
}

/** How `dist/` lists an entry in messages: `name`, `name/` for a folder, `name@` for a link. */
function shown(entry: DistEntry): string {
  if (entry.isSymlink) return `${entry.name}@`;
  return entry.name + (entry.isFile ? '' : '/');
}

/**
 * Why a file about to be published is refused, or undefined: a symbolic link, or a path that
 * resolves outside the unikernel's folder (`dist/` itself a link), would publish a file of the
 * runner's that the build did not write. `realPath` and `realDir` are both resolved.
 */
export function publishedFileProblem(
  relativePath: string,
  file: { readonly isSymlink: boolean; readonly realPath: string },
  realDir: string,
): string | undefined {
  if (file.isSymlink) {
    return `${relativePath} is a symbolic link; only files the build wrote are published: make the build copy the file there instead`;
  }
  if (file.realPath !== realDir && !file.realPath.startsWith(`${realDir}/`)) {
    return `${relativePath} resolves to ${file.realPath}, outside the unikernel's folder ${realDir}; only files inside it are published`;
  }
  return undefined;
}

/** Where the unikernel's name came from, for error messages. */
export interface NameSource {
  readonly names: readonly string[];
  readonly from: string;
}

/** Files configure or the build put in `dist/` that are never the image. */
const NOT_IMAGES = [/^dune$/, /\.xl$/, /\.xl\.in$/, /_libvirt\.xml$/, /^\./];

/** The value of `-o NAME` / `--output NAME` / `--output=NAME` among configure's arguments. */
export function outputName(args: readonly string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if ((arg === '-o' || arg === '--output') && i + 1 < args.length) found = args[++i];
    else if (arg.startsWith('--output=')) found = arg.slice('--output='.length);
    else if (/^-o./.test(arg)) found = arg.slice(2);
  }
  return found;
}

/** Names of the unikernels configure generated for this target: `mirage/<name>-<target>.opam`. */
export function generatedNames(mirageFiles: readonly string[], target: Target): string[] {
  const suffix = `-${target}.opam`;
  return mirageFiles
    .filter((f) => f.endsWith(suffix) && f.length > suffix.length)
    .map((f) => f.slice(0, -suffix.length))
    .sort();
}

/**
 * The name the image carries: `image-name`, else configure's `-o`, else what configure generated.
 * `-o` renames only the image, so the opam file keeps the `register` name.
 */
export function imageNames(
  imageName: string | undefined,
  configureArgs: readonly string[],
  mirageFiles: readonly string[],
  target: Target,
): NameSource {
  if (imageName !== undefined) return { names: [imageName], from: 'input `image-name`' };
  const output = outputName(configureArgs);
  if (output !== undefined) return { names: [output], from: '`-o` in `configure-args`' };
  const names = generatedNames(mirageFiles, target);
  return {
    names,
    from: names.length ? names.map((n) => `mirage/${n}-${target}.opam`).join(', ') : `no mirage/*-${target}.opam`,
  };
}

function isCandidate(entry: DistEntry, target: Target): boolean {
  return entry.isFile && entry.name.endsWith(TARGETS[target].extension) && !NOT_IMAGES.some((r) => r.test(entry.name));
}

/**
 * Picks the image's file name in `dist/`. Exactly one candidate must be there: none means the build
 * did not produce what the target promises, several means the name is ambiguous.
 */
export function chooseImage(dist: readonly DistEntry[], target: Target, source: NameSource): string {
  const wanted = new Set(source.names.map((n) => imageFileName(target, n)));
  const candidates = dist
    .filter((e) => isCandidate(e, target) && (wanted.size === 0 || wanted.has(e.name)))
    .map((e) => e.name)
    .sort();
  const held = dist.length ? dist.map(shown).sort().join(', ') : 'nothing';
  if (candidates.length === 1 && candidates[0] !== undefined) return candidates[0];
  const linked = dist.find(
    (e) => e.isSymlink && (wanted.size === 0 ? e.name.endsWith(TARGETS[target].extension) : wanted.has(e.name)),
  );
  if (candidates.length === 0 && linked !== undefined) {
    throw new Error(
      `the image dist/${linked.name} is a symbolic link; only a file the build wrote is published (a link could name ` +
        'any file of the runner): make the build write the image into dist/',
    );
  }
  if (candidates.length === 0) {
    const expected = wanted.size
      ? [...wanted].map((f) => `dist/${f}`).join(' or ')
      : `a dist/*${TARGETS[target].extension} file`;
    throw new Error(
      `no image for target \`${target}\`: expected ${expected} (name from ${source.from}), but dist/ holds ${held}; ` +
        'check that the build step builds the unikernel, or set input `image-name` to the name it registers',
    );
  }
  throw new Error(
    `several images for target \`${target}\` in dist/: ${candidates.join(', ')} (names from ${source.from}); ` +
      'set input `image-name` to the one to deploy, or remove the stale files (`make clean`)',
  );
}
