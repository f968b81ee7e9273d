/**
 * An opam-monorepo lock file (`mirage/<name>-<target>.opam.locked`): the complete list of packages
 * compiled into the image. `depends` pins every package of the solution to one version (`?vendor`
 * for those whose sources go into duniverse/, the others come from the switch); `pin-depends`
 * names each vendored package's source archive, and `x-opam-monorepo-duniverse-dirs` gives each
 * archive its duniverse folder and hashes.
 */
import { field, listItems, parseOpamFile, stringValue, type OpamValue } from './opam-file.js';
import { defined } from '../defined.js';

export interface SourceHash {
  /** As opam writes it: `sha256`, `sha512`, `md5`. */
  readonly algorithm: string;
  readonly value: string;
}

export interface LockedPackage {
  readonly name: string;
  readonly version: string;
  /** Built from sources in duniverse/ (`?vendor`), rather than installed in the switch. */
  readonly vendored: boolean;
  /** The source archive and its duniverse folder, for vendored packages. */
  readonly source?: { readonly url: string; readonly dir: string; readonly hashes: readonly SourceHash[] };
}

export interface LockFile {
  /** `x-opam-monorepo-version`. */
  readonly formatVersion?: string;
  readonly rootPackages: readonly string[];
  /** In name order. */
  readonly packages: readonly LockedPackage[];
}

const HASH = /^(sha256|sha512|md5)=([0-9a-f]+)$/;

function strings(value: OpamValue | undefined): string[] {
  return listItems(value).flatMap((v) => (v.kind === 'string' ? [v.value] : []));
}

/** `"name" {= "version" & ?vendor}`: the version after `=`, and whether `?vendor` is there. */
function lockedPackage(value: OpamValue): LockedPackage | string {
  if (value.kind !== 'option' || value.value.kind !== 'string') {
    return 'a `depends` entry is not `"name" {= "version"}`';
  }
  const name = value.value.value;
  let version: string | undefined;
  let vendored = false;
  const visit = (v: OpamValue, previous?: OpamValue): void => {
    if (v.kind === 'expr' || v.kind === 'group') v.items.forEach((item, i) => visit(item, v.items[i - 1]));
    if (v.kind === 'string' && previous?.kind === 'op' && previous.value === '=') version = v.value;
    if (v.kind === 'ident' && v.value === 'vendor' && previous?.kind === 'op' && previous.value === '?')
      vendored = true;
  };
  value.filter.forEach((v, i) => visit(v, value.filter[i - 1]));
  if (version === undefined) return `\`depends\` entry \`${name}\` has no \`{= "version"}\``;
  return { name, version, vendored };
}

/** Parses a lock file; throws with what is wrong, naming the field. */
export function parseLockFile(text: string): LockFile {
  const items = parseOpamFile(text);
  const depends = field(items, 'depends');
  if (depends === undefined) throw new Error('it has no `depends` field: it is not an opam-monorepo lock file');
  const packages: LockedPackage[] = [];
  for (const entry of listItems(depends)) {
    const parsed = lockedPackage(entry);
    if (typeof parsed === 'string') throw new Error(parsed);
    packages.push(parsed);
  }

  const pinned = new Map<string, string>();
  for (const pin of listItems(field(items, 'pin-depends'))) {
    const [nameVersion, url] = pin.kind === 'list' ? pin.items.map(stringValue) : [];
    if (nameVersion === undefined || url === undefined)
      throw new Error('a `pin-depends` entry is not `["name.version" "url"]`');
    pinned.set(nameVersion, url);
  }
  const dirs = new Map<string, { dir: string; hashes: SourceHash[] }>();
  for (const entry of listItems(field(items, 'x-opam-monorepo-duniverse-dirs'))) {
    const parts = entry.kind === 'list' ? entry.items : [];
    const url = stringValue(parts[0]);
    const dir = stringValue(parts[1]);
    if (url === undefined || dir === undefined) {
      throw new Error('an `x-opam-monorepo-duniverse-dirs` entry is not `["url" "dir" [hashes]]`');
    }
    const hashes = strings(parts[2]).map((h) => {
      const m = HASH.exec(h);
      if (m === null) throw new Error(`\`x-opam-monorepo-duniverse-dirs\`: \`${h}\` is not a hash opam writes`);
      return { algorithm: m[1] ?? '', value: m[2] ?? '' };
    });
    dirs.set(url, { dir, hashes });
  }

  const withSources = packages.map((p): LockedPackage => {
    const url = pinned.get(`${p.name}.${p.version}`);
    const where = url === undefined ? undefined : dirs.get(url);
    return url === undefined || where === undefined ? p : { ...p, source: { url, ...where } };
  });
  const formatVersion = stringValue(field(items, 'x-opam-monorepo-version'));
  return {
    ...defined({ formatVersion }),
    rootPackages: strings(field(items, 'x-opam-monorepo-root-packages')),
    packages: withSources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}
