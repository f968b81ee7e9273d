import { describe, expect, it } from 'vitest';
import {
  SWITCH_NAME,
  fetchVariables,
  installedVersions,
  lockedStateQueries,
  planRelock,
  opamFormula,
  opamVariables,
  parseEnvSexp,
  parsePinList,
  parseRepositoryList,
  pinCommand,
  planPins,
  planRepositories,
  requirementsOpamFile,
} from '../../src/opam/plan.js';

describe('opamVariables', () => {
  it('gives later steps the root, the switch, non-interactive answers, no depexts and the core count', () => {
    expect(opamVariables('/home/runner/.opam', 4)).toEqual({
      OPAMROOT: '/home/runner/.opam',
      OPAMSWITCH: SWITCH_NAME,
      OPAMYES: '1',
      OPAMCONFIRMLEVEL: 'unsafe-yes',
      OPAMNODEPEXTS: '1',
      OPAMRETRIES: '10',
      OPAMJOBS: '4',
      OPAMDOWNLOADJOBS: '4',
      OPAMCOLOR: 'always',
    });
  });
});

describe('fetchVariables', () => {
  const curl =
    'curl --connect-timeout 30 --speed-limit 1000 --speed-time 60 --write-out %%{http_code}\\n ' +
    '--retry %{retry}% --retry-delay 2 --user-agent opam/%{opam-version}% -L -o %{out}% -- %{url}%';

  it.each<[string, Record<string, string>, boolean, number, Record<string, string>]>([
    [
      'curl present',
      {},
      true,
      60,
      { OPAMFETCH: curl, GIT_HTTP_LOW_SPEED_LIMIT: '1000', GIT_HTTP_LOW_SPEED_TIME: '60' },
    ],
    [
      'no curl: opam keeps its own choice (wget)',
      {},
      false,
      60,
      { GIT_HTTP_LOW_SPEED_LIMIT: '1000', GIT_HTTP_LOW_SPEED_TIME: '60' },
    ],
    [
      "the user's own settings stay",
      { OPAMFETCH: 'wget', GIT_HTTP_LOW_SPEED_TIME: '600' },
      true,
      60,
      { GIT_HTTP_LOW_SPEED_LIMIT: '1000' },
    ],
    [
      'shortened by the test variable',
      {},
      true,
      3,
      {
        OPAMFETCH: curl
          .replace('--connect-timeout 30', '--connect-timeout 3')
          .replace('--speed-time 60', '--speed-time 3'),
        GIT_HTTP_LOW_SPEED_LIMIT: '1000',
        GIT_HTTP_LOW_SPEED_TIME: '3',
      },
    ],
  ])('%s', (_, env, curlFound, lowSpeed, expected) => {
    expect(fetchVariables(env, curlFound, lowSpeed)).toEqual(expected);
  });

  it('no argument holds a space (opam splits OPAMFETCH on spaces), and the HTTP code is written last', () => {
    const args = (fetchVariables({}, true, 60).OPAMFETCH ?? '').split(' ');
    expect(args).not.toContain('');
    expect(args[0]).toBe('curl');
    expect(args.slice(-2)).toEqual(['--', '%{url}%']);
    expect(args[args.indexOf('--write-out') + 1]).toBe('%%{http_code}\\n');
  });
});

describe('parseEnvSexp', () => {
  it('reads what opam 2.1 prints', () => {
    const text = [
      '(',
      '  ("OPAM_SWITCH_PREFIX" "/root/.opam/mirage")',
      '  ("CAML_LD_LIBRARY_PATH" "/root/.opam/mirage/lib/stublibs")',
      '  ("MANPATH" ":/root/.opam/mirage/man")',
      '  ("PATH" "/root/.opam/mirage/bin:/usr/bin:/bin")',
      ')',
    ].join('\n');
    expect(parseEnvSexp(text)).toEqual({
      OPAM_SWITCH_PREFIX: '/root/.opam/mirage',
      CAML_LD_LIBRARY_PATH: '/root/.opam/mirage/lib/stublibs',
      MANPATH: ':/root/.opam/mirage/man',
      PATH: '/root/.opam/mirage/bin:/usr/bin:/bin',
    });
  });

  it('undoes string escapes', () => {
    expect(parseEnvSexp('(("A" "x \\"quoted\\" \\\\ y"))')).toEqual({ A: 'x "quoted" \\ y' });
    expect(parseEnvSexp('()')).toEqual({});
  });
});

