/**
 * The pull-request preview, decided without effects: the comment's body (what would change in
 * `<directory>/<image>` if this pull request were deployed), its hidden marker, the escaping that
 * keeps names from the lock file inert, which existing comment to update (and which of two made at
 * once to keep), and the check of a
 * preview file handed over by a fork's build job (untrusted: the fork's code ran in that job).
 */
import type { DeployDiff, PackageVersion, SizeChange, VersionChange } from '../sbom/diff.js';
import { COMMIT_SHA } from '../patterns.js';

export const PREVIEW_SCHEMA = 1;
/** The preview file the build job leaves in `dist/mirage-deploy/` for a `workflow_run` job. */
export const PREVIEW_FILE = 'preview.json';
/** Rows of package changes shown; the rest are counted. */
export const MAX_PACKAGE_ROWS = 60;
/** Characters of one name or version shown. */
const MAX_TEXT = 80;

/** A boot test's verdict on the built image (filled in by the boot test when it runs). */
export interface BootTestResult {
  readonly passed: boolean;
  readonly detail: string;
}

export interface Preview {
  readonly schema: typeof PREVIEW_SCHEMA;
  readonly pullRequest: number;
  /** The pull request's head commit the preview was built from. */
  readonly headSha: string;
  readonly directory: string;
  /** The image's deployed name. */
  readonly image: string;
  readonly size: number;
  readonly sha256: string;
  readonly diff: DeployDiff;
  readonly bootTest?: BootTestResult;
}

/** The hidden line that finds this image's comment again on every push. */
export function previewMarker(directory: string, image: string): string {
  return `<!-- mirage-deploy:preview ${directory}/${image} -->`;
}

/**
 * Text from the lock file or the deployment repository, shown inert: one line, capped, inside a
 * code span (no mention, link, emphasis or HTML is rendered there), `@` made a full-width one
 * anyway so that a copy elsewhere does not notify anyone either.
 */
