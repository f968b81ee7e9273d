import { describe, expect, it } from 'vitest';
import type { BuildInfo, BuildInputs } from '../../src/buildinfo/plan.js';
import {
  checkoutProblem,
  factDifferences,
  inputMismatches,
  judgeRebuild,
  pinnedRepositories,
  repositoryMismatches,
  type GivenInputs,
} from '../../src/rebuild/plan.js';

const SHA = '8123456789abcdef0123456789abcdef01234567';
const COMMIT = 'b'.repeat(40);

const RECORDED_INPUTS: BuildInputs = {
  target: 'unix',
  configureArgs: ['--net=socket'],
  bootArgs: ['--hello=x'],
  configFile: 'config.ml',
  workingDirectory: 'hello',
  buildCommand: [],
  compiler: 'ocaml-system',
  ocamlVersion: '4.13.1',
  mirageVersion: '4.11.1',
};
const GIVEN: GivenInputs = {
  target: 'unix',
  configureArgs: ['--net=socket'],
  configFile: 'config.ml',
  workingDirectory: 'hello',
  buildCommand: [],
  compiler: 'ocaml-system',
  mirageVersion: '4.11.1',
};

describe('inputMismatches', () => {
  it.each([
    ['the same inputs', {}, []],
    [
      'configure-args',
      { configureArgs: ['--net=direct'] },
      ['input `configure-args`: recorded `--net=socket`, the workflow gives `--net=direct`'],
    ],
    [
      'configure-args dropped',
      { configureArgs: [] },
      ['input `configure-args`: recorded `--net=socket`, the workflow gives (none)'],
    ],
    ['target', { target: 'xen' }, ['input `target`: recorded `unix`, the workflow gives `xen`']],
    [
      'build-command and the compiler, both named',
      { buildCommand: ['make', 'build'], compiler: '5.4.1' },
      [
        'input `build-command`: recorded (none), the workflow gives `make build`',
        'input `ocaml-compiler`: recorded `ocaml-system`, the workflow gives `5.4.1`',
      ],
    ],
    [
      'working-directory',
      { workingDirectory: '.' },
      ['input `working-directory`: recorded `hello`, the workflow gives `.`'],
    ],
    [
      'config-file',
      { configFile: 'other.ml' },
      ['input `config-file`: recorded `config.ml`, the workflow gives `other.ml`'],
    ],
    [
      'mirage-version',
      { mirageVersion: '4.12.0' },
      ['input `mirage-version`: recorded `4.11.1`, the workflow gives `4.12.0`'],
    ],
  ] as const)('%s', (_name, change, expected) => {
    expect(inputMismatches(RECORDED_INPUTS, { ...GIVEN, ...change })).toEqual(expected);
  });

  it('does not compare boot-args, which do not change the image', () => {
    expect(inputMismatches({ ...RECORDED_INPUTS, bootArgs: ['--other'] }, GIVEN)).toEqual([]);
  });
});

describe('repositoryMismatches', () => {
  const recorded = [
    { name: 'default', url: 'https://github.com/ocaml/opam-repository.git', commit: COMMIT },
    { name: 'overlay', url: 'https://***@example.org/overlay.git', sha256: 'c'.repeat(64) },
  ];
  it.each([
    [
      'the same URLs (a credential compared as recorded, redacted)',
      [
        { name: 'default', url: 'https://github.com/ocaml/opam-repository.git' },
        { name: 'overlay', url: 'https://token@example.org/overlay.git' },
      ],
      [],
    ],
    [
      'another URL',
      [
        { name: 'default', url: 'https://example.org/fork.git' },
        { name: 'overlay', url: 'https://token@example.org/overlay.git' },
      ],
      [
        'input `opam-repositories`: repository 1 is recorded as `default: https://github.com/ocaml/opam-repository.git`, the workflow gives `default: https://example.org/fork.git`',
      ],
    ],
    [
      'one missing',
      [{ name: 'default', url: 'https://github.com/ocaml/opam-repository.git' }],
      [
        'input `opam-repositories`: repository 2 is recorded as `overlay: https://***@example.org/overlay.git`, the workflow gives (none)',
      ],
    ],
    [
      'another order',
      [
        { name: 'overlay', url: 'https://token@example.org/overlay.git' },
        { name: 'default', url: 'https://github.com/ocaml/opam-repository.git' },
      ],
      [
        'input `opam-repositories`: repository 1 is recorded as `default: https://github.com/ocaml/opam-repository.git`, the workflow gives `overlay: https://***@example.org/overlay.git`',
        'input `opam-repositories`: repository 2 is recorded as `overlay: https://***@example.org/overlay.git`, the workflow gives `default: https://github.com/ocaml/opam-repository.git`',
      ],
    ],
  ])('%s', (_name, given, expected) => {
    expect(repositoryMismatches(recorded, given)).toEqual(expected);
  });
});

