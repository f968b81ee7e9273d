import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type DeployConfig } from '../../src/config.js';
import type { EventPayload, RunContext } from '../../src/context.js';
import {
  decideDeploy,
  folderFiles,
  folderFilesProblem,
  argsFileContent,
  argsFileName,
  checksumList,
  deployFolder,
  isSourceSha,
  latestContent,
  latestPath,
  parseLatest,
  SIZE_LIMIT_BYTES,
  SIZE_WARN_BYTES,
  sizeVerdict,
  storedImageName,
  storedSideName,
  unpackedName,
} from '../../src/deploy/plan.js';
import { testContext } from '../support/context.js';
import { FIXTURES } from '../support/harness.js';

const A = 'a'.repeat(40);

describe('paths', () => {
  it.each([
    ['hello.xen', 'bzip2', 'hello.xen.bz2'],
    ['hello.hvt', 'xz', 'hello.hvt.xz'],
    ['hello', 'gzip', 'hello.gz'],
    ['hello.virtio', 'none', 'hello.virtio'],
  ] as const)('%s with %s is stored as %s', (file, compression, stored) => {
    expect(storedImageName(file, compression)).toBe(stored);
  });

  it('lays out <target>/<sha> and <target>/latest holding the sha and a newline, as in 2013', () => {
    expect(deployFolder('xen', A)).toBe(`xen/${A}`);
    expect(latestPath('xen')).toBe('xen/latest');
    expect(latestContent(A)).toBe(`${A}\n`);
  });

  it.each([
    [`${A}\n`, A],
    [`  ${A.toUpperCase()}\r\n`, A],
    [`${'c'.repeat(64)}\n`, 'c'.repeat(64)],
    ['not a sha\n', undefined],
    ['', undefined],
    [`${A} extra`, undefined],
  ])('parseLatest(%j) is %s', (text, sha) => {
    expect(parseLatest(text)).toBe(sha);
  });

  it.each([
    [A, true],
    ['c'.repeat(64), true],
    ['latest', false],
    ['A'.repeat(40), false],
    ['a'.repeat(39), false],
  ])('isSourceSha(%s) is %s', (name, expected) => {
    expect(isSourceSha(name)).toBe(expected);
  });
});

describe('sizeVerdict', () => {
  it('names the limits as GitHub does', () => {
    expect([SIZE_WARN_BYTES, SIZE_LIMIT_BYTES]).toEqual([52_428_800, 104_857_600]);
  });
  it.each([
    // Literal byte counts, not the constants under test: GitHub's limits are 50 MiB and 100 MiB.
    [0, 'bzip2', 'ok', undefined],
    [52_428_800, 'bzip2', 'ok', undefined],
    [52_428_801, 'bzip2', 'warn', /compression: xz/],
    [104_857_600, 'gzip', 'warn', /50 MiB/],
    [104_857_601, 'bzip2', 'fail', /hard limit of 100 MiB.*compression: xz/],
    [104_857_601, 'xz', 'fail', /make the image smaller/],
  ] as const)('%d bytes with %s: %s', (size, compression, level, message) => {
    const verdict = sizeVerdict(size, compression);
    expect(verdict.level).toBe(level);
    if (message) expect(verdict.level !== 'ok' && verdict.message).toMatch(message);
  });
});

describe('names in a folder of several images', () => {
  it('stores side files under the deployed name, and boot arguments one a line', () => {
    expect(storedSideName('www.xl', 'www', 'mir-mirage.io')).toBe('mir-mirage.io.xl');
    expect(storedSideName('www.xl.in', 'www', 'mir-mirage.io')).toBe('mir-mirage.io.xl.in');
    expect(storedSideName('www_libvirt.xml', 'www', 'mir-mirage.io')).toBe('mir-mirage.io_libvirt.xml');
    expect(storedSideName('www.xl', 'www', 'www')).toBe('www.xl');
    expect(storedSideName('other.conf', 'www', 'mir-mirage.io')).toBe('mir-mirage.io.other.conf');
    expect(argsFileName('mir-mirage.io')).toBe('mir-mirage.io.args');
    expect(argsFileContent(['--ipv4=10.0.0.2/24', '--hello=a b'])).toBe('--ipv4=10.0.0.2/24\n--hello=a b\n');
    expect(argsFileContent([])).toBe('');
  });

  it('SHA256SUMS: every file by name, then the unpacked images as comment lines sha256sum -c skips', () => {
    const files = new Map([
      ['www.xen.bz2', 'b'.repeat(64)],
      ['SHA256SUMS', 'f'.repeat(64)],
      ['config.ml', 'a'.repeat(64)],
      ['raw.hvt', 'c'.repeat(64)],
    ]);
    const text = checksumList(files, [
      { file: 'www.xen.bz2', compression: 'bzip2', sha256: 'd'.repeat(64) },
      { file: 'raw.hvt', compression: 'none', sha256: 'c'.repeat(64) },
    ]);
    expect(text).toBe(
      `${'a'.repeat(64)}  config.ml\n${'c'.repeat(64)}  raw.hvt\n${'b'.repeat(64)}  www.xen.bz2\n` +
        `# unpacked: ${'d'.repeat(64)}  www.xen\n`,
    );
    expect(unpackedName('www.xen.xz', 'xz')).toBe('www.xen');
    expect(unpackedName('www.hvt', 'none')).toBe('www.hvt');
  });
});

