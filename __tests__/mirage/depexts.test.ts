import { describe, expect, it } from 'vitest';
import { compareVersions, filterSelects, isDebianPackageName, lockDepexts } from '../../src/mirage/depexts.js';
import type { SystemVariables } from '../../src/opam/system-variables.js';
import { field, listItems, parseOpamFile, type OpamValue } from '../../src/sbom/opam-file.js';

const DEBIAN: SystemVariables = {
  arch: 'x86_64',
  os: 'linux',
  'os-family': 'debian',
  'os-distribution': 'debian',
  'os-version': '12',
};
const UBUNTU: SystemVariables = { ...DEBIAN, 'os-distribution': 'ubuntu', 'os-version': '24.04' };

/** The filter of `x: ["p"] {<filter>}`, as the opam-file reader gives it. */
function filterOf(text: string): readonly OpamValue[] {
  const [entry] = listItems(field(parseOpamFile(`x: ["p"] {${text}}`), 'x'));
  if (entry?.kind !== 'option') throw new Error('no filter');
  return entry.filter;
}

describe('filterSelects, as opam evaluates a depexts filter (default false)', () => {
  it.each<[string, SystemVariables, boolean]>([
    ['os-family = "debian"', DEBIAN, true],
    ['os-family = "debian"', UBUNTU, true],
    ['os-distribution = "ubuntu"', DEBIAN, false],
    ['os-distribution = "ubuntu"', UBUNTU, true],
    ['os-family != "debian"', DEBIAN, false],
    ['os-distribution = "alpine"', DEBIAN, false],
    ['os = "linux" & os-family = "debian"', DEBIAN, true],
    ['os = "macos" & os-family = "debian"', DEBIAN, false],
    ['os = "macos" | os-family = "debian"', DEBIAN, true],
    // `&` binds tighter than `|`
    ['os = "macos" & os-family = "debian" | arch = "x86_64"', DEBIAN, true],
    ['os = "macos" & (os-family = "debian" | arch = "x86_64")', DEBIAN, false],
    ['!(os-distribution = "ubuntu")', DEBIAN, true],
    ['!(os-distribution = "ubuntu")', UBUNTU, false],
    // versions compare as opam's versions, not as strings or numbers
    ['os-distribution = "ubuntu" & os-version >= "20.04"', UBUNTU, true],
    ['os-distribution = "ubuntu" & os-version < "24.04"', UBUNTU, false],
    ['os-version >= "9"', DEBIAN, true],
    ['os-version = "12.0"', DEBIAN, false],
    // an undefined variable selects nothing, unless `|` or `&` decide without it
    ['os-version >= "9"', { ...DEBIAN, 'os-version': undefined } as SystemVariables, false],
    ['pkg:installed', DEBIAN, false],
    ['pkg:installed | os-family = "debian"', DEBIAN, true],
    ['pkg:installed & os-family = "alpine"', DEBIAN, false],
    ['?os-version', DEBIAN, true],
    ['?foo', DEBIAN, false],
    ['true', DEBIAN, true],
    ['false', DEBIAN, false],
    ['"%{os-family}%" = "debian"', DEBIAN, true],
    // not a boolean: nothing selected, as opam's eval_to_bool ~default:false
    ['os-family', DEBIAN, false],
    ['"debian"', DEBIAN, false],
  ])('{%s} on %j: %s', (filter, vars, selected) => {
    expect(filterSelects(filterOf(filter), vars)).toBe(selected);
  });

  it('selects an entry without a filter', () => {
    expect(filterSelects([], DEBIAN)).toBe(true);
  });
});

describe('compareVersions (Debian order, as OpamVersionCompare)', () => {
  it.each<[string, string, number]>([
    ['12', '12', 0],
    ['9', '12', -1],
    ['20.04', '24.04', -1],
    ['1.0', '1.00', 0],
    ['1.0~beta', '1.0', -1],
    ['1.0', '1.0a', -1],
    ['1.0a', '1.0+', -1],
    ['12.0', '12', 1],
    ['100000000000000000001', '100000000000000000000', 1],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
    expect(Math.sign(compareVersions(b, a)) + 0).toBe(0 - sign);
  });
});

describe('isDebianPackageName', () => {
  it.each(['libgmp-dev', 'pkg-config', 'g++', 'libstdc++6', 'libc6.1', '0ad', 'xz-utils'])('%s is one', (name) => {
    expect(isDebianPackageName(name)).toBe(true);
  });
  it.each([
    '-oDir=/tmp',
    'x',
    'LibGMP',
    'libgmp-dev:amd64',
    'libgmp-dev=2:6.2',
    'libgmp/sid',
    'lib*',
    'a b',
    '',
    '.ab',
  ])('%j is not', (name) => {
    expect(isDebianPackageName(name)).toBe(false);
  });
});

describe('lockDepexts', () => {
  const lock = `opam-version: "2.0"
depends: [ "gmp" {= "6.3.0" & ?vendor} ]
depexts: [
  ["libgmp-dev"] {os-family = "debian"}
  ["gmp-devel"] {os-distribution = "fedora" | os-family = "rhel"}
  ["gmp"] {os-distribution = "alpine"}
  ["libffi-dev" "pkg-config"] {os-family = "debian"}
  ["libgmp-dev"] {os-distribution = "ubuntu"}
  ["zlib1g-dev"]
]
`;
  it('the selected names, once each, in order', () => {
    expect(lockDepexts('l', lock, DEBIAN, true)).toEqual(['libgmp-dev', 'libffi-dev', 'pkg-config', 'zlib1g-dev']);
    expect(lockDepexts('l', lock, UBUNTU, true)).toEqual(['libgmp-dev', 'libffi-dev', 'pkg-config', 'zlib1g-dev']);
    expect(lockDepexts('l', lock, { os: 'linux', 'os-family': 'alpine', 'os-distribution': 'alpine' }, false)).toEqual([
      'gmp',
      'zlib1g-dev',
    ]);
  });

  it('none for a lock without depexts, or with an empty list', () => {
    expect(lockDepexts('l', 'depends: []\n', DEBIAN, true)).toEqual([]);
    expect(lockDepexts('l', 'depends: []\ndepexts: []\n', DEBIAN, true)).toEqual([]);
  });

  it('refuses a lock file it cannot read rather than installing part of it', () => {
    expect(() => lockDepexts('mirage/x.opam.locked', 'depexts: [ ["a"] {os = ', DEBIAN, true)).toThrow(
      /^mirage\/x\.opam\.locked: cannot read its depexts: end of file: /,
    );
  });
});
