import { describe, expect, it } from 'vitest';
import type { SetupConfig } from '../../src/config.js';
import {
  SWITCH_NAME,
  keepsRestoredRoot,
  planSetup,
  relockAfterUpdate,
  relockMessage,
  type SetupPlan,
  type SetupSnapshot,
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
  opamUrlForm,
  repositoriesUnchanged,
  versionSatisfies,
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
      'keeps a git repository opam lists with its backend (`git+`)',
      [
        { name: 'default', url: 'git+https://github.com/ocaml/opam-repository.git', selected: true },
        { name: 'local', url: 'git+file:///srv/opam/r.git', selected: true },
      ],
      [
        { name: 'default', url: 'https://github.com/ocaml/opam-repository.git' },
        { name: 'local', url: 'file:///srv/opam/r.git' },
      ],
      [],
    ],
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

describe('repositoriesUnchanged: what `opam update` said of each repository', () => {
  const esc = String.fromCharCode(27);
  it.each([
    ['one unchanged', '[default] no changes from git+https://github.com/ocaml/opam-repository.git\n', true],
    ['coloured, as the log has it', `[${esc}[32mdefault${esc}[0m] no changes from file:///srv/r\n`, true],
    ['two unchanged', '[a] no changes from file:///a\n[b] no changes from file:///b\n', true],
    ['one of two synchronised', '[a] no changes from file:///a\n[b] synchronised from file:///b\n', false],
    ['an error for one', '[a] no changes from file:///a\n[ERROR] Could not update repository "b"\n', false],
    ['nothing said', '\n<><> Updating package repositories ><><>\n', false],
  ])('%s: %s', (_, output, unchanged) => {
    expect(repositoriesUnchanged(output)).toBe(unchanged);
  });
});

describe('versionSatisfies: the `mirage-version` input, in opam version order', () => {
  it.each([
    ['4.11.1', '>= 4.11.0 & < 5.0.0', true],
    ['5.0.0', '>= 4.11.0 & < 5.0.0', false],
    ['4.11.1+stand-in', '4.11.1+stand-in', true],
    ['4.11.1', '4.11.1+stand-in', false],
    ['4.9.0', '>= 4.11.0', false],
    ['4.9.0', '< 4.10 | >= 4.11.0', true],
    ['4.11.0~beta1', '>= 4.11.0', false],
    ['4.11.0', '!= 4.11.0', false],
  ])('%s within %s: %s', (version, constraint, within) => {
    expect(versionSatisfies(version, constraint)).toBe(within);
  });
});