describe('pinnedRepositories', () => {
  it('puts each git repository at its recorded commit and leaves the others as given', () => {
    const recorded = [
      { name: 'default', url: 'git+https://example.org/r.git', commit: COMMIT },
      { name: 'local', url: 'file:///srv/repo', sha256: 'c'.repeat(64) },
    ];
    const given = [
      { name: 'default', url: 'git+https://example.org/r.git#main' },
      { name: 'local', url: 'file:///srv/repo' },
    ];
    expect(pinnedRepositories(recorded, given)).toEqual([
      { name: 'default', url: `git+https://example.org/r.git#${COMMIT}` },
      { name: 'local', url: 'file:///srv/repo' },
    ]);
  });
});

describe('checkoutProblem', () => {
  it.each([
    ['the recorded commit', SHA, undefined],
    ['the recorded commit in capitals', SHA.toUpperCase(), undefined],
    [
      'another commit',
      'f'.repeat(40),
      `the checkout is at ${'f'.repeat(40)}, but unix/${SHA} was built from ${SHA}; check that commit out (\`actions/checkout\` with \`ref: ${SHA}\`) before the rebuild`,
    ],
  ])('%s', (_name, checkout, expected) => {
    expect(checkoutProblem(`unix/${SHA}`, SHA, checkout)).toBe(expected);
  });
});

const INFO: BuildInfo = {
  schema: 1,
  image: { name: 'hello', file: 'hello', sha256: 'a'.repeat(64), size: 10 },
  action: { version: '0.1.0' },
  environment: { os: 'Linux', distribution: 'debian', version: '12', architecture: 'x86_64', variables: { TZ: 'UTC' } },
  systemPackages: [
    { name: 'gcc', version: '4:12.2.0-3' },
    { name: 'make', version: '4.3-4.1' },
  ],
  opamSwitch: 'opam-version: "2.0"\n',
  repositories: [{ name: 'default', url: 'https://example.org/r.git', commit: COMMIT }],
  inputs: RECORDED_INPUTS,
};

describe('factDifferences', () => {
  const same = { recorded: 'lock', rebuilt: 'lock' };
  it.each([
    ['nothing', {}, same, []],
    [
      'the distribution version and the architecture',
      { environment: { ...INFO.environment, version: '13', architecture: 'arm64' } },
      same,
      [
        'environment version: recorded 12, this runner 13',
        'environment architecture: recorded x86_64, this runner arm64',
      ],
    ],
    [
      'a package upgraded, one missing here',
      { systemPackages: [{ name: 'gcc', version: '4:12.2.0-14' }] },
      same,
      [
        'system package gcc: recorded 4:12.2.0-3, this runner 4:12.2.0-14',
        'system package make: recorded 4.3-4.1, this runner (none)',
      ],
    ],
    [
      'the compiler',
      { inputs: { ...RECORDED_INPUTS, ocamlVersion: '4.14.0' } },
      same,
      ['OCaml: recorded 4.13.1, this runner 4.14.0'],
    ],
    [
      'a variable, the repository, the switch and the lock',
      {
        environment: { ...INFO.environment, variables: {} },
        repositories: [{ name: 'default', url: 'https://example.org/r.git', commit: 'd'.repeat(40) }],
        opamSwitch: 'other',
      },
      { recorded: 'lock', rebuilt: undefined },
      [
        'environment variables: recorded {"TZ":"UTC"}, this runner {}',
        `opam repository default: recorded ${COMMIT}, this runner ${'d'.repeat(40)}`,
        'the switch export (opamSwitch) differs',
        'the lock file differs',
      ],
    ],
  ] as const)('%s', (_name, change, locks, expected) => {
    expect(factDifferences(INFO, { ...INFO, ...change } as BuildInfo, locks)).toEqual(expected);
  });
});

describe('judgeRebuild', () => {
  const recorded = { sha256: 'a'.repeat(64), size: 100 };
  it('is identical for the same sha256', () => {
    expect(judgeRebuild(`unix/${SHA}`, recorded, recorded, undefined, [])).toEqual({
      identical: true,
      row: `identical: sha256 ${'a'.repeat(64)}, as recorded in unix/${SHA}`,
    });
  });
  it('names the offset and the facts for another sha256', () => {
    const verdict = judgeRebuild(`unix/${SHA}`, recorded, { sha256: 'b'.repeat(64), size: 104 }, 100, [
      'OCaml: recorded 4.13.1, this runner 4.14.0',
    ]);
    expect(verdict.identical).toBe(false);
    expect(verdict.row).toBe('different: first difference at byte offset 100 (sizes 100 recorded, 104 rebuilt)');
    expect(verdict.problem).toBe(
      `the rebuild of unix/${SHA} gave sha256 ${'b'.repeat(64)}, the recorded image is ${'a'.repeat(64)}; ` +
        'first difference at byte offset 100 (sizes 100 recorded, 104 rebuilt); differing facts: OCaml: recorded 4.13.1, this runner 4.14.0',
    );
  });
  it('says so when no recorded fact differs', () => {
    const verdict = judgeRebuild('unix/x', recorded, { sha256: 'b'.repeat(64), size: 100 }, 3, []);
    expect(verdict.problem).toMatch(/; no recorded fact differs from this runner$/);
  });
});