const payload = (name: string): EventPayload =>
  JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8')) as EventPayload;

const deployConfig = (over: Partial<DeployConfig> = {}): DeployConfig => ({
  enabled: true,
  branches: [],
  repository: 'mirage/mirage-www-deployment',
  key: 'k',
  serverUrl: 'https://github.com',
  compression: 'bzip2',
  keep: 0,
  commitUserName: 'github-actions[bot]',
  commitUserEmail: 'bot@example.invalid',
  dryRun: false,
  directory: 'xen',
  bootArgs: [],
  environment: 'xen',
  deploymentRecords: true,
  hostReports: false,
  waitForHost: 0,
  ...over,
});

const context = (eventName: string, ref: string, body: EventPayload): RunContext =>
  testContext({
    eventName,
    payload: body,
    ref,
    sha: '0123456789abcdef0123456789abcdef01234567',
    workspace: '/w',
    runnerTemp: '/t',
  });

const push = payload('push-default-branch');
const dispatch = payload('workflow_dispatch');
const fork = payload('pull_request-fork');
const samePr = payload('pull_request-same-repo');
const deletedFork: EventPayload = {
  ...fork,
  pull_request: { ...fork.pull_request, head: { ref: 'x', repo: null } },
};
const noDefault: EventPayload = { ref: 'refs/heads/main', repository: { full_name: 'mirage/mirage-www' } };

type Row = [string, Partial<DeployConfig>, string, string, EventPayload, boolean, RegExp];