describe('parseRepositoryList', () => {
  it('reads the table of `opam repository list --all`', () => {
    const text = [
      '[WARNING] Running as root is not recommended',
      '# Repository # Url                    # Switches(rank)',
      'first        file:///tmp/optest/repo  <default>(1/2)',
      'second       https://example.org/r.git mirage(2/2)',
      'overlay      file:///tmp/optest/overlay',
    ].join('\n');
    expect(parseRepositoryList(text)).toEqual([
      { name: 'first', url: 'file:///tmp/optest/repo', selected: true },
      { name: 'second', url: 'https://example.org/r.git', selected: true },
      { name: 'overlay', url: 'file:///tmp/optest/overlay', selected: false },
    ]);
  });
});

describe('parsePinList', () => {
  it('keeps package names only', () => {
    expect(parsePinList('fmt\nlogs\n[WARNING] Running as root is not recommended\n')).toEqual(['fmt', 'logs']);
    expect(parsePinList('')).toEqual([]);
  });
});

describe('planRepositories', () => {
  const a = { name: 'a', url: 'file:///a', selected: true };
  const b = { name: 'b', url: 'file:///b', selected: true };
  const c = { name: 'c', url: 'file:///c', selected: true };
  const overlay = { name: 'overlay', url: 'file:///o', selected: false };

  it.each([
    ['nothing to do', [a, b], [a, b], []],
    [
      'appends the missing ones in order',
      [a],
      [a, b, c],
      [
        ['repository', 'add', 'b', 'file:///b', '--all-switches', '--set-default', '--rank=-1'],
        ['repository', 'add', 'c', 'file:///c', '--all-switches', '--set-default', '--rank=-1'],
      ],
    ],
    [
      'moves a URL',
      [{ name: 'a', url: 'file:///old', selected: true }],
      [a],
      [['repository', 'set-url', 'a', 'file:///a']],
    ],
    ['drops an unwanted one', [a, c], [a], [['repository', 'remove', 'c', '--all-switches', '--set-default']]],
    ['keeps an unwanted one that nothing selects (an overlay `make repo-rm` unselected)', [a, overlay], [a], []],
    [
      'selects a wanted one that is known but unselected',
      [a, { ...b, selected: false }],
      [a, b],
      [['repository', 'add', 'b', 'file:///b', '--all-switches', '--set-default', '--rank=-1']],
    ],
  ] as const)('%s', (_, current, wanted, commands) => {
    expect(planRepositories(current, wanted)).toEqual(commands);
  });
});

describe('pins', () => {
  it.each([
    [
      { name: 'fmt', url: 'git+https://example.org/fmt.git#main' },
      ['pin', 'add', '--no-action', 'fmt', 'git+https://example.org/fmt.git#main'],
    ],
    [{ name: 'fmt.0.9.0' }, ['pin', 'add', '--no-action', 'fmt', '0.9.0']],
    [{ name: 'mirage-crypto' }, ['pin', 'add', '--no-action', '--dev-repo', 'mirage-crypto']],
  ])('%j → %j', (pin, command) => {
    expect(pinCommand(pin)).toEqual(command);
  });

  it('removes pins that are not wanted any more and (re)applies the wanted ones', () => {
    expect(planPins(['fmt', 'logs'], [{ name: 'fmt.0.9.0' }, { name: 'lwt', url: 'file:///lwt' }])).toEqual([
      ['pin', 'remove', '--no-action', 'logs'],
      ['pin', 'add', '--no-action', 'fmt', '0.9.0'],
      ['pin', 'add', '--no-action', 'lwt', 'file:///lwt'],
    ]);
    expect(planPins([], [])).toEqual([]);
  });
});

describe('opamFormula', () => {
  it.each([
    ['>= 4.11.0 & < 5.0.0', '>= "4.11.0" & < "5.0.0"'],
    ['>=4.11.0&<5.0.0', '>= "4.11.0" & < "5.0.0"'],
    ['4.11.1', '= "4.11.1"'],
    ['= 4.11.1 | >= 4.12.0', '= "4.11.1" | >= "4.12.0"'],
    ['!= 4.11.0', '!= "4.11.0"'],
  ])('%s → %s', (constraint, formula) => {
    expect(opamFormula(constraint)).toBe(formula);
  });

  it('names the input when it cannot read a piece', () => {
    expect(() => opamFormula('>= 4.11.0 & ')).toThrow(/^input `mirage-version`: cannot read `` in/);
  });
});

