/**
 * What the folder maps of the build (plan.ts inFolder, withCFolderMap) cover, shown with the real
 * compilers: Debian's dune 2.9 builds one small project, an OCaml executable with a C stub, both
 * compiled with `-g`, in two folders. OCaml honours BUILD_PATH_PREFIX_MAP; the C compiler does not,
 * and dune hands it no flag from the environment, so without the dune-workspace's `env` stanza the
 * stub's object names the folder it was compiled in. With both, the two folders give the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inFolder, withCFolderMap } from '../../src/mirage/plan.js';

let base: string;
const folders = (variant: string) => [
  join(base, variant, 'a', 'unikernel'),
  join(base, variant, 'elsewhere', 'b', 'u'),
];
const built = (dir: string, file: string) => readFileSync(join(dir, '_build', 'default', file));
const names = (bytes: Buffer, dir: string) => bytes.toString('latin1').includes(dir);

function buildIn(dir: string, source: string, workspace: string): void {
  cpSync(source, dir, { recursive: true });
  writeFileSync(join(dir, 'dune-workspace'), workspace);
  const env = inFolder({ PATH: process.env.PATH ?? '', HOME: base }, dir);
  execFileSync('dune', ['build', '--profile', 'release', '--root', '.', './main.exe'], {
    cwd: dir,
    env,
    stdio: 'pipe',
  });
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'path-map-'));
  const source = join(base, 'source');
  mkdirSync(source);
  writeFileSync(join(source, 'dune-project'), '(lang dune 2.9)\n');
  writeFileSync(
    join(source, 'dune'),
    '(executable (name main) (ocamlopt_flags (:standard -g))\n' +
      ' (foreign_stubs (language c) (names stub) (flags (:standard -g))))\n',
  );
  writeFileSync(
    join(source, 'stub.c'),
    '#include <caml/mlvalues.h>\nvalue pm_add(value a, value b) { return Val_int(Int_val(a) + Int_val(b)); }\n',
  );
  writeFileSync(
    join(source, 'main.ml'),
    'external add : int -> int -> int = "pm_add"\nlet () = Printf.printf "%d\\n" (add 1 2)\n',
  );
  const generated = '(lang dune 2.9)\n(context default)\n';
  for (const dir of folders('plain')) buildIn(dir, source, generated);
  for (const dir of folders('mapped')) buildIn(dir, source, withCFolderMap(generated) ?? '');
}, 120_000);

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('two folders, one dune project with a C stub, both with -g', () => {
  it('with the C map in dune-workspace: the same executable, naming neither folder', () => {
    const [a = '', b = ''] = folders('mapped');
    expect(built(a, 'main.exe').equals(built(b, 'main.exe'))).toBe(true);
    expect(names(built(a, 'main.exe'), base)).toBe(false);
    expect(built(a, 'stub.o').toString('latin1')).toContain('/unikernel/_build/default');
  });

  it('without it, the OCaml objects are still the same bytes, but the C stub names its folder', () => {
    const [a = '', b = ''] = folders('plain');
    const object = '.main.eobjs/native/dune__exe__Main.o';
    expect(built(a, object).equals(built(b, object))).toBe(true);
    expect(names(built(a, object), a)).toBe(false);
    expect(names(built(a, 'stub.o'), join(a, '_build', 'default'))).toBe(true);
    expect(built(a, 'main.exe').equals(built(b, 'main.exe'))).toBe(false);
  });
});