export function inert(text: string): string {
  const line = text
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f\u2028\u2029]/g, ' ')
    .replace(/`/g, "'")
    .replace(/@/g, '\uff20')
    .replace(/\|/g, '\u00a6');
  const capped = line.length > MAX_TEXT ? `${line.slice(0, MAX_TEXT - 1)}…` : line;
  return `\`${capped.trim() === '' ? '?' : capped}\``;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function sizeText(size: SizeChange): string {
  const percent = size.percent === undefined ? '' : ` (**${signed(size.percent)} %**)`;
  return `${size.before} → ${size.after} bytes, ${signed(size.change)} bytes${percent}`;
}

function versionRow(v: VersionChange): string {
  return `| ${inert(v.name)} | ${inert(v.from)} → ${inert(v.to)} |`;
}

/** The package rows, at most MAX_PACKAGE_ROWS, then how many more there are. */
export function packageRows(diff: Extract<DeployDiff, { first: false }>): string[] {
  const p = diff.packages;
  if (p === undefined) return ['Packages: not compared (the deployed image has no lock file).'];
  const row = (what: string, name: string, change: string) => `| ${what} | ${inert(name)} | ${change} |`;
  const all = [
    ...p.added.map((a: PackageVersion) => row('added', a.name, inert(a.version))),
    ...p.removed.map((r: PackageVersion) => row('removed', r.name, inert(r.version))),
    ...p.upgraded.map((u) => row('upgraded', u.name, `${inert(u.from)} → ${inert(u.to)}`)),
    ...p.downgraded.map((d) => row('downgraded', d.name, `${inert(d.from)} → ${inert(d.to)}`)),
  ];
  if (all.length === 0) return ['Packages: unchanged.'];
  const shown = all.slice(0, MAX_PACKAGE_ROWS);
  const more = all.length - shown.length;
  return [
    `Packages: ${p.added.length} added, ${p.removed.length} removed, ${p.upgraded.length} upgraded, ${p.downgraded.length} downgraded.`,
    '',
    '| change | package | version |',
    '| --- | --- | --- |',
    ...shown,
    ...(more > 0 ? ['', `… and ${more} more, not shown.`] : []),
  ];
}

function bootTestLine(bootTest: BootTestResult | undefined): string {
  if (bootTest === undefined) return 'Boot test: not run.';
  return `Boot test: ${bootTest.passed ? 'passed' : '**failed**'} (${inert(bootTest.detail)}).`;
}

function diffSection(diff: DeployDiff): string[] {
  if (diff.first) return ['Nothing is deployed there yet: this would be the first deploy.'];
  const lines = [`Compared with ${inert(diff.previous)}, the deploy \`latest\` names.`, ''];
  lines.push(diff.size ? `Image size: ${sizeText(diff.size)}.` : 'Image size: its manifest could not be read.');
  const versions = [diff.versions.ocaml, diff.versions.mirage].filter((v): v is VersionChange => v !== undefined);
  if (versions.length > 0) lines.push('', '| tool | version |', '| --- | --- |', ...versions.map(versionRow));
  return [...lines, '', ...packageRows(diff)];
}

/** The markdown of the job summary's section and, after the marker, of the comment. */
export function previewMarkdown(preview: Preview): string {
  const where = inert(`${preview.directory}/${preview.image}`);
  return [
    `### mirage-deploy preview: ${where}`,
    '',
    `Built from ${inert(preview.headSha)}: ${preview.size} bytes, sha256 ${inert(preview.sha256)}.`,
    '',
    ...diffSection(preview.diff),
    '',
    bootTestLine(preview.bootTest),
  ].join('\n');
}

export function commentBody(preview: Preview): string {
  return `${previewMarker(preview.directory, preview.image)}\n${previewMarkdown(preview)}\n`;
}

export interface ExistingComment {
  readonly id: number;
  readonly body?: string | null;
  readonly user?: { readonly type?: string } | null;
}

/**
 * The comment to update: the oldest one a bot (this action's token) wrote starting with the marker,
 * so a person quoting the marker, or a package named like it, never redirects the update.
 */
export function chooseComment(
  comments: readonly ExistingComment[],
  marker: string,
): { readonly kind: 'update'; readonly id: number } | { readonly kind: 'create' } {
  const found = comments.find((c) => c.user?.type === 'Bot' && (c.body ?? '').startsWith(`${marker}\n`));
  return found === undefined ? { kind: 'create' } : { kind: 'update', id: found.id };
}

/**
 * After creating `created`: two jobs that listed at the same moment both create, so the one whose
 * comment is not the oldest removes its own and updates the oldest instead.
 */
export function settleCreated(
  comments: readonly ExistingComment[],
  marker: string,
  created: number,
): { readonly kind: 'keep' } | { readonly kind: 'merge'; readonly into: number } {
  const oldest = chooseComment(comments, marker);
  return oldest.kind === 'update' && oldest.id !== created ? { kind: 'merge', into: oldest.id } : { kind: 'keep' };
}

const FOLDER_PATH = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*$/;
const IMAGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= 4096;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isChange(v: unknown, fields: readonly string[]): boolean {
  return isObject(v) && fields.every((f) => isText(v[f]));
}

function diffProblem(diff: unknown): string | undefined {
  if (!isObject(diff)) return '`diff` is not an object';
  if (diff.first === true) return undefined;
  if (diff.first !== false || !isText(diff.previous)) return '`diff` is neither a first deploy nor a comparison';
  const size = diff.size;
  if (size !== undefined && !(isObject(size) && isCount(size.before) && isCount(size.after) && isCount(size.change))) {
    return '`diff.size` is not sizes in bytes';
  }
  const p = diff.packages;
  if (p !== undefined) {
    if (!isObject(p)) return '`diff.packages` is not an object';
    const shapes = { added: ['name', 'version'], removed: ['name', 'version'], upgraded: ['name', 'from', 'to'] };
    for (const [list, fields] of Object.entries({ ...shapes, downgraded: shapes.upgraded })) {
      const items = p[list];
      if (!Array.isArray(items) || items.length > 100_000 || !items.every((i) => isChange(i, fields))) {
        return `\`diff.packages.${list}\` is not a list of packages`;
      }
    }
  }
  const versions = diff.versions;
  if (!isObject(versions)) return '`diff.versions` is not an object';
  for (const v of [versions.ocaml, versions.mirage]) {
    if (v !== undefined && !isChange(v, ['name', 'from', 'to'])) return '`diff.versions` holds a bad change';
  }
  return undefined;
}

/** Why a preview file cannot be commented, or undefined. Everything in it is shown escaped. */
export function previewProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'it is not a JSON object';
  if (value.schema !== PREVIEW_SCHEMA) return `its \`schema\` is not ${PREVIEW_SCHEMA}`;
  const n = value.pullRequest;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) return '`pullRequest` is not a pull request number';
  if (typeof value.headSha !== 'string' || !COMMIT_SHA.test(value.headSha)) return '`headSha` is not a commit sha';
  if (typeof value.directory !== 'string' || !FOLDER_PATH.test(value.directory)) return '`directory` is not a folder';
  if (typeof value.image !== 'string' || !IMAGE_NAME.test(value.image)) return '`image` is not an image name';
  if (!isCount(value.size) || !isText(value.sha256)) return '`size` or `sha256` is missing';
  const boot = value.bootTest;
  if (boot !== undefined && !(isObject(boot) && typeof boot.passed === 'boolean' && isText(boot.detail))) {
    return '`bootTest` is not a verdict';
  }
  return diffProblem(value.diff);
}

/** Reads a preview file's text: the preview, or why not. */
export function parsePreview(text: string): { readonly preview: Preview } | { readonly problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `it is not JSON (${(error as Error).message})` };
  }
  const problem = previewProblem(value);
  return problem === undefined ? { preview: value as Preview } : { problem };
}

/** The pull request number of a `pull_request` event, or undefined. */
export function pullRequestNumber(payload: {
  readonly pull_request?: { readonly number?: unknown };
}): number | undefined {
  const n = payload.pull_request?.number;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