const table: Row[] = [
  ['push to the default branch', {}, 'push', 'refs/heads/main', push, true, /^push to main, a deploy branch$/],
  [
    'manual run on the default branch',
    {},
    'workflow_dispatch',
    'refs/heads/main',
    dispatch,
    true,
    /^manual run on main/,
  ],
  ['deploy: false', { enabled: false }, 'push', 'refs/heads/main', push, false, /^input `deploy` is false$/],
  [
    'push to another branch',
    {},
    'push',
    'refs/heads/feature/blog',
    push,
    false,
    /refs\/heads\/feature\/blog is not a deploy branch \(the default branch: main\)/,
  ],
  [
    'push to a listed branch',
    { branches: ['live', 'feature/blog'] },
    'push',
    'refs/heads/feature/blog',
    push,
    true,
    /push to feature\/blog/,
  ],
  [
    'listed branches replace the default',
    { branches: ['live'] },
    'push',
    'refs/heads/main',
    push,
    false,
    /`deploy-branches`: live/,
  ],
  [
    'a branch that only shares a prefix',
    { branches: ['main'] },
    'push',
    'refs/heads/main-old',
    push,
    false,
    /not a deploy branch/,
  ],
  ['a tag push', {}, 'push', 'refs/tags/main', push, false, /refs\/tags\/main is not a branch/],
  [
    'same-repository pull request',
    {},
    'pull_request',
    'refs/pull/42/merge',
    samePr,
    false,
    /^pull requests never deploy$/,
  ],
  ['pull request from a fork', {}, 'pull_request', 'refs/pull/42/merge', fork, false, /fork \(mallory\/mirage-www\)/],
  [
    'pull request whose fork was deleted',
    {},
    'pull_request',
    'refs/pull/42/merge',
    deletedFork,
    false,
    /from a fork that was deleted never deploys/,
  ],
  ['fork payload under another event name', {}, 'push', 'refs/heads/main', fork, false, /fork \(mallory/],
  [
    'pull request review',
    {},
    'pull_request_review',
    'refs/pull/42/merge',
    samePr,
    false,
    /^pull requests never deploy$/,
  ],
  ['a schedule', {}, 'schedule', 'refs/heads/main', push, false, /`schedule` runs never deploy/],
  ['a release', {}, 'release', 'refs/tags/v1', push, false, /`release` runs never deploy/],
  [
    'no default branch in the payload',
    {},
    'push',
    'refs/heads/main',
    noDefault,
    false,
    /list the branches in `deploy-branches`/,
  ],
  [
    'no default branch, listed branch',
    { branches: ['main'] },
    'push',
    'refs/heads/main',
    noDefault,
    true,
    /push to main/,
  ],
];

describe('decideDeploy', () => {
  it.each(table)('%s', (_name, over, event, ref, body, deploy, reason) => {
    const decision = decideDeploy(deployConfig(over), context(event, ref, body));
    expect(decision.deploy).toBe(deploy);
    expect(decision.reason).toMatch(reason);
  });

  it.each([
    ['a fork', fork],
    ['the same repository', samePr],
    ['no pull request at all', push],
  ])('refuses deploy: true under pull_request_target for a pull request from %s', (_from, body) => {
    expect(() => decideDeploy(deployConfig(), context('pull_request_target', 'refs/heads/main', body))).toThrow(
      /^input `deploy`: is `true` in a `pull_request_target` run/,
    );
  });

  it('refuses deploy: true under pull_request_target as bad input, saying why', () => {
    const run = () => decideDeploy(deployConfig(), context('pull_request_target', 'refs/heads/main', fork));
    expect(run).toThrow(ConfigError);
    try {
      run();
    } catch (error) {
      expect((error as ConfigError).problems).toHaveLength(1);
      expect((error as ConfigError).problems[0]?.input).toBe('deploy');
      expect((error as ConfigError).message).toMatch(/pull_request_target.*secrets.*fork.*`push`/s);
    }
  });

  it('lets pull_request_target through when deploy is off', () => {
    const decision = decideDeploy(
      deployConfig({ enabled: false }),
      context('pull_request_target', 'refs/heads/main', fork),
    );
    expect(decision).toEqual({ deploy: false, reason: 'input `deploy` is false' });
  });
});

describe('folderFiles and folderFilesProblem: the deploy folder, checked before any clone', () => {
  const built = {
    target: 'xen',
    name: 'hello',
    path: '/w/dist/hello.xen',
    configFile: '/w/config.ml',
    sideFiles: ['/w/dist/hello.xl', '/w/dist/hello_libvirt.xml'],
    sbom: { lockFile: '/w/l', switchExport: '/w/s', cyclonedx: '/w/c', packages: [] },
  };
  const files = (over: Partial<typeof built> = {}, deploy: Partial<DeployConfig> = {}, fromArtifact = false) =>
    folderFiles({ image: { ...built, ...over }, deploy: deployConfig(deploy), fromArtifact });

  it('lists every file a deploy writes, under its stored name', () => {
    expect(files({}, { imageName: 'www' }).map((f) => f.name)).toEqual([
      'www.xen.bz2',
      'www.args',
      'www.opam.locked',
      'www.switch-export',
      'www.cdx.json',
      'www.xl',
      'www_libvirt.xml',
      'config.ml',
      'manifest.json',
      'SHA256SUMS',
    ]);
    expect(folderFilesProblem(files())).toBeUndefined();
    expect(files({ sbom: undefined }, { compression: 'none' }).map((f) => f.name)).toEqual([
      'hello.xen',
      'hello.args',
      'hello.xl',
      'hello_libvirt.xml',
      'config.ml',
      'manifest.json',
      'SHA256SUMS',
    ]);
  });

  it.each([
    [
      'deploy-image-name `config.ml` with compression none (unix)',
      files({ target: 'unix', path: '/w/dist/hello' }, { imageName: 'config.ml', compression: 'none' }),
      /^input `deploy-image-name`: the deploy folder would hold two files named `config\.ml`, the image and the config file,/,
    ],
    [
      "a build.json whose configFile is the compressed image's name",
      files({ target: 'unix', path: '/d/hello', configFile: '/d/mirage-deploy/hello.bz2' }, {}, true),
      /^input `image-path`: the deploy folder would hold two files named `hello\.bz2`, the image and the config file,/,
    ],
    [
      'SHA256SUMS as the image name',
      files({ target: 'unix', path: '/w/dist/hello' }, { imageName: 'SHA256SUMS', compression: 'none' }),
      /^input `deploy-image-name`: .* two files named `SHA256SUMS`, the image and the folder's `SHA256SUMS`/,
    ],
    [
      'manifest.json as the image name',
      files({ target: 'unix', path: '/w/dist/hello' }, { imageName: 'manifest.json', compression: 'none' }),
      /two files named `manifest\.json`, the image and the folder's `manifest\.json`/,
    ],
    [
      'a side file named like the .args',
      files({ sideFiles: ['/w/dist/hello.args'] }),
      /two files named `hello\.args`, the boot arguments \(`\.args`\) and the side file `hello\.args`/,
    ],
    [
      'a config file named like an SBOM file',
      files({ configFile: '/w/hello.cdx.json' }),
      /two files named `hello\.cdx\.json`, the SBOM file `hello\.cdx\.json` and the config file/,
    ],
    [
      'a config file named manifest.json',
      files({ configFile: '/w/manifest.json' }),
      /^input `config-file`: the deploy folder would hold two files named `manifest\.json`, the config file and/,
    ],
    [
      'a hidden config file',
      files({ configFile: '/w/.mirage' }),
      /^input `config-file`: the config file would be stored as "\.mirage", which starts with `\.`/,
    ],
    [
      'an option-like built name',
      files({ name: '-x', path: '/w/dist/-x.xen' }),
      /^input `deploy-image-name`: the image would be stored as "-x\.xen\.bz2", which starts with `-`/,
    ],
    [
      'a built name with a space, from an artifact',
      files({ name: 'a b' }, {}, true),
      /^input `image-path`: the image would be stored as "a b\.xen\.bz2", which holds a space/,
    ],
  ])('refuses %s', (_what, list, message) => {
    expect(folderFilesProblem(list)).toMatch(message);
  });
});
