import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_COMPILER,
  SOLO5_COMPILERS,
  compilerPackage,
  parseVersionList,
  pickCompilerVersion,
} from '../../src/opam/compiler.js';
import { PROJECT_ROOT } from '../support/harness.js';

const RELEASES = [
  '4.14.2',
  '5.3.0',
  '5.4.0',
  '5.4.1',
  '5.4.1~rc1',
  '5.4.1+flambda',
  '5.40.0',
  '5.5.0~alpha1',
  '5.10.0',
];

describe('pickCompilerVersion', () => {
  it.each([
    ['5.4', '5.4.1'],
    ['5.4.0', '5.4.0'],
    ['5.4.1', '5.4.1'],
    ['5', '5.40.0'],
    ['5.1', undefined],
    ['5.40', '5.40.0'],
    ['4', '4.14.2'],
    ['5.5', undefined],
    ['5.4.1~rc1', '5.4.1~rc1'],
    ['5.10', '5.10.0'],
    ['6', undefined],
  ])('%s → %s', (prefix, version) => {
    expect(pickCompilerVersion(prefix, RELEASES)).toBe(version);
  });

  it('compares numerically, not as text', () => {
    expect(pickCompilerVersion('4', ['4.9.0', '4.10.0', '4.14.2', '4.2.0'])).toBe('4.14.2');
  });
});

describe('parseVersionList', () => {
  it('reads what `opam list --short --columns=version` prints, one version a line', () => {
    expect(parseVersionList('4.14.2\n5.3.0\n5.4.0\n5.4.1~rc1\n5.5.0\n')).toEqual([
      '4.14.2',
      '5.3.0',
      '5.4.0',
      '5.4.1~rc1',
      '5.5.0',
    ]);
    expect(parseVersionList('[WARNING] Running as root is not recommended\n5.4.1\n')).toEqual(['5.4.1']);
    expect(parseVersionList('')).toEqual([]);
  });
});

describe('compilerPackage', () => {
  it.each([
    [{ kind: 'system' }, 'ocaml-system'],
    [{ kind: 'package', name: 'ocaml-variants', version: '5.4.1+options' }, 'ocaml-variants.5.4.1+options'],
    [{ kind: 'package', name: 'ocaml-base-compiler', version: '5.3.0' }, 'ocaml-base-compiler.5.3.0'],
    [{ kind: 'version', version: '5.4' }, 'ocaml-base-compiler.5.4.1'],
  ] as const)('%j → %s', (spec, pkg) => {
    expect(compilerPackage(spec, RELEASES)).toBe(pkg);
  });

  it('says which releases the repositories have when none matches', () => {
    expect(() => compilerPackage({ kind: 'version', version: '5.1' }, ['5.3.0', '5.4.1'])).toThrow(
      /^input `ocaml-compiler`: no ocaml-base-compiler release matches `5\.1` in the opam repositories \(they have 5\.3\.0, 5\.4\.1\); give one of those/,
    );
  });
});

describe('the default compiler', () => {
  it('is what action.yml documents, and one that ocaml-solo5 is built for', () => {
    const action = parse(readFileSync(join(PROJECT_ROOT, 'action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string }>;
    };
    expect(action.inputs['ocaml-compiler']?.default).toBe(DEFAULT_COMPILER);
    expect(SOLO5_COMPILERS).toContain(DEFAULT_COMPILER);
  });
});
