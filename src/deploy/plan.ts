/**
 * The deploy phase's pure decisions: whether this run may deploy at all (the gate), where a deploy
 * lives in the deployment repository and what its folder holds, whether an image is too large for
 * the host. Which build `latest` names and which folders `keep` removes are the writer's, decided
 * on the branch tip (repository/plan.ts).
 *
 * The layout is the 2013 one generalised to every target and to several images per commit:
 * `<directory>/<source-sha>/` holds, for each image deployed from that commit, the compressed image,
 * its side files and its `.args`, plus the unikernels' config file, one `manifest.json` describing
 * every image and a `SHA256SUMS` over every file; `<directory>/latest` holds the source sha and a
 * newline, which is what existing pollers read. The directory is the target unless
 * `deploy-directory` names another.
 */
import { ConfigError, type Compression, type DeployConfig } from '../config.js';
import type { RunContext } from '../context.js';
import { basename } from 'node:path';
import { imageFileName, isTarget } from '../mirage/targets.js';
import { COMMIT_SHA, plainNameProblem } from '../patterns.js';
import { sbomFileNames } from '../sbom/files.js';
import { buildInfoFileName } from '../buildinfo/plan.js';
import { attestationFileName } from '../attestation/plan.js';
import type { BuiltImage } from '../types.js';

export const MANIFEST_FILE = 'manifest.json';
export const LATEST_FILE = 'latest';
export const SUMS_FILE = 'SHA256SUMS';
/** Files of a deploy folder that belong to no image: rewritten by every deploy into the folder. */
export const FOLDER_FILES: readonly string[] = [MANIFEST_FILE, SUMS_FILE];
/**
 * Marks the line of an image's unpacked hash in SHA256SUMS. `sha256sum -c` skips lines starting
 * with `#`, so the folder as stored checks clean; what follows the marker is itself a
 * `sha256sum -c` line for the unpacked file, which a host checks after unpacking.
 */
export const UNPACKED_MARKER = '# unpacked: ';

export const COMPRESSION_SUFFIX: Readonly<Record<Compression, string>> = {
  bzip2: '.bz2',
  xz: '.xz',
  gzip: '.gz',
  none: '',
};

export function isSourceSha(name: string): boolean {
  return COMMIT_SHA.test(name);
}

export function deployFolder(directory: string, sha: string): string {
  return `${directory}/${sha}`;
}

export function latestPath(directory: string): string {
  return `${directory}/${LATEST_FILE}`;
}

export function latestContent(sha: string): string {
  return `${sha}\n`;
}

/** Beside `latest`: the GitHub deployment record of the move that wrote it, for the host to report to. */
export const RECORD_FILE = 'latest.deployment';

export function recordPath(directory: string): string {
  return `${directory}/${RECORD_FILE}`;
}

/** `key=value` lines the host reads with sed (never sources): the record's repository, id, environment, commit. */
export function recordContent(record: {
  readonly repository: string;
  readonly id: number;
  readonly environment: string;
  readonly sha: string;
}): string {
  return `repository=${record.repository}\nid=${record.id}\nenvironment=${record.environment}\nsha=${record.sha}\n`;
}

/** The sha a `latest` file names, or undefined when it holds something else. */
export function parseLatest(text: string): string | undefined {
  const sha = text.trim().toLowerCase();
  return isSourceSha(sha) ? sha : undefined;
}

export function storedImageName(imageFile: string, compression: Compression): string {
  return `${imageFile}${COMPRESSION_SUFFIX[compression]}`;
}

/** The plain boot-arguments file of an image: `<name>.args`, one argument a line. */
export function argsFileName(imageName: string): string {
  return `${imageName}.args`;
}

export function argsFileContent(bootArgs: readonly string[]): string {
  return bootArgs.map((arg) => `${arg}\n`).join('');
}

/**
 * A side file's name in the deploy folder: the generated ones start with the built name
 * (`www.xl`, `www_libvirt.xml`), which becomes the deployed name (`mir-mirage.io.xl`), so that the
 * side files of several images of one folder never collide.
 */
export function storedSideName(file: string, builtName: string, imageName: string): string {
  if (file.startsWith(builtName)) return `${imageName}${file.slice(builtName.length)}`;
  return `${imageName}.${file}`;
}

/** One file a deploy writes into its folder: its name there, what it is, and the input that names it. */
export interface FolderFile {
  readonly name: string;
  /** For a message: "the image", "the config file", "the side file `www.xl`". */
  readonly what: string;
  /** The input to change when the name is wrong. */
  readonly input: string;
}

