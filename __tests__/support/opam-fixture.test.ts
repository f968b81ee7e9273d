// Proves the offline opam fixture works for real: a fresh OPAMROOT (with the
// bubblewrap sandbox opam sets up by default) initialised from the
// materialized repository, a switch on the Debian system compiler, the
// stand-in `mirage` + `opam-monorepo` installed by opam, and the bundled
// example unikernel configured, locked, pulled and built for every target.
// Only local files and processes: no network.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOpamRepository, systemOcamlVersion } from './opam-repo.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = path.join(ROOT, 'example', 'hello');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let work = '';
let env: NodeJS.ProcessEnv = {};

function run(cmd: string, args: string[], cwd = work): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Run inside the switch's environment, as the action does. */
const inSwitch = (args: string[], cwd: string) => run('opam', ['exec', '--', ...args], cwd);

function ok(r: Result, what: string): Result {
  if (r.code !== 0)
    throw new Error(`${what} failed (exit ${r.code})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

async function copyExample(name: string): Promise<string> {
  const dir = path.join(work, 'unikernels', name);
  await cp(EXAMPLE, dir, { recursive: true });
  return dir;
}

const TARGETS: { target: string; image: string; family: 'unix' | 'solo5' | 'xen' | 'unikraft' }[] = [
  { target: 'unix', image: 'hello', family: 'unix' },
  { target: 'macosx', image: 'hello', family: 'unix' },
  { target: 'xen', image: 'hello.xen', family: 'xen' },
  { target: 'qubes', image: 'hello.xen', family: 'xen' },
  { target: 'hvt', image: 'hello.hvt', family: 'solo5' },
  { target: 'spt', image: 'hello.spt', family: 'solo5' },
  { target: 'virtio', image: 'hello.virtio', family: 'solo5' },
  { target: 'muen', image: 'hello.muen', family: 'solo5' },
  { target: 'genode', image: 'hello.genode', family: 'solo5' },
  { target: 'unikraft-qemu', image: 'hello.qemu', family: 'unikraft' },
  { target: 'unikraft-firecracker', image: 'hello.fc', family: 'unikraft' },
];

function expectedConfigureFiles(target: string, family: string): string[] {
  const files = [
    'Makefile',
    'config.ml',
    'dist/dune',
    'dune',
    'dune-project',
    'dune-workspace',
    'dune.build',
    'dune.config',
    'mirage/context',
    'mirage/dune-workspace.config',
    `mirage/hello-${target}.opam`,
    'mirage/main.ml',
    'unikernel.ml',
  ];
  if (family === 'solo5' || family === 'xen') files.push('manifest.json', 'manifest.ml');
  if (target === 'xen') files.push('mirage/hello.xl', 'mirage/hello.xl.in', 'mirage/hello_libvirt.xml');
  if (target === 'virtio') files.push('mirage/hello_libvirt.xml');
  return files.sort();
}

const timings: Record<string, number> = {};

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'opam-fixture-'));
  const repo = await makeOpamRepository(path.join(work, 'repo'));
  expect(repo.url).toBe(`file://${path.join(work, 'repo')}`);
  env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('OPAM') || k === 'CAML_LD_LIBRARY_PATH') delete env[k];
  Object.assign(env, {
    OPAMROOT: path.join(work, 'root'),
    OPAMSWITCH: 'fixture',
    OPAMYES: '1',
    OPAMROOTISOK: '1',
    OPAMCOLOR: 'never',
    OPAMCONFIRMLEVEL: 'unsafe-yes',
  });
  let t = Date.now();
  ok(await run('opam', ['init', '--bare', '-n', 'fixture', repo.url]), 'opam init');
  timings.init = Date.now() - t;
  t = Date.now();
  ok(await run('opam', ['switch', 'create', 'fixture', 'ocaml-system']), 'opam switch create');
  timings.switch = Date.now() - t;
  t = Date.now();
  ok(await run('opam', ['install', 'mirage', 'opam-monorepo']), 'opam install mirage opam-monorepo');
  timings.install = Date.now() - t;
  console.log(`opam init ${timings.init} ms, switch create ${timings.switch} ms, install ${timings.install} ms`);
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('offline opam repository fixture', () => {
  it('builds with the opam sandbox on and exposes the system compiler', async () => {
    const config = await readFile(path.join(work, 'root', 'config'), 'utf8');
    expect(config).toMatch(/wrap-build-commands:[\s\S]*sandbox\.sh/);
    expect((await run('opam', ['switch', 'list', '--short'])).stdout.split('\n')).toContain('fixture');
    expect(ok(await run('opam', ['var', 'ocaml:compiler']), 'opam var').stdout.trim()).toBe('system');
    expect(ok(await run('opam', ['var', 'ocaml:native']), 'opam var').stdout.trim()).toBe('true');
    const installed = ok(await run('opam', ['list', '--installed', '--short', '--columns=package']), 'opam list');
    const v = await systemOcamlVersion();
    for (const p of [
      `ocaml-system.${v}`,
      `ocaml.${v}`,
      'base-unix.base',
      'mirage.4.11.1+stand-in',
      'opam-monorepo.0.4.1+stand-in',
    ])
      expect(installed.stdout.split('\n')).toContain(p);
    expect(ok(await inSwitch(['mirage', '--version'], work), 'mirage --version').stdout.trim()).toBe('4.11.1+stand-in');
  });

  it('has ocaml-system for the installed compiler only, and the virtual ocaml for it', async () => {
    const repo = path.join(work, 'repo', 'packages');
    expect(await readdir(path.join(repo, 'ocaml-system'))).toEqual([`ocaml-system.${await systemOcamlVersion()}`]);
    // Ubuntu 24.04's compiler, which the fixture has no virtual package for: both are generated.
    const ubuntu = path.join(work, 'repo-4.14.1');
    await makeOpamRepository(ubuntu, { ocamlVersion: '4.14.1' });
    const system = await readFile(path.join(ubuntu, 'packages/ocaml-system/ocaml-system.4.14.1/opam'), 'utf8');
    expect(system).toContain('available: sys-ocaml-version = "4.14.1"');
    expect(system).toContain('"ocaml" {= "4.14.1" & post}');
    expect(system).toMatch(/extra-files: \[\n {2}\["gen_ocaml_config\.ml\.in" "sha256=[0-9a-f]{64}"\]/);
    const virtual = await readFile(path.join(ubuntu, 'packages/ocaml/ocaml.4.14.1/opam'), 'utf8');
    expect(virtual).toContain('"ocaml-system" {>= "4.14.1" & < "4.14.2~"}');
    expect(await readdir(path.join(ubuntu, 'packages/ocaml-system'))).toEqual(['ocaml-system.4.14.1']);
    // A compiler the fixture already has a virtual package for keeps that one.
    const five = path.join(work, 'repo-5.4.1');
    await makeOpamRepository(five, { ocamlVersion: '5.4.1' });
    expect(await readFile(path.join(five, 'packages/ocaml/ocaml.5.4.1/opam'), 'utf8')).toBe(
      await readFile(path.join(work, 'repo', 'packages/ocaml/ocaml.5.4.1/opam'), 'utf8'),
    );
    await expect(makeOpamRepository(path.join(work, 'repo-bad'), { ocamlVersion: 'trunk' })).rejects.toThrow(
      'ocamlc -vnum printed "trunk", not a version',
    );
  });

  it('lists ocaml-base-compiler versions for prefix resolution, and refuses to build them offline', async () => {
    const versions = ok(await run('opam', ['show', 'ocaml-base-compiler', '-f', 'all-versions']), 'opam show');
    expect(versions.stdout.trim().split(/\s+/)).toEqual(['4.14.2', '5.3.0', '5.4.0', '5.4.1', '5.5.0']);
    const r = await run('opam', ['switch', 'create', 'doomed', 'ocaml-base-compiler.5.4.1']);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('ocaml-base-compiler.5.4.1 is not buildable offline in the fixture');
  });

  it('installs a library package from its local sources with plain ocamlopt', async () => {
    ok(await run('opam', ['install', 'fmt']), 'opam install fmt');
    const lib = ok(await run('opam', ['var', 'fmt:lib']), 'opam var fmt:lib').stdout.trim();
    const files = await readdir(lib);
    expect(files).toEqual(expect.arrayContaining(['META', 'fmt.cmi', 'fmt.cma', 'fmt.cmxa', 'fmt.a']));
  });

  it.each(TARGETS)(
    'mirage configure -t $target, make depend, make build → dist/$image',
    async ({ target, image, family }) => {
      const dir = await copyExample(`hello-${target}`);
      const conf = ok(await inSwitch(['mirage', 'configure', '-t', target], dir), 'mirage configure');
      expect(conf.stdout).toContain('Successfully configured the unikernel');
      expect(await listFiles(dir)).toEqual(expectedConfigureFiles(target, family));

      const makefile = await readFile(path.join(dir, 'Makefile'), 'utf8');
      expect(makefile.startsWith('-include Makefile.user\n')).toBe(true);
      expect(makefile).toContain(`UNIKERNEL_NAME = hello-${target}\n`);
      expect(makefile).toMatch(/^depends depend::$/m);
      expect(makefile).toContain('monorepo lock --require-cross-compile --build-only $(UNIKERNEL_NAME) -l $@');
      expect(makefile).toContain('$(OPAM) install $< --deps-only --yes');
      expect(makefile).toMatch(/^clean::\n\tmirage clean$/m);
      const opam = await readFile(path.join(dir, 'mirage', `hello-${target}.opam`), 'utf8');
      expect(opam).toContain(`x-mirage-opam-lock-location: "mirage/hello-${target}.opam.locked"`);
      expect(opam).toMatch(/"duration" \{ \?monorepo \}/);
      const runtime = { unix: 'mirage-unix', solo5: 'mirage-solo5', xen: 'mirage-xen', unikraft: 'mirage-unikraft' }[
        family
      ];
      expect(opam).toContain(`"${runtime}" { ?monorepo`);

      const dep = ok(await inSwitch(['make', 'depend'], dir), 'make depend');
      expect(dep.stdout).toMatch(new RegExp(`==> Pulling ${runtime} from file://`));
      const lock = await readFile(path.join(dir, 'mirage', `hello-${target}.opam.locked`), 'utf8');
      expect(lock).toContain('x-opam-monorepo-duniverse-dirs:');
      expect(lock).toMatch(/"file:\/\/[^"]+\/lwt\.5\.9\.1\.tar\.gz"\s+"lwt"\s+\[\s+"sha256=[0-9a-f]{64}"/);
      // each vendored package pinned to its archive, as opam-monorepo writes it
      expect(lock).toMatch(
        /^pin-depends: \[\s+\[\s+"duration\.0\.2\.1"\s+"file:\/\/[^"]+\/duration\.0\.2\.1\.tar\.gz"/m,
      );
      expect((await readdir(path.join(dir, 'duniverse'))).sort()).toEqual(
        ['duration', 'logs', 'lwt', 'mirage-logs', 'mirage-runtime', 'mirage-sleep', runtime].sort(),
      );
      if (family === 'solo5' || family === 'xen') {
        const listed = ok(await run('opam', ['list', '--installed', '--short']), 'opam list').stdout.split('\n');
        expect(listed).toEqual(expect.arrayContaining(['ocaml-solo5', 'solo5']));
      }

      ok(await inSwitch(['make', 'build'], dir), 'make build');
      const img = path.join(dir, 'dist', image);
      expect((await stat(img)).mode & 0o111).not.toBe(0);
      const dist = (await readdir(path.join(dir, 'dist'))).sort();
      const side = target === 'xen' ? ['hello.xl', 'hello.xl.in'] : [];
      expect(dist).toEqual(['dune', image, ...side].sort());
      if (target === 'xen')
        expect(await readFile(path.join(dir, 'dist', 'hello.xl'), 'utf8')).toContain("kernel = 'hello.xen'");

      const out = await run(img, [], dir);
      expect(out.code).toBe(0);
      expect(out.stderr.match(/^\[INFO\] \[application\] hello$/gm)).toHaveLength(4);
    },
    60_000,
  );

  it('-o renames the image, and a package added in config.ml is locked, pulled and linked', async () => {
    const dir = await copyExample('greeter');
    const config = await readFile(path.join(dir, 'config.ml'), 'utf8');
    await writeFile(
      path.join(dir, 'config.ml'),
      config.replace('[ package "duration" ]', '[ package "duration"; package ~min:"0.9.0" "fmt" ]'),
    );
    await writeFile(
      path.join(dir, 'unikernel.ml'),
      'module Hello = struct\n  let start () = Fmt.epr "%s via %a@." "hi" Fmt.string "fmt"; Lwt.return_unit\nend\n',
    );
    ok(await inSwitch(['mirage', 'configure', '-t', 'hvt', '-o', 'greeter'], dir), 'configure');
    const opam = await readFile(path.join(dir, 'mirage', 'hello-hvt.opam'), 'utf8');
    expect(opam).toContain('"fmt" { ?monorepo & >= "0.9.0" }');
    const dep = ok(await inSwitch(['make', 'depend'], dir), 'make depend');
    expect(dep.stdout).toMatch(/==> Pulling fmt from file:\/\/\S+fmt\.0\.9\.0\.tar\.gz/);
    ok(await inSwitch(['make', 'build'], dir), 'make build');
    const out = await run(path.join(dir, 'dist', 'greeter.hvt'), [], dir);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('hi via fmt');
  }, 60_000);

  it('fails like mirage on a missing config file', async () => {
    const r = await inSwitch(['mirage', 'configure', '-t', 'unix', '-f', 'nowhere/config.ml'], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('mirage: [ERROR] configuration file nowhere/config.ml missing');
  });

  it('rejects an unknown target with the cmdliner message and exit code 124', async () => {
    const dir = await copyExample('bad-target');
    const r = await inSwitch(['mirage', 'configure', '-t', 'xenn'], dir);
    expect(r.code).toBe(124);
    expect(r.stderr).toContain(
      "mirage: option '-t': invalid value 'xenn', expected one of 'unix', 'macosx', 'xen', 'virtio', 'hvt', 'muen', 'qubes', 'genode', 'spt', 'unikraft-firecracker' or 'unikraft-qemu'",
    );
    expect(await listFiles(dir)).toEqual(['config.ml', 'unikernel.ml']);
  });

  it('surfaces compile errors in unikernel.ml as compiler locations', async () => {
    const dir = await copyExample('broken');
    const src = await readFile(path.join(dir, 'unikernel.ml'), 'utf8');
    await writeFile(path.join(dir, 'unikernel.ml'), src.replace('f "hello"', 'f "hello" 42'));
    ok(await inSwitch(['mirage', 'configure', '-t', 'unix'], dir), 'configure');
    ok(await inSwitch(['make', 'depend'], dir), 'make depend');
    const r = await inSwitch(['make', 'build'], dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/File "unikernel\.ml", line \d+, characters \d+-\d+:/);
    expect(r.stderr).toContain('Error:');
    await expect(stat(path.join(dir, 'dist', 'hello'))).rejects.toThrow();
  }, 60_000);
});
