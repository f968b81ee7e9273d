/**
 * A lock file's `depexts`: the system packages its packages need, each list under an opam filter
 * such as `["libgmp-dev"] {os-family = "debian"}`. Evaluated here as opam evaluates them
 * (OpamFilter, `eval_to_bool ~default:false`: an undefined variable or a non-boolean filter selects
 * nothing), with opam's system variables. The lock file is written by the build, so every selected
 * name must be a Debian package name before it reaches apt-get's command line.
 */
import { field, listItems, parseOpamFile, type OpamValue } from '../sbom/opam-file.js';
import type { SystemVariables } from '../opam/system-variables.js';

/** A filter's value: a string, a boolean, or undefined (a variable this machine does not define). */
type FilterValue = string | boolean | undefined;

/** OpamVersionCompare (dpkg's `verrevcmp`): `~` before the end, letters before other characters. */
export function compareVersions(a: string, b: string): number {
  const digit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  const order = (c: string | undefined): number => {
    if (c === undefined || digit(c)) return 0;
    if (c === '~') return -1;
    return /[A-Za-z]/.test(c) ? c.charCodeAt(0) : c.charCodeAt(0) + 256;
  };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !digit(a[i])) || (j < b.length && !digit(b[j]))) {
      const diff = order(a[i]) - order(b[j]);
      if (diff !== 0) return diff;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let first = 0;
    for (; digit(a[i]) && digit(b[j]); i++, j++) if (first === 0) first = a.charCodeAt(i) - b.charCodeAt(j);
    if (digit(a[i])) return 1;
    if (digit(b[j])) return -1;
    if (first !== 0) return first;
  }
  return 0;
}

const RELOPS: Readonly<Record<string, (c: number) => boolean>> = {
  '=': (c) => c === 0,
  '!=': (c) => c !== 0,
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

class NotBoolean extends Error {}

function asBoolean(v: FilterValue): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new NotBoolean(v);
}

/** `%{var}%` expanded; undefined when a variable is. */
function interpolate(text: string, vars: SystemVariables): FilterValue {
  let missing = false;
  const expanded = text.replace(/%\{([^}]*)\}%/g, (_, name: string) => {
    const value = vars[name as keyof SystemVariables];
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : expanded;
}

function atom(value: OpamValue, vars: SystemVariables): FilterValue {
  switch (value.kind) {
    case 'string':
      return interpolate(value.value, vars);
    case 'ident':
      if (value.value === 'true' || value.value === 'false') return value.value === 'true';
      return vars[value.value as keyof SystemVariables];
    case 'group':
      if (value.items.length !== 1) throw new NotBoolean('a group of several values');
      return evaluate([value.items[0] as OpamValue], vars);
    case 'expr':
      return evaluate(value.items, vars);
    default:
      throw new NotBoolean(value.kind);
  }
}

/** Splits a flat `a op b op c` list at `op`, lowest precedence first: `|`, then `&`. */
function split(items: readonly OpamValue[], op: string): OpamValue[][] {
  const parts: OpamValue[][] = [[]];
  for (const item of items) {
    if (item.kind === 'op' && item.value === op) parts.push([]);
    else parts[parts.length - 1]?.push(item);
  }
  return parts;
}

/** opam's `logop2`: an undefined side gives way to the absorbing value (false for `&`, true for `|`). */
function logical(parts: readonly FilterValue[], absorbing: boolean): FilterValue {
  const values = parts.map(asBoolean);
  if (values.includes(absorbing)) return absorbing;
  return values.includes(undefined) ? undefined : !absorbing;
}

function evaluate(items: readonly OpamValue[], vars: SystemVariables): FilterValue {
  const ors = split(items, '|');
  if (ors.length > 1)
    return logical(
      ors.map((part) => evaluate(part, vars)),
      true,
    );
  const ands = split(items, '&');
  if (ands.length > 1)
    return logical(
      ands.map((part) => evaluate(part, vars)),
      false,
    );
  const [first, op, second, ...rest] = items;
  if (
    first?.kind === 'op' &&
    (first.value === '!' || first.value === '?') &&
    op !== undefined &&
    second === undefined
  ) {
    const inner = atom(op, vars);
    if (first.value === '?') return inner !== undefined;
    const b = asBoolean(inner);
    return b === undefined ? undefined : !b;
  }
  if (first !== undefined && op === undefined) return atom(first, vars);
  if (first === undefined || op?.kind !== 'op' || second === undefined || rest.length > 0) {
    throw new NotBoolean('not a filter');
  }
  const compare = RELOPS[op.value];
  if (compare === undefined) throw new NotBoolean(op.value);
  const [x, y] = [atom(first, vars), atom(second, vars)];
  if (x === undefined || y === undefined) return undefined;
  return compare(compareVersions(String(x), String(y)));
}

/** Whether a depexts entry's filter (the values between `{` and `}`) selects it on this machine. */
export function filterSelects(filter: readonly OpamValue[], vars: SystemVariables): boolean {
  if (filter.length === 0) return true;
  if (filter.length > 1) return false;
  try {
    return asBoolean(evaluate(filter, vars)) ?? false;
  } catch (error) {
    if (error instanceof NotBoolean) return false;
    throw error;
  }
}

/**
 * Debian policy 5.6.1: lower-case letters, digits, `+`, `-` and `.`, at least two characters,
 * starting with a letter or digit. Nothing else reaches apt-get (no option, no `=version`, no
 * `/release`, no pattern).
 */
export function isDebianPackageName(name: string): boolean {
  return /^[a-z0-9][a-z0-9+.-]+$/.test(name);
}

function names(value: OpamValue): string[] {
  return listItems(value).flatMap((v) => (v.kind === 'string' ? [v.value] : []));
}

/**
 * The system packages a lock file's depexts select with these variables, in order, once each.
 * With `debian` (the names go to apt-get), throws, naming the file, for a selected name that is not
 * a Debian package name.
 */
export function lockDepexts(file: string, text: string, vars: SystemVariables, debian: boolean): string[] {
  const selected = new Set<string>();
  let items;
  try {
    items = parseOpamFile(text);
  } catch (error) {
    throw new Error(`${file}: cannot read its depexts: ${(error as Error).message}`);
  }
  for (const entry of listItems(field(items, 'depexts'))) {
    const [packages, filter] = entry.kind === 'option' ? [entry.value, entry.filter] : [entry, []];
    if (!filterSelects(filter, vars)) continue;
    for (const name of names(packages)) {
      if (debian && !isDebianPackageName(name)) {
        throw new Error(
          `${file}: its depexts ask for the system package ${JSON.stringify(name)}, which is not a Debian ` +
            'package name (lower-case letters, digits, `+`, `-`, `.`, starting with a letter or digit); ' +
            'nothing was installed: fix the lock file or the opam file that declares it',
        );
      }
      selected.add(name);
    }
  }
  return [...selected];
}