/** What of the image and the inputs decides the names of the deploy's files. */
export interface FolderFilesRequest {
  readonly image: Pick<
    BuiltImage,
    'target' | 'name' | 'path' | 'configFile' | 'sideFiles' | 'sbom' | 'buildInfo' | 'attestation'
  >;
  readonly deploy: Pick<DeployConfig, 'imageName' | 'compression'>;
  /** The image came from `image-path` (its names from the artifact's build.json), not from this job's build. */
  readonly fromArtifact: boolean;
}

/**
 * Every file this deploy writes into `<directory>/<sha>/`, under the names the deploy stores them:
 * the image, its `.args`, its SBOM files, its side files, the config file, and the folder's own
 * `manifest.json` and SHA256SUMS. The one list of the folder's files: a file a later feature adds
 * to the folder is added here, so that `folderFilesProblem` checks it with the others.
 */
export function folderFiles({ image, deploy, fromArtifact }: FolderFilesRequest): FolderFile[] {
  const name = deploy.imageName ?? image.name;
  const nameInput = deploy.imageName === undefined && fromArtifact ? 'image-path' : 'deploy-image-name';
  const buildInput = fromArtifact ? 'image-path' : 'config-file';
  const unpacked = isTarget(image.target) ? imageFileName(image.target, name) : basename(image.path);
  const sbom = image.sbom === undefined ? [] : Object.values(sbomFileNames(name));
  return [
    { name: storedImageName(unpacked, deploy.compression), what: 'the image', input: nameInput },
    { name: argsFileName(name), what: 'the boot arguments (`.args`)', input: nameInput },
    ...sbom.map((file) => ({ name: file, what: `the SBOM file \`${file}\``, input: nameInput })),
    ...(image.buildInfo === undefined
      ? []
      : [{ name: buildInfoFileName(name), what: 'the build record (`.buildinfo.json`)', input: nameInput }]),
    ...(image.attestation === undefined
      ? []
      : [{ name: attestationFileName(name), what: 'the attestation bundle (`.sigstore.json`)', input: nameInput }]),
    ...image.sideFiles.map((path) => ({
      name: storedSideName(basename(path), image.name, name),
      what: `the side file \`${basename(path)}\``,
      input: fromArtifact ? 'image-path' : nameInput,
    })),
    { name: basename(image.configFile), what: 'the config file', input: buildInput },
    ...FOLDER_FILES.map((file) => ({ name: file, what: `the folder's \`${file}\``, input: nameInput })),
  ];
}

/**
 * Why these files cannot make a deploy folder, or undefined: a name the host refuses (its
 * plain-name rule), or two files under one name, where the later would overwrite the earlier (the
 * host would then run a config file as the image). Names the input of the first file concerned.
 */
export function folderFilesProblem(files: readonly FolderFile[]): string | undefined {
  for (const file of files) {
    const problem = plainNameProblem(file.name);
    if (problem !== undefined) {
      return (
        `input \`${file.input}\`: ${file.what} would be stored as ${JSON.stringify(file.name)}, which ${problem}; ` +
        'the host refuses a folder holding such a name: give a name of letters, digits, `.`, `_` and `-` starting with a letter or digit'
      );
    }
  }
  const seen = new Map<string, FolderFile>();
  for (const file of files) {
    const first = seen.get(file.name);
    if (first !== undefined) {
      return (
        `input \`${first.input}\`: the deploy folder would hold two files named \`${file.name}\`, ${first.what} and ` +
        `${file.what}, and one would overwrite the other; rename one of them (\`deploy-image-name\` renames the ` +
        'image, its `.args`, SBOM and side files)'
      );
    }
    seen.set(file.name, file);
  }
  return undefined;
}

export interface ChecksumImage {
  /** The stored (compressed) file's name. */
  readonly file: string;
  readonly compression: Compression;
  readonly sha256: string;
}

/**
 * SHA256SUMS: one `<sha256>  <name>` line per file of the folder (sorted by name, SHA256SUMS
 * itself excepted), then for each compressed image a `# unpacked: <sha256>  <unpacked name>` line.
 */
export function checksumList(files: ReadonlyMap<string, string>, images: readonly ChecksumImage[]): string {
  const byName = ([a]: [string, string], [b]: [string, string]) => (a < b ? -1 : a > b ? 1 : 0);
  const lines = [...files.entries()]
    .filter(([name]) => name !== SUMS_FILE)
    .sort(byName)
    .map(([name, sha256]) => `${sha256}  ${name}\n`);
  const unpacked = images
    .filter((image) => image.compression !== 'none')
    .map((image): [string, string] => [unpackedName(image.file, image.compression), image.sha256])
    .sort(byName)
    .map(([name, sha256]) => `${UNPACKED_MARKER}${sha256}  ${name}\n`);
  return [...lines, ...unpacked].join('');
}

export function unpackedName(file: string, compression: Compression): string {
  return file.slice(0, file.length - COMPRESSION_SUFFIX[compression].length);
}

