/**
 * What changed between the image `latest` names and the one being deployed: size, packages
 * (from the two lock files) and the compiler and mirage versions (from the two manifests). Pure:
 * the writer reads the previous manifest and lock file by blob id and hands them here.
 */
import type { LockedPackage } from './lock.js';

export interface PackageVersion {
  readonly name: string;
  readonly version: string;
}

export interface VersionChange {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

export interface PackageChanges {
  readonly added: readonly PackageVersion[];
  readonly removed: readonly PackageVersion[];
  readonly upgraded: readonly VersionChange[];
  readonly downgraded: readonly VersionChange[];
}

export interface SizeChange {
  readonly before: number;
  readonly after: number;
  /** after − before, in bytes. */
  readonly change: number;
  /** The change in percent of `before`, one decimal; absent when `before` is 0. */
  readonly percent?: number;
}

/** The `diff` output, as JSON. */
export type DeployDiff =
  | { readonly first: true }
  | {
      readonly first: false;
      /** The source sha `latest` named. */
      readonly previous: string;
      /** Absent when the previous folder's manifest could not be read. */
      readonly size?: SizeChange;
      /** Absent when the previous folder has no lock file this action can read. */
      readonly packages?: PackageChanges;
      /** Only the versions that moved. */
      readonly versions: { readonly ocaml?: VersionChange; readonly mirage?: VersionChange };
    };

export interface DeployedState {
  readonly size: number;
  readonly ocaml: string;
  readonly mirage: string;
  readonly packages?: readonly PackageVersion[];
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/** Debian's order, which opam uses: `~` before everything, even the end; letters before other characters. */
function charOrder(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  const code = c.charCodeAt(0);
  return /[A-Za-z]/.test(c) ? code : code + 256;
}

/** Compares two opam versions: negative, zero or positive. */
export function compareOpamVersions(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const x = i < a.length && !isDigit(a[i]) ? charOrder(a[i]) : 0;
      const y = j < b.length && !isDigit(b[j]) ? charOrder(b[j]) : 0;
      if (x !== y) return x - y;
      i++;
      j++;
    }
    let m = i;
    let n = j;
    while (isDigit(a[m])) m++;
    while (isDigit(b[n])) n++;
    const x = a.slice(i, m).replace(/^0+/, '');
    const y = b.slice(j, n).replace(/^0+/, '');
    if (x.length !== y.length) return x.length - y.length;
    if (x !== y) return x < y ? -1 : 1;
    i = m;
    j = n;
  }
  return 0;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function diffPackages(before: readonly PackageVersion[], after: readonly PackageVersion[]): PackageChanges {
  const old = new Map(before.map((p) => [p.name, p.version]));
  const now = new Map(after.map((p) => [p.name, p.version]));
  const upgraded: VersionChange[] = [];
  const downgraded: VersionChange[] = [];
  for (const [name, to] of now) {
    const from = old.get(name);
    if (from === undefined || from === to) continue;
    (compareOpamVersions(to, from) > 0 ? upgraded : downgraded).push({ name, from, to });
  }
  return {
    added: after
      .filter((p) => !old.has(p.name))
      .map(({ name, version }) => ({ name, version }))
      .sort(byName),
    removed: before
      .filter((p) => !now.has(p.name))
      .map(({ name, version }) => ({ name, version }))
      .sort(byName),
    upgraded: upgraded.sort(byName),
    downgraded: downgraded.sort(byName),
  };
}

export function sizeChange(before: number, after: number): SizeChange {
  const change = after - before;
  return before === 0
    ? { before, after, change }
    : { before, after, change, percent: Math.round((change / before) * 1000) / 10 };
}

function moved(name: string, from: string, to: string): VersionChange | undefined {
  return from === to ? undefined : { name, from, to };
}

/** The diff against `latest`: undefined `previousSha` means nothing is deployed yet. */
export function deployDiff(
  previousSha: string | undefined,
  previous: DeployedState | undefined,
  current: DeployedState,
): DeployDiff {
  if (previousSha === undefined) return { first: true };
  if (previous === undefined) return { first: false, previous: previousSha, versions: {} };
  const ocaml = moved('ocaml', previous.ocaml, current.ocaml);
  const mirage = moved('mirage', previous.mirage, current.mirage);
  return {
    first: false,
    previous: previousSha,
    size: sizeChange(previous.size, current.size),
    ...(previous.packages && current.packages ? { packages: diffPackages(previous.packages, current.packages) } : {}),
    versions: { ...(ocaml ? { ocaml } : {}), ...(mirage ? { mirage } : {}) },
  };
}

/** The packages of a lock file as the diff compares them. */
export function lockedVersions(packages: readonly LockedPackage[]): PackageVersion[] {
  return packages.map(({ name, version }) => ({ name, version }));
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function sizeLine(size: SizeChange): string {
  const percent = size.percent === undefined ? '' : `, ${signed(size.percent)}%`;
  return `image size: ${size.before} → ${size.after} bytes (${signed(size.change)}${percent})`;
}

/** Plain lines for the commit body and the log. */
export function diffLines(diff: DeployDiff): string[] {
  if (diff.first) return ['first deploy'];
  const lines = [`changes since ${diff.previous}:`];
  if (diff.size === undefined) lines.push(`its manifest could not be read: no size or versions to compare`);
  else lines.push(sizeLine(diff.size));
  for (const v of [diff.versions.ocaml, diff.versions.mirage]) if (v) lines.push(`${v.name}: ${v.from} → ${v.to}`);
  const p = diff.packages;
  if (p === undefined) {
    if (diff.size !== undefined) lines.push('packages: not compared (the deployed image has no lock file)');
    return lines;
  }
  const count = p.added.length + p.removed.length + p.upgraded.length + p.downgraded.length;
  if (count === 0) lines.push('packages: unchanged');
  for (const a of p.added) lines.push(`added ${a.name} ${a.version}`);
  for (const r of p.removed) lines.push(`removed ${r.name} ${r.version}`);
  for (const u of p.upgraded) lines.push(`upgraded ${u.name} ${u.from} → ${u.to}`);
  for (const d of p.downgraded) lines.push(`downgraded ${d.name} ${d.from} → ${d.to}`);
  return lines;
}

/** The job summary's section: a heading line and a bullet list. */
export function diffMarkdown(diff: DeployDiff, imageName: string): string {
  const [head, ...rest] = diffLines(diff);
  if (diff.first) return `**${imageName}**: first deploy`;
  return [`**${imageName}**: ${head ?? ''}`, '', ...rest.map((l) => `- ${l.replace(/`/g, "'")}`)].join('\n');
}
