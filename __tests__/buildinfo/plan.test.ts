import { describe, expect, it } from 'vitest';
import {
  BUILDINFO_MAX_BYTES,
  buildInfoProblem,
  buildInfoText,
  isGitUrl,
  parseDpkgVersions,
  recordedVariables,
} from '../../src/buildinfo/plan.js';

const SHA = 'a'.repeat(64);

function info(overrides: Record<string, unknown> = {}) {
  return buildInfoText({
    image: { name: 'hello', file: 'hello.xen', sha256: SHA, size: 10 },
    action: { version: '0.1.0' },
    environment: {
      os: 'Linux',
      distribution: 'debian',
      version: '12',
      architecture: 'x86_64',
      variables: { LANG: 'C' },
    },
    systemPackages: [
      { name: 'gcc', version: '4:12.2.0-3' },
      { name: 'binutils', version: '2.40-2' },
    ],
    opamSwitch: 'opam-version: "2.0"\n',
    repositories: [{ name: 'default', url: 'git+https://example.org/r.git', commit: 'b'.repeat(40) }],
    inputs: {
      target: 'xen',
      configureArgs: ['--net=direct'],
      bootArgs: [],
      configFile: 'config.ml',
      workingDirectory: 'hello',
      buildCommand: [],
      compiler: 'ocaml-system',
      ocamlVersion: '4.13.1',
      mirageVersion: '4.11.1',
    },
    ...overrides,
  });
}

describe('recordedVariables', () => {
  it('keeps only the allow-listed variables that are set, in name order', () => {
    const env = {
      GITHUB_TOKEN: 'ghs_secret',
      AWS_SECRET_ACCESS_KEY: 'x',
      INPUT_DEPLOY_KEY: 'key',
      PATH: '/usr/bin',
      HOME: '/root',
      TZ: 'UTC',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      LC_: 'prefix alone',
      OPAMVAR_os: 'linux',
      DUNE_CACHE: 'enabled',
      OPAMROOT: '/root/.opam',
      CC: 'gcc',
      CFLAGS: '-O2',
      SOURCE_DATE_EPOCH: '1',
      CCACHE_DIR: '/x',
      UNSET: undefined,
    };
    expect(recordedVariables(env)).toEqual({
      CC: 'gcc',
      CFLAGS: '-O2',
      DUNE_CACHE: 'enabled',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      OPAMVAR_os: 'linux',
      SOURCE_DATE_EPOCH: '1',
      TZ: 'UTC',
    });
    expect(Object.keys(recordedVariables(env))).toEqual(Object.keys(recordedVariables(env)).sort());
  });
});

describe('parseDpkgVersions', () => {
  it('reads installed packages with their versions, dropping the architecture qualifier and the rest', () => {
    const out =
      'gcc\t4:12.2.0-3\tinstall ok installed\nlibc6-dev:amd64\t2.36-9\tinstall ok installed\nmake\t4.3-4.1\tdeinstall ok config-files\n';
    expect(parseDpkgVersions(out)).toEqual([
      { name: 'gcc', version: '4:12.2.0-3' },
      { name: 'libc6-dev', version: '2.36-9' },
    ]);
  });
});

describe('isGitUrl', () => {
  it.each([
    ['git+https://github.com/ocaml/opam-repository.git', true],
    ['git://example.org/repo', true],
    ['git+file:///tmp/repo', true],
    ['https://example.org/repo.git', true],
    ['https://opam.ocaml.org', false],
    ['file:///tmp/opam-repository', false],
  ])('%s: %s', (url, git) => expect(isGitUrl(url)).toBe(git));
});

describe('buildInfoText and buildInfoProblem', () => {
  it('writes schema 1 with packages sorted, and reads it back for the same image', () => {
    const text = info();
    const doc = JSON.parse(text);
    expect(doc.schema).toBe(1);
    expect(doc.systemPackages.map((p: { name: string }) => p.name)).toEqual(['binutils', 'gcc']);
    expect(Object.keys(doc)).toEqual([
      'schema',
      'image',
      'action',
      'environment',
      'systemPackages',
      'opamSwitch',
      'repositories',
      'inputs',
    ]);
    expect(buildInfoProblem(text, text.length, SHA)).toBeUndefined();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document changed by path
  it.each<[string, (d: Record<string, any>) => void, RegExp]>([
    ['another schema', (d) => (d.schema = 2), /schema is 2/],
    ['no opam switch', (d) => delete d.opamSwitch, /opamSwitch/],
    ['a variable outside the allow-list', (d) => (d.environment.variables.GITHUB_TOKEN = 'x'), /allow-list/],
    ['a repository with neither commit nor sha256', (d) => delete d.repositories[0].commit, /repositories/],
    ['a system package without version', (d) => delete d.systemPackages[0].version, /systemPackages/],
    ['boot-args not a list', (d) => (d.inputs.bootArgs = '--x'), /argument lists/],
    ['another image', (d) => (d.image.sha256 = 'c'.repeat(64)), /not this one/],
  ])('refuses %s', (_, change, message) => {
    const doc = JSON.parse(info());
    change(doc);
    const text = JSON.stringify(doc);
    expect(buildInfoProblem(text, text.length, SHA)).toMatch(message);
  });

  it('replaces a credential in a repository or pin URL', () => {
    const doc = JSON.parse(
      info({
        opamSwitch: 'pinned: ["secret.1"]\nurl { src: "git+https://ghp_token123@github.com/o/secret.git#abc" }\n',
        repositories: [{ name: 'private', url: 'https://user:pass@opam.example.org/repo', sha256: 'f'.repeat(64) }],
      }),
    );
    expect(doc.opamSwitch).toContain('git+https://***@github.com/o/secret.git#abc');
    expect(doc.repositories[0].url).toBe('https://***@opam.example.org/repo');
    expect(JSON.stringify(doc)).not.toMatch(/ghp_token123|user:pass/);
  });

  it('refuses what is not JSON, and anything over the size cap unread', () => {
    expect(buildInfoProblem('{', 1, SHA)).toMatch(/not JSON/);
    expect(buildInfoProblem('[]', 2, SHA)).toMatch(/not a JSON object/);
    expect(buildInfoProblem('', BUILDINFO_MAX_BYTES + 1, SHA)).toMatch(/more than/);
  });
});