const MiB = 1024 * 1024;
/** GitHub warns about files over 50 MiB and refuses files over 100 MiB (GH001). */
export const SIZE_WARN_BYTES = 50 * MiB;
export const SIZE_LIMIT_BYTES = 100 * MiB;

export type SizeVerdict = { readonly level: 'ok' } | { readonly level: 'warn' | 'fail'; readonly message: string };

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

export function sizeVerdict(compressedSize: number, compression: Compression): SizeVerdict {
  const smaller =
    compression === 'xz'
      ? 'make the image smaller (fewer dependencies, no debug info)'
      : 'set input `compression: xz`, which usually shrinks unikernels most';
  if (compressedSize > SIZE_LIMIT_BYTES) {
    return {
      level: 'fail',
      message:
        `the compressed image is ${mib(compressedSize)}, over GitHub's hard limit of 100 MiB per file, ` +
        `so the push would be refused; ${smaller}`,
    };
  }
  if (compressedSize > SIZE_WARN_BYTES) {
    return {
      level: 'warn',
      message:
        `the compressed image is ${mib(compressedSize)}: GitHub warns above 50 MiB and refuses files over ` +
        `100 MiB; ${smaller}`,
    };
  }
  return { level: 'ok' };
}

export interface GateDecision {
  readonly deploy: boolean;
  /** Why, in words for a notice: "pull requests never deploy", "refs/heads/x is not a deploy branch". */
  readonly reason: string;
}

/** Events whose run holds code from a pull request; with a fork, code its author controls. */
const PULL_REQUEST_EVENTS = ['pull_request', 'pull_request_review', 'pull_request_review_comment'];
const DEPLOYING_EVENTS = ['push', 'workflow_dispatch'];

const no = (reason: string): GateDecision => ({ deploy: false, reason });

/** Names the fork a pull request comes from, or undefined when its head is in the base repository. */
function forkOf(ctx: RunContext): string | undefined {
  const pr = ctx.payload.pull_request;
  if (!pr) return undefined;
  const head = pr.head?.repo?.full_name;
  const base = pr.base?.repo?.full_name ?? ctx.payload.repository?.full_name;
  // A deleted fork leaves `head.repo` null: nobody can tell whose code it is, so it counts as one.
  if (head === undefined || head === null) return 'a fork that was deleted';
  return head !== base ? `a fork (${head})` : undefined;
}

/**
 * Whether this run may deploy, decided from the inputs and the event alone. Only a push to a
 * deploy branch, or a manual run on one, deploys: a pull request's code must never reach the
 * deploy secret or the deployment repository.
 */
export function decideDeploy(deploy: DeployConfig, ctx: RunContext): GateDecision {
  if (!deploy.enabled) return no('input `deploy` is false');
  if (ctx.eventName === 'pull_request_target') {
    throw new ConfigError([
      {
        input: 'deploy',
        message:
          "is `true` in a `pull_request_target` run; that event runs with the base repository's secrets while " +
          'a workflow that builds the pull request builds code its author controls, even from a fork, so a ' +
          'deploy there would hand the deploy key to anyone who opens a pull request. Deploy from `push` ' +
          '(or `workflow_dispatch`) on a deploy branch, and set `deploy: false` for pull request events, e.g. ' +
          "`deploy: ${{ github.event_name == 'push' }}`",
      },
    ]);
  }
  const fork = forkOf(ctx);
  if (fork !== undefined) return no(`a pull request from ${fork} never deploys`);
  if (PULL_REQUEST_EVENTS.includes(ctx.eventName)) return no('pull requests never deploy');
  if (!DEPLOYING_EVENTS.includes(ctx.eventName)) {
    return no(
      `\`${ctx.eventName || '(no event)'}\` runs never deploy; only push and workflow_dispatch on a deploy branch do`,
    );
  }
  if (!ctx.ref.startsWith('refs/heads/')) {
    return no(`${ctx.ref || '(no ref)'} is not a branch; only a deploy branch deploys`);
  }
  const branch = ctx.ref.slice('refs/heads/'.length);
  const defaultBranch = ctx.payload.repository?.default_branch;
  const branches = deploy.branches.length > 0 ? deploy.branches : defaultBranch ? [defaultBranch] : [];
  if (branches.length === 0) {
    return no(
      "the event does not name the repository's default branch, so no branch deploys; list the branches in `deploy-branches`",
    );
  }
  if (!branches.includes(branch)) {
    const which = deploy.branches.length > 0 ? '`deploy-branches`' : 'the default branch';
    return no(`${ctx.ref} is not a deploy branch (${which}: ${branches.join(', ')})`);
  }
  return {
    deploy: true,
    reason: `${ctx.eventName === 'push' ? 'push to' : 'manual run on'} ${branch}, a deploy branch`,
  };
}
