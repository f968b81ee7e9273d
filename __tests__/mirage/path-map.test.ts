/**
 * What the folder map of the build environment (plan.ts inFolder) covers, shown with the real
 * compilers: Debian's dune 2.9 builds one small project, an OCaml executable with a C stub, both
 * compiled with `-g`, in two folders. OCaml honours BUILD_PATH_PREFIX_MAP (its objects are the same
 * bytes in both folders); the C compiler does not, and dune hands it no flag from the environment,
 * so a stub's object names the folder it was compiled in. That part is what keys dune's cache by
 * folder (cache/keys.ts duneCacheKeys).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inFolder } from '../../src/mirage/plan.js';

let base: string;
const folders = () => [join(base, 'a', 'unikernel'), join(base, 'elsewhere', 'b', 'unikernel')];
const built = (dir: string, file: string) => readFileSync(join(dir, '_build', 'default', file));
const names = (bytes: Buffer, dir: string) => bytes.toString('latin1').includes(dir);

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
  for (const dir of folders()) {
    cpSync(source, dir, { recursive: true });
    const env = inFolder({ PATH: process.env.PATH ?? '', HOME: base }, dir);
    execFileSync('dune', ['build', '--profile', 'release', '--root', '.', './main.exe'], {
      cwd: dir,
      env,
      stdio: 'pipe',
    });
  }
}, 120_000);

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('two folders, one dune project with a C stub, both with -g', () => {
  it('the OCaml objects are the same bytes and name neither folder', () => {
    const [a = '', b = ''] = folders();
    const object = '.main.eobjs/native/dune__exe__Main.o';
    expect(built(a, object).equals(built(b, object))).toBe(true);
    expect(names(built(a, object), a)).toBe(false);
    expect(built(a, object).toString('latin1')).toContain('/unikernel');
  });

  it('the C stub names the folder it was compiled in, so the executables differ', () => {
    const [a = '', b = ''] = folders();
    expect(names(built(a, 'stub.o'), join(a, '_build', 'default'))).toBe(true);
    expect(names(built(b, 'stub.o'), join(b, '_build', 'default'))).toBe(true);
    expect(built(a, 'main.exe').equals(built(b, 'main.exe'))).toBe(false);
    // the stub's folder is the only trace of either folder in the executable
    const text = built(a, 'main.exe')
      .toString('latin1')
      .split(join(a, '_build', 'default'))
      .join('');
    expect(text.includes(a)).toBe(false);
  });
});