describe('opamUrlForm: a URL as opam 2.1 lists it', () => {
  it.each([
    ['https://github.com/ocaml/opam-repository.git', 'git+https://github.com/ocaml/opam-repository.git'],
    ['https://example.org/r.git#main', 'git+https://example.org/r.git#main'],
    ['file:///srv/r.git', 'git+file:///srv/r.git'],
    ['file:///srv/r', 'file:///srv/r'],
    ['https://opam.ocaml.org', 'https://opam.ocaml.org'],
    ['git+https://example.org/r.git', 'git+https://example.org/r.git'],
    ['git+ssh://git@example.org/r', 'git+ssh://git@example.org/r'],
  ])('%s → %s', (url, form) => {
    expect(opamUrlForm(url)).toBe(form);
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

describe('planSetup: every decision of the setup from one snapshot', () => {
  const fixture = { name: 'fixture', url: 'file:///srv/repo' };
  const setup: SetupConfig = {
    ocamlCompiler: { kind: 'system' },
    ocamlCompilerInput: 'ocaml-system',
    opamVersion: '2.1.2',
    opamRepositories: [fixture],
    opamPins: [{ name: 'fmt' }],
    opamDisableSandboxing: false,
    mirageVersion: '>= 4.11.0',
    cache: true,
    cachePrefix: 'v1',
    cacheRefresh: { kind: 'weekly' },
  };
  const lock = { versions: 'duration.0.2.1\n', files: 'name: "duration"\n' };
  const locked = [{ name: 'duration', version: '0.2.1' }];
  const converged = { repositories: [{ ...fixture, selected: true }], switchExists: true, pins: ['fmt'] };
  const warm: SetupSnapshot = {
    root: '/root/.opam',
    cache: { hit: 'partial', period: 't2026w50', sameRoot: false },
    initialised: true,
    switchState: true,
    installed: new Map([
      ['mirage', '4.11.1'],
      ['opam-monorepo', '0.4.1'],
    ]),
    sandbox: 'on',
    opam: converged,
  };
  const fresh: SetupSnapshot = {
    ...warm,
    cache: { hit: 'miss', period: 't2026w50', sameRoot: false },
    initialised: false,
    switchState: false,
    installed: new Map(),
    opam: undefined,
  };
  const newPeriod = { hit: 'partial' as const, period: 't2026w50', stalePeriod: 't2026w49', sameRoot: true };
  const reapplyFmt = [['pin', 'add', '--no-action', '--dev-repo', 'fmt']];
  const converge: Partial<SetupPlan> = {
    keep: false,
    repositories: [],
    updateRepositories: true,
    pins: reapplyFmt,
    upgrade: false,
    install: true,
    relock: { when: 'no-refresh' },
  };

  it.each<[string, SetupSnapshot, Partial<SetupConfig>, Partial<SetupPlan>, RegExp]>([
    [
      'a miss on a runner without a root: init with the first repository, the others after it, a new switch, the pins, the install',
      fresh,
      {},
      {
        keep: false,
        init: ['init', '--bare', '--no-setup', 'fixture', 'file:///srv/repo'],
        repositories: 'after-init',
        updateRepositories: false,
        createSwitch: { askVersions: false },
        pins: reapplyFmt,
        upgrade: false,
        install: true,
        relock: { when: 'no-refresh' },
      },
      /none, `opam init` makes it/,
    ],
    [
      "opam's sandbox turned off: the root is initialised without it",
      { ...fresh, sandbox: 'off' },
      {},
      {
        init: ['init', '--bare', '--no-setup', '--disable-sandboxing', 'fixture', 'file:///srv/repo'],
        createSwitch: { askVersions: false },
      },
      /none, `opam init` makes it/,
    ],
    [
      'an exact hit of a usable root: nothing runs',
      { ...warm, cache: { hit: 'exact', period: 't2026w50', sameRoot: false }, opam: undefined },
      {},
      {
        keep: true,
        repositories: [],
        updateRepositories: false,
        pins: [],
        upgrade: false,
        install: false,
        relock: { when: 'no-refresh' },
      },
      /exact cache hit, nothing to install/,
    ],
    [
      'an exact hit whose switch is missing: converged, and a switch created',
      {
        ...warm,
        cache: { hit: 'exact', period: 't2026w50', sameRoot: false },
        switchState: false,
        opam: { ...converged, switchExists: false, pins: [] },
      },
      {},
      { ...converge, createSwitch: { askVersions: false } },
      /switch mirage: none, created/,
    ],
    [
      'a partial hit of this period (another config.ml): the repositories updated, the pins reapplied, what is missing installed',
      warm,
      {},
      converge,
      /the switch has mirage\.4\.11\.1, opam-monorepo\.0\.4\.1/,
    ],
    [
      'a new period of the same root with a lock: update, upgrade, and the relock waits for the update',
      { ...warm, cache: newPeriod, lock: { locked, before: lock } },
      {},
      { ...converge, upgrade: true, relock: { when: 'after-update', locked, before: lock } },
      /restored root is of period t2026w49, this run's is t2026w50/,
    ],
    [
      'a new period of another root: locked again, known up front',
      { ...warm, cache: { ...newPeriod, sameRoot: false }, lock: { locked } },
      {},
      {
        ...converge,
        upgrade: true,
        relock: {
          when: 'known',
          locked,
          plan: { relock: true, reason: 'the root restored is of another target, configuration or dependency set' },
        },
      },
      /`opam upgrade` of what the updated repositories change/,
    ],
    [
      'a new period of a root without a lock: locked again, known up front',
      { ...warm, cache: newPeriod, lock: { locked: [] } },
      {},
      {
        upgrade: true,
        relock: { when: 'known', locked: [], plan: { relock: true, reason: 'the root restored holds no lock file' } },
      },
      /`opam upgrade`/,
    ],
    [
      'a new period where opam could not show the locked packages: locked again, known up front',
      { ...warm, cache: newPeriod, lock: { locked } },
      {},
      { relock: { when: 'known', locked, plan: { relock: true, reason: 'opam could not show every locked package' } } },
      /`opam upgrade`/,
    ],
    [
      'a repository whose URL moved: set-url',
      { ...warm, opam: { ...converged, repositories: [{ ...fixture, url: 'file:///old', selected: true }] } },
      {},
      { repositories: [['repository', 'set-url', 'fixture', 'file:///srv/repo']], updateRepositories: true },
      /opam repositories: set-url fixture/,
    ],
    [
      'an unwanted repository: removed when selected, kept when make lock unselected it',
      {
        ...warm,
        opam: {
          ...converged,
          repositories: [
            { ...fixture, selected: true },
            { name: 'extra', url: 'file:///extra', selected: true },
            { name: 'overlay', url: 'file:///overlay', selected: false },
          ],
        },
      },
      {},
      { repositories: [['repository', 'remove', 'extra', '--all-switches', '--set-default']] },
      /opam repositories: remove extra$/,
    ],
    [
      'a new repository: added at the lowest rank',
      warm,
      { opamRepositories: [fixture, { name: 'mirage', url: 'file:///mirage' }] },
      {
        repositories: [
          ['repository', 'add', 'mirage', 'file:///mirage', '--all-switches', '--set-default', '--rank=-1'],
        ],
      },
      /opam repositories: add mirage/,
    ],
    [
      'pins changed: the one no longer wanted removed, the wanted ones (re)applied',
      { ...warm, opam: { ...converged, pins: ['fmt', 'lwt'] } },
      { opamPins: [{ name: 'fmt.0.9.0' }] },
      {
        pins: [
          ['pin', 'remove', '--no-action', 'lwt'],
          ['pin', 'add', '--no-action', 'fmt', '0.9.0'],
        ],
      },
      /opam pins: removed: lwt; \(re\)applied: fmt\.0\.9\.0/,
    ],
    [
      'a compiler version on a root without the switch: created, the prefix resolved against the repositories',
      {
        ...warm,
        cache: { hit: 'miss', sameRoot: false },
        opam: { ...converged, switchExists: false, pins: ['stale'] },
      },
      { ocamlCompiler: { kind: 'version', version: '5.4' }, ocamlCompilerInput: '5.4' },
      { createSwitch: { askVersions: true }, pins: reapplyFmt },
      /already there \(not from the cache\)/,
    ],
    [
      "another compiler asked of a root already on the runner: its switch is kept (a cached root's key holds the compiler)",
      { ...warm, cache: { hit: 'miss', sameRoot: false } },
      { ocamlCompiler: { kind: 'version', version: '5.4' }, ocamlCompilerInput: '5.4' },
      { updateRepositories: true, pins: reapplyFmt },
      /switch mirage: there, kept/,
    ],
  ])('%s', (_, snapshot, inputs, expected, reason) => {
    const plan = planSetup({ ...setup, ...inputs }, snapshot);
    expect(plan).toMatchObject(expected);
    if (!('createSwitch' in expected)) expect(plan.createSwitch).toBeUndefined();
    if (!('init' in expected)) expect(plan.init).toBeUndefined();
    expect(plan.reasons.join('\n')).toMatch(new RegExp(reason.source, 'm'));
  });

  it('knows whether the restored switch already has the requirements (no pins: opam may want a pinned one rebuilt)', () => {
    const noPins = { ...setup, opamPins: [] };
    const unpinned = { ...warm, opam: { ...converged, pins: [] } };
    expect(planSetup(noPins, unpinned).requirementsInstalled).toBe(true);
    expect(planSetup(setup, warm).requirementsInstalled).toBe(false);
    expect(planSetup({ ...noPins, mirageVersion: '>= 4.12.0' }, unpinned).requirementsInstalled).toBe(false);
    const noMonorepo = { ...unpinned, installed: new Map([['mirage', '4.11.1']]) };
    expect(planSetup(noPins, noMonorepo).requirementsInstalled).toBe(false);
    const noSwitch = { ...unpinned, opam: { ...converged, pins: [], switchExists: false } };
    expect(planSetup(noPins, noSwitch).requirementsInstalled).toBe(false);
    expect(planSetup(noPins, fresh).requirementsInstalled).toBe(false);
  });

  it('refuses to initialise a root without a repository, naming the input', () => {
    expect(() => planSetup({ ...setup, opamRepositories: [] }, fresh)).toThrow(/input `opam-repositories`/);
  });

  it('asks opam about every root it converges: a snapshot without it is refused, not guessed', () => {
    expect(() => planSetup(setup, { ...warm, opam: undefined })).toThrow(/did not read what opam says/);
  });

  it('keeps only an exact hit with both the config and the switch', () => {
    const exact = { hit: 'exact' as const, sameRoot: false };
    expect(keepsRestoredRoot({ cache: exact, initialised: true, switchState: true })).toBe(true);
    expect(keepsRestoredRoot({ cache: exact, initialised: false, switchState: true })).toBe(false);
    expect(keepsRestoredRoot({ cache: exact, initialised: true, switchState: false })).toBe(false);
    expect(keepsRestoredRoot({ cache: { hit: 'partial', sameRoot: true }, initialised: true, switchState: true })).toBe(
      false,
    );
  });

  it("decides the relock's second half from the state after the update, and says why", () => {
    const step = { when: 'after-update' as const, locked, before: lock };
    expect(relockAfterUpdate(step, lock)).toEqual({ relock: false });
    const moved = relockAfterUpdate(step, { ...lock, versions: 'duration.0.2.1\nduration.0.2.2\n' });
    expect(relockMessage(moved, 1)).toBe(
      'cache-refresh: the unikernel is locked again: the repositories have other versions of locked packages: duration.0.2.2',
    );
    expect(relockMessage({ relock: false }, 1)).toMatch(/^cache-refresh: no locked package \(of 1\) changed/);
  });
});