describe('requirementsOpamFile', () => {
  it('asks for mirage within the constraint, and opam-monorepo', () => {
    const file = requirementsOpamFile('>= 4.11.0 & < 5.0.0');
    expect(file).toMatch(/^opam-version: "2\.0"\n/);
    expect(file).toContain('depends: [ "mirage" {>= "4.11.0" & < "5.0.0"} "opam-monorepo" ]');
    // opam lints a local opam file on every install; these are the fields it insists on.
    for (const field of ['maintainer', 'authors', 'homepage', 'bug-reports'])
      expect(file).toMatch(new RegExp(`^${field}: `, 'm'));
  });
});

describe('installedVersions', () => {
  it("reads the switch's installed packages", () => {
    const state = [
      'opam-version: "2.0"',
      'compiler: ["ocaml-system.4.13.1"]',
      'roots: ["mirage.4.11.1" "ocaml-system.4.13.1" "opam-monorepo.0.4.1"]',
      'installed: [',
      '  "base-bigarray.base"',
      '  "mirage.4.11.1"',
      '  "ocaml.4.13.1"',
      '  "ocaml-system.4.13.1"',
      '  "ocaml-variants.5.4.1+options"',
      ']',
      'pinned: ["fmt.0.9.0"]',
    ].join('\n');
    const versions = installedVersions(state);
    expect(versions.get('ocaml')).toBe('4.13.1');
    expect(versions.get('mirage')).toBe('4.11.1');
    expect(versions.get('base-bigarray')).toBe('base');
    expect(versions.get('ocaml-variants')).toBe('5.4.1+options');
    expect(versions.has('fmt')).toBe(false);
  });

  it('is empty for a switch with nothing installed', () => {
    expect(installedVersions('opam-version: "2.0"\n').size).toBe(0);
  });
});

describe('a refresh: lock again?', () => {
  const locked = [
    { name: 'fmt', version: '0.9.0' },
    { name: 'duration', version: '0.2.1' },
    { name: 'fmt', version: '0.9.0' },
  ];

  it('reads every version of each locked package and the opam file of each locked version, in name order', () => {
    expect(lockedStateQueries(locked)).toEqual({
      versions: ['list', '--all', '--all-versions', '--short', '--columns=package', 'duration', 'fmt'],
      files: ['show', '--raw', 'duration.0.2.1', 'fmt.0.9.0'],
    });
  });

  const state = { versions: 'duration.0.2.1\nfmt.0.9.0\n', files: 'opam-version: "2.0"\nname: "duration"\n' };

  it.each<[string, boolean, number, typeof state | undefined, typeof state | undefined, RegExp | undefined]>([
    ['nothing locked changed', true, 2, state, state, undefined],
    [
      'a dependency has a new version',
      true,
      2,
      state,
      { ...state, versions: 'duration.0.2.1\nduration.0.2.2\nfmt.0.9.0\n' },
      /other versions of locked packages: duration\.0\.2\.2$/,
    ],
    [
      'a version was removed',
      true,
      2,
      state,
      { ...state, versions: 'fmt.0.9.0\n' },
      /other versions of locked packages$/,
    ],
    [
      "a locked version's opam file changed",
      true,
      2,
      state,
      { ...state, files: state.files + 'depends: ["lwt"]\n' },
      /changed the opam file of a locked package/,
    ],
    ['another root of an earlier period', false, 2, state, state, /another target, configuration or dependency set/],
    ['no stored lock', true, 0, undefined, undefined, /holds no lock file/],
    ['opam could not show a package before', true, 2, undefined, state, /could not show every locked package/],
    ['opam could not show a package after', true, 2, state, undefined, /could not show every locked package/],
  ])('%s', (_, sameRoot, count, before, after, reason) => {
    const plan = planRelock(sameRoot, count, before, after);
    if (reason === undefined) expect(plan).toEqual({ relock: false });
    else expect(plan.relock && plan.reason).toMatch(reason);
  });
});
