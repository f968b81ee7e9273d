import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { branchNameProblem, ConfigError, parseConfig, redactUrl, type Config } from '../src/config.js';
import type { RunContext } from '../src/context.js';
import { TARGET_NAMES } from '../src/mirage/targets.js';
import { testContext } from './support/context.js';
import { PROJECT_ROOT } from './support/harness.js';
import { parse as parseYaml } from 'yaml';

let workspace: string;
beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'config-test-'));
  writeFileSync(join(workspace, 'config.ml'), 'let () = ()\n');
  mkdirSync(join(workspace, 'unikernel'));
  writeFileSync(join(workspace, 'unikernel', 'www.ml'), 'let () = ()\n');
});

function ctx(): RunContext {
  return testContext({ workspace, runnerTemp: tmpdir() });
}

function parse(inputs: Record<string, string>): Config {
  return parseConfig((name) => inputs[name] ?? '', ctx());
}

function problems(inputs: Record<string, string>): string[] {
  try {
    parse(inputs);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('gives the documented defaults for empty inputs', () => {
    const config = parse({});
    expect(config.build.target).toBe('unix');
    expect(config.build.workingDirectory).toBe(workspace);
    expect(config.build.configFile).toBe('config.ml');
    expect(config.build.configureArgs).toEqual([]);
    expect(config.setup.ocamlCompiler).toEqual({ kind: 'version', version: '5.4.1' });
    expect(config.setup.opamRepositories).toEqual([
      { name: 'default', url: 'https://github.com/ocaml/opam-repository.git' },
    ]);
    expect(config.setup.cache).toBe(true);
    expect(config.setup.cacheRefresh).toEqual({ kind: 'weekly' });
    expect(config.deploy.enabled).toBe(false);
    expect(config.deploy.repository).toBe('mirage/mirage-www-deployment');
    expect(config.deploy.compression).toBe('bzip2');
    expect(config.deploy.keep).toBe(0);
    expect(config.deploy.serverUrl).toBe('https://github.com');
  });

  it('accepts every MirageOS target and names them all when one is wrong', () => {
    for (const target of TARGET_NAMES) expect(parse({ target }).build.target).toBe(target);
    const [message] = problems({ target: 'xenn' });
    expect(message).toBe(
      'input `target`: `xenn` is not a MirageOS target; use one of: unix, macosx, xen, qubes, hvt, spt, virtio, muen, genode, unikraft-qemu, unikraft-firecracker',
    );
  });

  it('splits configure-args like a shell, without running one', () => {
    expect(parse({ 'configure-args': `--net=socket --ipv4 '10.0.0.2/24' "a b" $HOME` }).build.configureArgs).toEqual([
      '--net=socket',
      '--ipv4',
      '10.0.0.2/24',
      'a b',
      '$HOME',
    ]);
    const [message] = problems({ 'configure-args': '--net=socket; rm -rf /' });
    expect(message).toMatch(/^input `configure-args`: `;` is shell syntax/);
    expect(problems({ 'build-command': 'make build && make test' })[0]).toMatch(/^input `build-command`: `&&`/);
  });

  it('reads the compiler as a version, a package or the system compiler', () => {
    expect(parse({ 'ocaml-compiler': '5.4' }).setup.ocamlCompiler).toEqual({ kind: 'version', version: '5.4' });
    expect(parse({ 'ocaml-compiler': 'ocaml-base-compiler.5.4.1' }).setup.ocamlCompiler).toEqual({
      kind: 'package',
      name: 'ocaml-base-compiler',
      version: '5.4.1',
    });
    expect(parse({ 'ocaml-compiler': 'ocaml-variants.5.4.1+options' }).setup.ocamlCompiler).toEqual({
      kind: 'package',
      name: 'ocaml-variants',
      version: '5.4.1+options',
    });
    expect(parse({ 'ocaml-compiler': 'ocaml-system' }).setup.ocamlCompiler).toEqual({ kind: 'system' });
    expect(problems({ 'ocaml-compiler': 'latest' })[0]).toBe(
      'input `ocaml-compiler`: `latest` is not an OCaml compiler; use a version such as `5.4` or `5.4.1`, a package such as `ocaml-base-compiler.5.4.1` or `ocaml-variants.5.4.1+options`, or `ocaml-system`',
    );
  });

  it('keeps opam repositories in the order given, the first having priority', () => {
    const config = parse({
      'opam-repositories':
        'mirage-dev: https://github.com/mirage/opam-overlays.git\ndefault: https://github.com/ocaml/opam-repository.git',
    });
    expect(config.setup.opamRepositories.map((r) => r.name)).toEqual(['mirage-dev', 'default']);
    expect(problems({ 'opam-repositories': '- a\n- b' })[0]).toMatch(/is not a YAML map of name to URL/);
    expect(problems({ 'opam-repositories': 'x: not a url' })[0]).toMatch(/the URL of `x`/);
  });

  it('reads pins as `pkg` or `pkg: url` lines', () => {
    expect(
      parse({ 'opam-pins': 'mirage-crypto\nmirage: https://github.com/mirage/mirage.git#main\n\n' }).setup.opamPins,
    ).toEqual([{ name: 'mirage-crypto' }, { name: 'mirage', url: 'https://github.com/mirage/mirage.git#main' }]);
    expect(problems({ 'opam-pins': 'foo: bar' })[0]).toMatch(/^input `opam-pins`: `foo: bar`: `bar` is not a URL/);
  });

  it('refuses booleans other than true and false, naming the choices', () => {
    expect(parse({ deploy: 'True', cache: 'FALSE' }).deploy.enabled).toBe(true);
    expect(problems({ deploy: 'yes' })[0]).toBe('input `deploy`: `yes` is not a boolean; use `true` or `false`');
    expect(problems({ 'dry-run': '1' })[0]).toMatch(/^input `dry-run`/);
  });

  it('reads cache-refresh as a period or a fixed label, naming the choices when it is neither', () => {
    for (const kind of ['daily', 'weekly', 'monthly', 'never'] as const) {
      expect(parse({ 'cache-refresh': kind }).setup.cacheRefresh).toEqual({ kind });
    }
    expect(parse({ 'cache-refresh': 'fixed:snap_2026.11' }).setup.cacheRefresh).toEqual({
      kind: 'fixed',
      label: 'snap_2026.11',
    });
    expect(problems({ 'cache-refresh': 'weekyl' })).toEqual([
      'input `cache-refresh`: `weekyl` is not a refresh period; use one of daily, weekly, monthly, never, ' +
        'or `fixed:LABEL` (letters, digits, `.`, `_`) to refresh whenever you change LABEL',
    ]);
    expect(problems({ 'cache-refresh': 'fixed:a-b' })[0]).toMatch(/^input `cache-refresh`: `fixed:a-b` is not/);
    expect(problems({ 'cache-refresh': 'fixed:' })[0]).toMatch(/^input `cache-refresh`/);
  });

  it('validates compression, keep and rollback-to', () => {
    expect(parse({ compression: 'xz', keep: '5' }).deploy).toMatchObject({ compression: 'xz', keep: 5 });
    expect(problems({ compression: 'zip' })[0]).toBe(
      'input `compression`: `zip` is not a compression; use one of: bzip2, xz, gzip, none',
    );
    expect(problems({ keep: '-1' })[0]).toMatch(/^input `keep`: `-1` is not a number/);
    expect(problems({ keep: 'all' })[0]).toMatch(/^input `keep`: `all`/);
    expect(problems({ 'rollback-to': 'abc123' })[0]).toMatch(/^input `rollback-to`: `abc123` is not a full commit sha/);
  });

  it('reads keep-history: empty keeps all history, else a whole number from 1', () => {
    expect(parse({}).deploy.keepHistory).toBeUndefined();
    expect(parse({ 'keep-history': '50' }).deploy.keepHistory).toBe(50);
    for (const bad of ['0', '-3', 'all', '1.5', '05']) {
      expect(problems({ 'keep-history': bad })).toEqual([
        `input \`keep-history\`: \`${bad}\` is not a number of commits; give a whole number from 1, such as 50, or leave it empty to keep all history`,
      ]);
    }
  });

  it('accepts owner/name and full git URLs for the deployment repository', () => {
    for (const repository of [
      'mirage/mirage-www-deployment',
      'ssh://git@127.0.0.1:2222/srv/deploy.git',
      'git@github.com:mirage/mirage-www-deployment.git',
      'https://github.example.com/mirage/deploy.git',
    ]) {
      expect(parse({ 'deploy-repository': repository }).deploy.repository).toBe(repository);
    }
    expect(problems({ 'deploy-repository': 'just-a-name' })[0]).toMatch(
      /^input `deploy-repository`: `just-a-name` is neither/,
    );
  });

  it('wants one secret, not two', () => {
    expect(problems({ 'deploy-key': 'k', 'deploy-token': 't' })[0]).toMatch(/^input `deploy-token`: is set together/);
  });

  it('splits deploy branches on commas and newlines', () => {
    expect(parse({ 'deploy-branches': 'main, release\nrefs/heads/prod' }).deploy.branches).toEqual([
      'main',
      'release',
      'prod',
    ]);
  });

  it('names the folder it looked in when the config file is missing', () => {
    expect(problems({ 'working-directory': 'unikernel' })[0]).toBe(
      `input \`config-file\`: \`config.ml\` was not found in ${join(workspace, 'unikernel')}; check \`working-directory\` and \`config-file\` (did the workflow run actions/checkout first?)`,
    );
    expect(parse({ 'working-directory': 'unikernel', 'config-file': 'www.ml' }).build.configFile).toBe('www.ml');
    expect(problems({ 'working-directory': 'nope' })[0]).toMatch(/^input `working-directory`: `nope` is not a folder/);
  });

  it('needs no sources for a rollback', () => {
    const config = parse({ 'working-directory': 'nope', 'rollback-to': 'b'.repeat(40) });
    expect(config.deploy.rollbackTo).toBe('b'.repeat(40));
  });

  it("deploys into the target's folder under the built name, with no boot arguments, by default", () => {
    const { deploy } = parse({ target: 'xen' });
    expect(deploy.directory).toBe('xen');
    expect(deploy.imageName).toBeUndefined();
    expect(deploy.bootArgs).toEqual([]);
    expect(deploy.githubToken).toBeUndefined();
    expect(deploy.environment).toBe('xen');
  });

  it('reads deploy-directory, deploy-image-name, boot-args and environment', () => {
    const { deploy } = parse({
      target: 'xen',
      'deploy-directory': 'xen-staging/eu',
      'deploy-image-name': 'mir-openmirage.org',
      'boot-args': `--ipv4=46.43.42.147/25 --ipv4-gateway=46.43.42.129 --hello='a b'`,
      'github-token': 'ghs_x',
      environment: 'production',
    });
    expect(deploy.directory).toBe('xen-staging/eu');
    expect(deploy.imageName).toBe('mir-openmirage.org');
    expect(deploy.bootArgs).toEqual(['--ipv4=46.43.42.147/25', '--ipv4-gateway=46.43.42.129', '--hello=a b']);
    expect(deploy.githubToken).toBe('ghs_x');
    expect(deploy.environment).toBe('production');
    expect(parse({ 'deploy-directory': 'hvt-eu' }).deploy.environment).toBe('hvt-eu');
  });

  it.each([
    ['..', /`\.\.` is not a folder/],
    ['xen/../etc', /`\.` and `\.\.` are not folder names/],
    ['.git', /`\.git` is git's own folder/],
    ['xen/.GIT', /`\.git` is git's own folder/],
    ['latest', /`latest` is the file/],
    ['xen/' + 'a'.repeat(40), /shaped like a commit sha/],
    ['-xen', /not starting with `-`/],
    ['/xen', /use letters/],
    ['xen/', /use letters/],
    ['xen//eu', /use letters/],
    ['x en', /use letters/],
  ])('refuses deploy-directory %s, naming the input', (directory, why) => {
    const [message] = problems({ 'deploy-directory': directory });
    expect(message).toMatch(
      new RegExp(
        `^input \`deploy-directory\`: \`${directory.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\` is not a folder`,
      ),
    );
    expect(message).toMatch(why);
  });

  it.each([['mir/www'], ['..'], ['latest'], ['b'.repeat(40)], ['-x'], ['a b'], ['.git']])(
    'refuses deploy-image-name %s, naming the input',
    (name) => {
      expect(problems({ 'deploy-image-name': name })[0]).toMatch(/^input `deploy-image-name`: .* is not an image name/);
    },
  );

  it('refuses boot-args with shell syntax or a line break', () => {
    expect(problems({ 'boot-args': '--ipv4=1.2.3.4/24; reboot' })[0]).toMatch(
      /^input `boot-args`: `;` is shell syntax/,
    );
    expect(problems({ 'boot-args': `'a\nb'` })[0]).toMatch(/^input `boot-args`: an argument holds a line break/);
  });

  it('reports every bad input at once', () => {
    expect(problems({ target: 'x', compression: 'y', keep: 'z' })).toHaveLength(3);
  });

  it('takes deploy-repository-branch as git does: refs/heads/X is X, and what git refuses is refused', () => {
    expect(parse({ 'deploy-repository-branch': 'refs/heads/main' }).deploy.repositoryBranch).toBe('main');
    expect(parse({ 'deploy-repository-branch': 'deploy/xen-1.2' }).deploy.repositoryBranch).toBe('deploy/xen-1.2');
    for (const bad of [
      '--',
      '--force',
      'HEAD',
      '-x',
      'a..b',
      'a b',
      'x.lock',
      'a/.b',
      'a//b',
      'a/',
      'a.',
      '@',
      'x@{1}',
      'a:b',
      'a~1',
      'refs/heads/--force',
    ]) {
      expect(problems({ 'deploy-repository-branch': bad })[0]).toMatch(
        new RegExp(
          `^input \`deploy-repository-branch\`: \`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\` is not a branch name git accepts`,
        ),
      );
    }
  });

  it('agrees with `git check-ref-format --branch` on names of every kind', () => {
    const names = [
      'main',
      'gh-pages',
      'a/b/c',
      'v1.0',
      'ü',
      '--',
      '-a',
      'HEAD',
      'head',
      '@{-1}',
      'a@{b',
      'a@b',
      'a..b',
      'a.',
      '.a',
      'a/.b',
      'a.lock',
      'a.lock/b',
      'a/',
      '/a',
      'a//b',
      'a b',
      'a\tb',
      'a~',
      'a^',
      'a:b',
      'a?',
      'a*',
      'a[b',
      'a\\b',
      'a\x7f',
      'refs/heads/x',
    ];
    for (const name of names) {
      const git = spawnSync('git', ['check-ref-format', '--branch', name], { encoding: 'utf8', cwd: workspace });
      expect({ name, ok: branchNameProblem(name) === undefined }).toEqual({ name, ok: git.status === 0 });
    }
  });

  it('refuses a newline in build-command, keeps it as whitespace in configure-args', () => {
    expect(problems({ 'build-command': 'make build\ntouch /tmp/x' })[0]).toMatch(
      /^input `build-command`: holds more than one line/,
    );
    expect(parse({ 'build-command': 'make build' }).build.buildCommand).toEqual(['make', 'build']);
    expect(parse({ 'configure-args': '--net=host\n--dhcp=true\n' }).build.configureArgs).toEqual([
      '--net=host',
      '--dhcp=true',
    ]);
  });

  it('refuses git remote-helper transports (ext::, fd::) in opam-repositories and opam-pins', () => {
    expect(problems({ 'opam-repositories': 'evil: "git+ext::sh -c touch% /tmp/pwned"' })[0]).toMatch(
      /^input `opam-repositories`: the URL of `evil` .* uses a git remote-helper transport/,
    );
    expect(problems({ 'opam-repositories': 'evil: ext::sh' })[0]).toMatch(/remote-helper transport/);
    expect(problems({ 'opam-pins': 'foo: git+ext::sh -c id' })[0]).toMatch(
      /^input `opam-pins`: the URL of `foo` .* uses a git remote-helper transport/,
    );
    expect(problems({ 'opam-pins': 'foo: git+fd::3' })[0]).toMatch(/remote-helper transport/);
    expect(parse({ 'opam-pins': 'foo: git+https://example.invalid/foo.git#main' }).setup.opamPins).toEqual([
      { name: 'foo', url: 'git+https://example.invalid/foo.git#main' },
    ]);
  });

  it('refuses a working-directory or config-file that resolves outside the workspace; an absolute path inside it is fine', () => {
    const outside = mkdtempSync(join(tmpdir(), 'config-outside-'));
    writeFileSync(join(outside, 'config.ml'), 'let () = ()\n');
    expect(problems({ 'working-directory': outside })[0]).toMatch(
      /^input `working-directory`: `.*` resolves to .*, outside the workspace/,
    );
    expect(problems({ 'working-directory': '/etc', 'config-file': 'hostname' })[0]).toMatch(
      /^input `working-directory`: `\/etc` resolves to \/etc, outside the workspace/,
    );
    expect(problems({ 'working-directory': `../${join(outside).split('/').pop()}` })[0]).toMatch(
      /outside the workspace/,
    );
    symlinkSync(outside, join(workspace, 'linked'));
    expect(problems({ 'working-directory': 'linked' })[0]).toMatch(
      /^input `working-directory`: .*outside the workspace/,
    );
    symlinkSync(join(outside, 'config.ml'), join(workspace, 'unikernel', 'linked.ml'));
    expect(problems({ 'working-directory': 'unikernel', 'config-file': 'linked.ml' })[0]).toMatch(
      /^input `config-file`: `linked.ml` resolves to .*, outside/,
    );
    expect(problems({ 'working-directory': 'unikernel', 'config-file': '../config.ml' })[0]).toMatch(
      /^input `config-file`: `..\/config.ml` resolves to .*, outside/,
    );
    expect(
      parse({ 'working-directory': join(workspace, 'unikernel'), 'config-file': 'www.ml' }).build.workingDirectory,
    ).toBe(join(workspace, 'unikernel'));
  });

  it('redacts URL user information wherever a URL is echoed', () => {
    expect(redactUrl('to https://x-access-token:ghp_secret@github.com/o/r.git')).toBe(
      'to https://***@github.com/o/r.git',
    );
    expect(redactUrl('https://ghp_secret@github.com/o/r.git')).toBe('https://***@github.com/o/r.git');
    expect(redactUrl('ssh://git@host:22/r.git and ssh://u:pw@host/r.git')).toBe(
      'ssh://git@host:22/r.git and ssh://***@host/r.git',
    );
    expect(redactUrl('git@github.com:o/r.git')).toBe('git@github.com:o/r.git');
    expect(problems({ 'opam-pins': 'foo: https://user:hunter2@host/x y' }).join('\n')).not.toContain('hunter2');
  });
});

describe('image-path', () => {
  it('takes a folder or a file relative to the workspace, and needs no config file then', () => {
    mkdirSync(join(workspace, 'artifact'), { recursive: true });
    writeFileSync(join(workspace, 'artifact', 'hello.xen'), 'image');
    const folder = parse({ 'image-path': 'artifact', 'working-directory': 'nowhere' }).build.prebuilt;
    expect(folder).toEqual({ path: join(workspace, 'artifact'), isFolder: true });
    expect(parse({ 'image-path': 'artifact/hello.xen' }).build.prebuilt).toEqual({
      path: join(workspace, 'artifact', 'hello.xen'),
      isFolder: false,
    });
  });

  it('refuses a path that is not there', () => {
    expect(problems({ 'image-path': 'missing' })[0]).toMatch(/^input `image-path`: `missing` does not exist/);
  });

  it('gives way to rollback-to, so that one deploy job serves both (the README example)', () => {
    const config = parse({ 'image-path': 'missing', 'rollback-to': 'a'.repeat(40) });
    expect(config.build.prebuilt).toBeUndefined();
    expect(config.deploy.rollbackTo).toBe('a'.repeat(40));
  });
});

describe('attestation-bundle', () => {
  it('takes a file relative to the workspace with image-path', () => {
    mkdirSync(join(workspace, 'artifact'), { recursive: true });
    writeFileSync(join(workspace, 'artifact', 'attestation.json'), '{}');
    const config = parse({ 'image-path': 'artifact', 'attestation-bundle': 'artifact/attestation.json' });
    expect(config.build.attestationBundle).toBe(join(workspace, 'artifact', 'attestation.json'));
    expect(parse({}).build.attestationBundle).toBeUndefined();
  });

  it('is refused in a job that builds, naming the two-job pattern, and when the file is not there', () => {
    writeFileSync(join(workspace, 'bundle.json'), '{}');
    expect(problems({ 'attestation-bundle': 'bundle.json' })).toEqual([
      expect.stringMatching(/^input `attestation-bundle`: works only in the two-job pattern, with `image-path`/),
    ]);
    mkdirSync(join(workspace, 'artifact'), { recursive: true });
    expect(problems({ 'image-path': 'artifact', 'attestation-bundle': 'artifact/none.json' })).toEqual([
      expect.stringMatching(/^input `attestation-bundle`: `artifact\/none.json` does not exist/),
    ]);
  });

  it('gives way to rollback-to with image-path, so that one deploy job serves both', () => {
    const config = parse({
      'image-path': 'missing',
      'attestation-bundle': 'missing.json',
      'rollback-to': 'a'.repeat(40),
    });
    expect(config.build.attestationBundle).toBeUndefined();
  });
});

describe('dependency-graph', () => {
  it('is off by default, and needs github-token when true', () => {
    expect(parse({}).deploy.dependencyGraph).toBe(false);
    expect(parse({ 'dependency-graph': 'true', 'github-token': 'ghs_x' }).deploy.dependencyGraph).toBe(true);
    expect(problems({ 'dependency-graph': 'true' })).toEqual([
      expect.stringMatching(/^input `dependency-graph`: is `true`, but `github-token` is empty: .*`contents: write`/),
    ]);
    expect(problems({ 'dependency-graph': 'yes' })[0]).toMatch(/^input `dependency-graph`: `yes` is not a boolean/);
  });
});

describe('defaults', () => {
  it("are the same in config.ts as in action.yml: empty inputs parse like the runner's defaults", () => {
    const actionYml = parseYaml(readFileSync(join(PROJECT_ROOT, 'action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string }>;
    };
    const defaults = Object.fromEntries(
      Object.entries(actionYml.inputs).map(([name, input]) => [name, String(input.default ?? '')]),
    );
    expect(Object.keys(defaults).length).toBeGreaterThan(30);
    expect(parse(defaults)).toEqual(parse({}));
  });
});

describe('reproducible', () => {
  it('is off by default, and takes check and strict', () => {
    expect(parse({}).build.reproducible).toBe('off');
    expect(parse({ reproducible: 'check' }).build.reproducible).toBe('check');
    expect(parse({ reproducible: 'strict' }).build.reproducible).toBe('strict');
  });

  it('refuses another value, and a check where nothing is built', () => {
    expect(problems({ reproducible: 'yes' })).toEqual([
      'input `reproducible`: `yes` is not a reproducibility check; use one of: off, check, strict',
    ]);
    mkdirSync(join(workspace, 'artifact'), { recursive: true });
    expect(problems({ reproducible: 'strict', 'image-path': 'artifact' })).toEqual([
      'input `reproducible`: is `strict` together with `image-path`, which builds nothing; set it in the job that builds',
    ]);
  });
});

describe('names and inputs that used to be accepted with a bad effect (issue 26)', () => {
  it.each([
    ['.mirage', /starts with `\.`/],
    ['-x', /starts with `-`/],
    ['a b', /holds a space/],
    ['a\tb', /holds a space or a control character/],
    ['mir/www', /holds a character other than/],
    ['latest', /`latest` is the file/],
  ])('refuses deploy-image-name %j by the host plain-name rule, saying what to give', (name, why) => {
    const [message] = problems({ 'deploy-image-name': name });
    expect(message).toMatch(/^input `deploy-image-name`: .* is not an image name: /);
    expect(message).toMatch(why);
    expect(message).toMatch(/give one name of letters, digits/);
  });

  it.each(['mir-mirage.io', '_x', 'hello', 'a.b-c_d'])('takes deploy-image-name %j', (name) => {
    expect(parse({ 'deploy-image-name': name }).deploy.imageName).toBe(name);
  });

  it.each([
    [`--a='unterminated`, /opens a `'` quote it never closes/],
    ['--a="x', /opens a `"` quote it never closes/],
    [`--a="it's"  --b='x`, /opens a `'` quote/],
    ['--a=x\\', /ends with a `\\` that escapes nothing/],
  ])('refuses boot-args %j that are not complete shell words', (value, why) => {
    const [message] = problems({ 'boot-args': value });
    expect(message).toMatch(/^input `boot-args`: .* so it does not split into arguments; close the quote/);
    expect(message).toMatch(why);
  });

  it('takes boot-args with balanced quotes and escapes as the shell splits them', () => {
    expect(parse({ 'boot-args': `--a='x y' --b="it's" --c=\\' --d="a\\"b"` }).deploy.bootArgs).toEqual([
      '--a=x y',
      "--b=it's",
      "--c='",
      '--d=a"b',
    ]);
  });

  it('refuses an unfinished quote in configure-args and build-command too', () => {
    expect(problems({ 'configure-args': `--x='a` })[0]).toMatch(/^input `configure-args`: .* never closes/);
    expect(problems({ 'build-command': 'make "build' })[0]).toMatch(/^input `build-command`: .* never closes/);
  });

  it.each([
    ['a carriage return between arguments', '--a=1\r--b=2'],
    ['a carriage return inside quotes', `'a\rb'`],
    ['a Windows line ending', '--a=1\r\n--b=2'],
  ])('refuses boot-args holding %s like a newline', (_what, value) => {
    expect(problems({ 'boot-args': value })[0]).toMatch(/^input `boot-args`: holds a carriage return/);
  });

  it.each([
    ['deploy-repository-branch', 'refs/tags/v1', 'refs/heads/refs/tags/v1'],
    ['deploy-repository-branch', 'refs/heads/refs/heads/x', 'refs/heads/refs/heads/x'],
    ['deploy-repository-branch', 'refs/remotes/origin/main', 'refs/heads/refs/remotes/origin/main'],
    ['deploy-branches', 'refs/tags/v1', 'refs/heads/refs/tags/v1'],
    ['deploy-branches', 'main, refs/heads/refs/heads/x', 'refs/heads/refs/heads/x'],
  ])('refuses %s %j, a full ref that is not refs/heads/<name>', (input, value, made) => {
    const [message] = problems({ [input]: value });
    expect(message).toContain(`input \`${input}\`: `);
    expect(message).toContain(`is a full ref but not a branch's (git would make a branch named \`${made}\`)`);
  });

  it('takes branch names and refs/heads/<name> in both branch inputs', () => {
    const { deploy } = parse({
      'deploy-repository-branch': 'refs/heads/deploy',
      'deploy-branches': 'main, refs/heads/v1',
    });
    expect(deploy.repositoryBranch).toBe('deploy');
    expect(deploy.branches).toEqual(['main', 'v1']);
    expect(problems({ 'deploy-branches': 'main,--force' })[0]).toMatch(
      /^input `deploy-branches`: `--force` is not a branch name git accepts/,
    );
  });

  it.each([
    ['a newline', 'prod\nstaging', /holds a line break or another control character/],
    ['a tab', 'prod\tx', /control character/],
    ['3000 characters', 'e'.repeat(3000), /is 3000 characters long; GitHub takes an environment name of at most 255/],
  ])('refuses environment with %s', (_what, value, why) => {
    const [message] = problems({ environment: value });
    expect(message).toMatch(/^input `environment`: /);
    expect(message).toMatch(why);
  });

  it('takes an environment of 255 characters, spaces inside, and trims it like every input', () => {
    expect(parse({ environment: 'e'.repeat(255) }).deploy.environment).toHaveLength(255);
    expect(parse({ environment: ' EU production ' }).deploy.environment).toBe('EU production');
  });

  it.each([
    ['a space', 'not a token', /holds a space, a line break or a character outside printable ASCII/],
    ['a newline', 'ghs_a\nb', /holds a space, a line break/],
    ['a non-ASCII letter', 'ghs_ä', /outside printable ASCII/],
    ['3000 characters', 'g'.repeat(3000), /is 3000 characters long, but a token has at most 255/],
  ])('refuses github-token with %s, never echoing it', (_what, value, why) => {
    const [message] = problems({ 'github-token': value });
    expect(message).toMatch(/^input `github-token`: /);
    expect(message).toMatch(why);
    expect(message).not.toContain(value);
  });

  it.each(['ghs_x', 'g'.repeat(255), '0123456789abcdef0123456789abcdef01234567', 'v1.a-b_c~'])(
    'takes github-token %j with no prefix required',
    (token) => {
      expect(parse({ 'github-token': token }).deploy.githubToken).toBe(token);
    },
  );
});

describe('deployment-records, host-reports, wait-for-host', () => {
  const token = { 'github-token': 'ghs_x', deploy: 'true' };

  it('records on, no host reports and no waiting by default', () => {
    expect(parse({}).deploy).toMatchObject({ deploymentRecords: true, hostReports: false, waitForHost: 0 });
    expect(parse({ ...token, 'deployment-records': 'false' }).deploy.deploymentRecords).toBe(false);
  });

  it('wait-for-host implies host-reports', () => {
    expect(parse({ ...token, 'wait-for-host': '240' }).deploy).toMatchObject({ hostReports: true, waitForHost: 240 });
    expect(parse({ ...token, 'host-reports': 'true' }).deploy).toMatchObject({ hostReports: true, waitForHost: 0 });
  });

  it.each([
    [{ deploy: 'true', 'wait-for-host': '240' }, /^input `wait-for-host`: needs `github-token`/],
    [{ deploy: 'true', 'host-reports': 'true' }, /^input `host-reports`: needs `github-token`/],
    [{ 'github-token': 'ghs_x', 'wait-for-host': '240' }, /^input `wait-for-host`: needs `deploy: true`/],
    [
      { ...token, 'deployment-records': 'false', 'wait-for-host': '60' },
      /^input `wait-for-host`: needs `deployment-records: true`/,
    ],
    [
      { ...token, 'deployment-records': 'false', 'host-reports': 'true' },
      /^input `host-reports`: needs `deployment-records: true`/,
    ],
    [{ ...token, 'wait-for-host': '4 minutes' }, /^input `wait-for-host`: `4 minutes` is not a number of seconds/],
  ])('refuses %j', (inputs, why) => {
    expect(problems(inputs).join('\n')).toMatch(why);
  });
});

describe('the build sandbox inputs', () => {
  it('records which secret inputs the job holds, from the one list of secrets', () => {
    expect(parse({}).sandbox.secretsHeld).toEqual([]);
    expect(parse({ 'deploy-token': 'github_pat_x', 'github-token': 'ghs_y' }).sandbox.secretsHeld).toEqual([
      'deploy-token',
      'github-token',
    ]);
  });

  it('reads allow-unsandboxed-build and build-ssh-agent, off by default', () => {
    expect(parse({}).sandbox).toMatchObject({ allowUnsandboxed: false, sshAgent: false });
    expect(parse({ 'allow-unsandboxed-build': 'true', 'build-ssh-agent': 'true' }).sandbox).toMatchObject({
      allowUnsandboxed: true,
      sshAgent: true,
    });
    expect(problems({ 'allow-unsandboxed-build': 'yes' })).toEqual([
      expect.stringContaining('input `allow-unsandboxed-build`'),
    ]);
  });
});

describe('boot-test', () => {
  it('is auto with boot-args and 10 s by default, off by default in a deploy-only job', () => {
    expect(parse({ 'boot-args': '--hello=hi' }).bootTest).toEqual({
      mode: 'auto',
      args: ['--hello=hi'],
      timeoutSeconds: 10,
    });
    mkdirSync(join(workspace, 'boot-artifact'), { recursive: true });
    expect(parse({ 'image-path': 'boot-artifact' }).bootTest.mode).toBe('off');
    expect(parse({ 'image-path': 'boot-artifact', 'boot-test': 'required' }).bootTest.mode).toBe('required');
  });

  it('takes its own arguments, timeout, expected text and tender (relative to the workspace)', () => {
    writeFileSync(join(workspace, 'solo5-spt'), '');
    const config = parse({
      'boot-args': '--a=1',
      'boot-test-args': '--b=2 --c=3',
      'boot-test-timeout': '30',
      'boot-test-expect': 'ready on \\S+',
      'boot-test-tender': 'solo5-spt',
    });
    expect(config.bootTest).toEqual({
      mode: 'auto',
      args: ['--b=2', '--c=3'],
      timeoutSeconds: 30,
      expect: 'ready on \\S+',
      tender: join(workspace, 'solo5-spt'),
    });
  });

  it('refuses a bad mode, timeout, regular expression or tender, naming each', () => {
    expect(
      problems({
        'boot-test': 'yes',
        'boot-test-timeout': '0',
        'boot-test-expect': 'ready (',
        'boot-test-tender': 'no-such-tender',
      }),
    ).toEqual([
      'input `boot-test`: `yes` is not a boot test mode; use one of: auto, off, required',
      'input `boot-test-timeout`: `0` is not a number of seconds from 1 to 3600; the default is 10',
      expect.stringMatching(/^input `boot-test-expect`: `ready \(` is not a regular expression \(.*\); escape it$/),
      'input `boot-test-tender`: `no-such-tender` is not a file; give the path of solo5-spt or solo5-hvt (as `opam install solo5` installs it)',
    ]);
    expect(problems({ 'boot-test-timeout': '10s' })).toEqual([
      'input `boot-test-timeout`: `10s` is not a number of seconds from 1 to 3600; the default is 10',
    ]);
  });
});

describe('promote-from', () => {
  const SHA = 'b'.repeat(40);
  it('copies into deploy-directory; promote-sha is latest, a sha, or by default the run`s commit; builds nothing', () => {
    const config = parse({ 'promote-from': 'staging', 'deploy-directory': 'prod', 'working-directory': 'nowhere' });
    expect(config.deploy.promote).toEqual({ from: 'staging', sha: ctx().sha, newBootArgs: false });
    expect(
      parse({ 'promote-from': 'staging', 'deploy-directory': 'prod', 'promote-sha': 'latest' }).deploy.promote?.sha,
    ).toBe('latest');
    expect(
      parse({ 'promote-from': 'staging', 'deploy-directory': 'prod', 'promote-sha': SHA.toUpperCase() }).deploy.promote
        ?.sha,
    ).toBe(SHA);
    expect(
      parse({ 'promote-from': 'staging', 'deploy-directory': 'prod', 'boot-args': '--ipv4=192.0.2.7/24' }).deploy
        .promote?.newBootArgs,
    ).toBe(true);
    expect(parse({}).deploy.promote).toBeUndefined();
  });

  it.each([
    [
      { 'promote-from': 'staging' },
      'input `promote-from`: needs `deploy-directory`, the folder to promote `staging` to (such as `prod`), other than `staging`',
    ],
    [{ 'promote-from': 'staging', 'deploy-directory': 'staging' }, 'input `promote-from`: needs `deploy-directory`'],
    [
      { 'promote-from': 'staging', 'deploy-directory': 'prod', 'rollback-to': SHA },
      'input `promote-from`: cannot be used with `rollback-to`',
    ],
    [
      { 'promote-from': 'staging', 'deploy-directory': 'prod', 'image-path': 'artifact' },
      'input `promote-from`: cannot be used with `image-path`',
    ],
    [
      { 'promote-from': '../x', 'deploy-directory': 'prod' },
      'input `promote-from`: `../x` is not a folder of the deployment repository',
    ],
    [
      { 'promote-from': 'staging', 'deploy-directory': 'prod', 'promote-sha': 'abc' },
      'input `promote-sha`: `abc` is not `latest` or a full commit sha',
    ],
    [{ 'promote-sha': 'latest' }, 'input `promote-sha`: is only read with `promote-from`'],
  ])('refuses %o', (inputs, message) => {
    expect(problems(inputs).some((p) => p.startsWith(message))).toBe(true);
  });
});

describe('rebuild', () => {
  const SHA = 'c'.repeat(40);
  it.each([
    [`unix/${SHA}`, { directory: 'unix', sha: SHA }],
    [`unix/${SHA.toUpperCase()}`, { directory: 'unix', sha: SHA }],
    ['xen-staging/eu/latest', { directory: 'xen-staging/eu', sha: 'latest' }],
    [`unix/${'d'.repeat(64)}`, { directory: 'unix', sha: 'd'.repeat(64) }],
  ])('reads %s as a folder and a commit, turning the cache off', (given, expected) => {
    const config = parse({ rebuild: given });
    expect(config.rebuild).toEqual(expected);
    expect(config.setup.cache).toBe(false);
  });

  it('is absent by default, and the cache stays on', () => {
    expect(parse({}).rebuild).toBeUndefined();
    expect(parse({}).setup.cache).toBe(true);
  });

  it.each([
    [
      { rebuild: SHA },
      `input \`rebuild\`: \`${SHA}\` is not \`<directory>/<sha>\` or \`<directory>/latest\`: it has no \`/\``,
    ],
    [
      { rebuild: 'unix/abc' },
      'input `rebuild`: `unix/abc` is not `<directory>/<sha>` or `<directory>/latest`: `abc` is not `latest` or a full commit sha',
    ],
    [{ rebuild: `../unix/${SHA}` }, `input \`rebuild\`: \`../unix/${SHA}\` is not \`<directory>/<sha>\``],
    [
      { rebuild: `/${SHA}` },
      `input \`rebuild\`: \`/${SHA}\` is not \`<directory>/<sha>\` or \`<directory>/latest\`: it has no \`/\``,
    ],
    [
      { rebuild: 'unix/latest', 'rollback-to': SHA },
      'input `rebuild`: cannot be used with `rollback-to`: a rollback builds nothing',
    ],
    [{ rebuild: 'unix/latest', 'image-path': 'dist' }, 'input `rebuild`: cannot be used with `image-path`'],
    [
      { rebuild: 'unix/latest', 'promote-from': 'staging', 'deploy-directory': 'prod' },
      'input `rebuild`: cannot be used with `promote-from`',
    ],
    [{ rebuild: 'unix/latest', deploy: 'true' }, 'input `rebuild`: deploys nothing, but `deploy` is `true`'],
    [
      { rebuild: 'unix/latest', target: 'hvt', 'deploy-to': 'albatross' },
      'input `rebuild`: deploys nothing, to albatross neither; remove `deploy-to`',
    ],
  ])('refuses %o', (inputs, message) => {
    expect(problems(inputs).some((p) => p.startsWith(message))).toBe(true);
  });
});
