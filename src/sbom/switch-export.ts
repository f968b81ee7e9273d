/**
 * `opam switch export` of the build switch: what compiled the image (the compiler, mirage, dune,
 * opam-monorepo and every other package installed there), as opposed to what is in it.
 */
import { field, listItems, parseOpamFile } from './opam-file.js';

export interface SwitchPackage {
  readonly name: string;
  readonly version: string;
  /** Listed in the switch's `compiler` field: the compiler and its base packages. */
  readonly compiler: boolean;
  /** Installed on request rather than as a dependency (`roots`). */
  readonly root: boolean;
}

/** `name.version`: opam package names hold no dot, so the first one separates them. */
export function splitPackage(text: string): { name: string; version: string } | undefined {
  const dot = text.indexOf('.');
  return dot <= 0 || dot === text.length - 1 ? undefined : { name: text.slice(0, dot), version: text.slice(dot + 1) };
}

function packageSet(value: ReturnType<typeof field>, what: string): Set<string> {
  const names = new Set<string>();
  for (const item of listItems(value)) {
    if (item.kind !== 'string' || splitPackage(item.value) === undefined) {
      throw new Error(`\`${what}\` holds something other than \`"name.version"\``);
    }
    names.add(item.value);
  }
  return names;
}

/** The installed packages, in name order; throws when the export is not one. */
export function parseSwitchExport(text: string): SwitchPackage[] {
  const items = parseOpamFile(text);
  const installedField = field(items, 'installed');
  if (installedField === undefined) throw new Error('it has no `installed` field: it is not an `opam switch export`');
  const installed = packageSet(installedField, 'installed');
  const compiler = packageSet(field(items, 'compiler'), 'compiler');
  const roots = packageSet(field(items, 'roots'), 'roots');
  return [...installed]
    .map((text) => ({ ...(splitPackage(text) as { name: string; version: string }), text }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ name, version, text }) => ({ name, version, compiler: compiler.has(text), root: roots.has(text) }));
}
