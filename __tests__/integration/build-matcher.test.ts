/**
 * The OCaml problem matcher against what Debian's real `ocamlopt`/`ocamlc` print for broken files,
 * applied line by line as the runner applies it (actions/runner IssueMatcher.cs and
 * OutputManager.cs: consecutive lines, `loop` on the last pattern, empty messages skipped, color
 * codes stripped, the matcher's severity when the line gives none).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MATCHER_OWNER, ocamlProblemMatcher, type ProblemMatcher } from '../../src/mirage/matcher.js';
import { PROJECT_ROOT, removeRun, runAction, type RunResult } from '../support/harness.js';
import { makeOpamRepository } from '../support/opam-repo.js';

interface Issue {
  severity: string;
  file: string | null;
  line: string | null;
  column: string | null;
  code: string | null;
  message: string;
}

interface Match {
  file: string | null;
  line: string | null;
  column: string | null;
  severity: string | null;
  code: string | null;
  message: string | null;
}

/** What the runner reports for these lines of output while the matcher is registered. */
function runnerIssues(matcher: ProblemMatcher, lines: readonly string[]): Issue[] {
  const patterns = matcher.pattern.map((p) => ({ ...p, re: new RegExp(p.regexp) }));
  // .NET gives a group that did not take part an empty value; a property the pattern lacks is null.
  const value = (m: RegExpExecArray, index: number | undefined) => (index === undefined ? null : (m[index] ?? ''));
  const combine = (running: Match | null, p: (typeof patterns)[number], m: RegExpExecArray): Match => ({
    file: running?.file ?? value(m, p.file),
    line: running?.line ?? value(m, p.line),
    column: running?.column ?? value(m, p.column),
    severity: running?.severity ?? value(m, p.severity),
    code: running?.code ?? value(m, p.code),
    message: running?.message ?? value(m, p.message),
  });
  let state: Array<Match | null> = patterns.slice(1).map(() => null);
  const issues: Issue[] = [];
  for (const raw of lines) {
    const line = raw.replace(COLOR_CODE, '');
    let found: Match | null = null;
    for (let i = patterns.length - 1; i >= 0 && found === null; i--) {
      const running = i > 0 ? (state[i - 1] ?? null) : null;
      if (i !== 0 && running === null) continue;
      const p = patterns[i]!;
      const isLast = i === patterns.length - 1;
      const m = p.re.exec(line);
      if (m && isLast) {
        found = combine(running, p, m);
        state = patterns.slice(1).map(() => null);
        if (p.loop) state[i - 1] = running;
      } else if (m) {
        state[i] = combine(running, p, m);
      } else if (isLast) {
        state[i - 1] = null;
      } else {
        state[i] = null;
      }
    }
    if (found === null || !found.message?.trim()) continue;
    const severity = (found.severity || matcher.severity).toLowerCase();
    if (!['error', 'warning', 'notice'].includes(severity)) continue;
    issues.push({
      severity,
      file: found.file,
      line: found.line,
      column: found.column,
      code: found.code?.trim() || null,
      message: found.message,
    });
  }
  return issues;
}

const COLOR_CODE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m?`, 'g');
const matcher = ocamlProblemMatcher().problemMatcher[0]!;
let dir: string;
const runs: RunResult[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'build-matcher-'));
});

afterAll(() => {
  runs.forEach(removeRun);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function compile(
  compiler: 'ocamlopt' | 'ocamlc',
  name: string,
  source: string,
  flags: string[] = [],
  env: Record<string, string> = {},
) {
  writeFileSync(join(dir, name), source);
  const result = spawnSync(compiler, [...flags, '-c', name], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  const lines = result.stderr.split('\n');
  return { status: result.status, lines, issues: runnerIssues(matcher, lines) };
}

const TYPE_ERROR = 'let x = 1 + "a"\n';
const UNUSED = 'let f () =\n  let unused = 3 in\n  4\n';
const SPANNING = 'let h : string =\n  List.map\n    (fun x -> x + 1)\n    [1; 2; 3]\n';
const LONG_SPAN = `let h : string =\n  List.map (fun x -> x)\n    [\n${Array.from({ length: 20 }, (_, i) => `      ${i};\n`).join('')}    ]\n`;
const PARTIAL = 'let f = function\n  | Some 1\n  | None -> 0\n';

describe('the OCaml problem matcher on real compiler output', () => {
  it.each(['ocamlopt', 'ocamlc'] as const)('%s: a type error, quoted source and all', (compiler) => {
    const { status, lines, issues } = compile(compiler, 'err.ml', TYPE_ERROR);
    expect(status).not.toBe(0);
    expect(lines).toContain('1 | let x = 1 + "a"');
    expect(issues).toEqual([
      {
        severity: 'error',
        file: 'err.ml',
        line: '1',
        column: '12',
        code: null,
        message: 'This expression has type string but an expression was expected of type',
      },
    ]);
  });

  it('a warning, with its number and name as the code, while the file still compiles', () => {
    const { status, issues } = compile('ocamlopt', 'warn.ml', UNUSED);
    expect(status).toBe(0);
    expect(issues).toEqual([
      {
        severity: 'warning',
        file: 'warn.ml',
        line: '2',
        column: '6',
        code: '26 [unused-var]',
        message: 'unused variable unused.',
      },
    ]);
  });

  it('a type error whose location spans lines', () => {
    const { lines, issues } = compile('ocamlopt', 'span.ml', SPANNING);
    expect(lines[0]).toBe('File "span.ml", lines 2-4, characters 2-13:');
    expect(issues).toEqual([
      {
        severity: 'error',
        file: 'span.ml',
        line: '2',
        column: '2',
        code: null,
        message: 'This expression has type int list',
      },
    ]);
  });

  it('a spanning error long enough that the compiler elides the middle of the quote', () => {
    const { lines, issues } = compile('ocamlc', 'long.ml', LONG_SPAN);
    expect(lines).toContain('...');
    expect(issues.map((i) => [i.severity, i.file, i.line, i.message])).toEqual([
      ['error', 'long.ml', '2', 'This expression has type int list'],
    ]);
  });

  it('a spanning warning followed by more lines of explanation', () => {
    const { issues } = compile('ocamlopt', 'partial.ml', PARTIAL);
    expect(issues).toEqual([
      {
        severity: 'warning',
        file: 'partial.ml',
        line: '1',
        column: '8',
        code: '8 [partial-match]',
        message: 'this pattern-matching is not exhaustive.',
      },
    ]);
  });

  it('several warnings in one file, each its own issue, explanations and all', () => {
    const source = `${UNUSED}let g () =\n  let other = 1 in\n  2\nlet h = function Some 1 -> 0\n`;
    const { status, issues } = compile('ocamlopt', 'many.ml', source);
    expect(status).toBe(0);
    expect(issues.map((i) => [i.severity, i.line, i.code, i.message])).toEqual([
      ['warning', '7', '8 [partial-match]', 'this pattern-matching is not exhaustive.'],
      ['warning', '2', '26 [unused-var]', 'unused variable unused.'],
      ['warning', '5', '26 [unused-var]', 'unused variable other.'],
    ]);
  });

  it('a warning turned into an error', () => {
    const { status, issues } = compile('ocamlopt', 'werror.ml', UNUSED, ['-warn-error', '+26']);
    expect(status).not.toBe(0);
    expect(issues).toEqual([
      {
        severity: 'error',
        file: 'werror.ml',
        line: '2',
        column: '6',
        code: '26 [unused-var]',
        message: 'unused variable unused.',
      },
    ]);
  });

  it('a syntax error at the end of the file, where nothing is quoted', () => {
    const { lines, issues } = compile('ocamlopt', 'syntax.ml', 'let f x =\n  match x with\n  | 1 -> (\n');
    expect(lines[1]).toMatch(/^Error: Syntax error/);
    expect(issues.map((i) => [i.severity, i.file, i.line, i.message])).toEqual([
      ['error', 'syntax.ml', '4', 'Syntax error: operator expected.'],
    ]);
  });

  it('an alert, reported as a warning', () => {
    const { issues } = compile('ocamlopt', 'alert.ml', 'let g () =\n  String.lowercase "A"\n');
    expect(issues.map((i) => [i.severity, i.line, i.column, i.message])).toEqual([
      ['warning', '2', '2', 'Stdlib.String.lowercase'],
    ]);
  });

  it('the short error style, without quoted source', () => {
    const { lines, issues } = compile('ocamlc', 'short.ml', TYPE_ERROR, [], { OCAML_ERROR_STYLE: 'short' });
    expect(lines[1]).toMatch(/^Error: /);
    expect(issues.map((i) => [i.severity, i.file, i.line, i.column])).toEqual([['error', 'short.ml', '1', '12']]);
  });

  it('ignores make and dune chatter, and an error line with no location before it', () => {
    const lines = [
      'make: *** [Makefile:35: build] Error 2',
      'Error: Library "foo" not found.',
      '      ocamlopt main.exe',
      'Warning: something unrelated',
      '1 | let x = 1',
    ];
    expect(runnerIssues(matcher, lines)).toEqual([]);
  });
});

describe('the problem matcher around a failed build, through the bundle', () => {
  it.each([
    ['at the workspace root', ''],
    ['in a subfolder, as `working-directory: src`', 'src'],
  ])(
    'is registered before the build and removed after it, and annotates the broken line of a unikernel %s',
    async (_where, folder) => {
      const repo = await makeOpamRepository(join(dir, `repo-${folder || 'root'}`));
      const workspace = join(dir, `workspace-${folder || 'root'}`);
      const unikernel = join(workspace, folder);
      cpSync(join(PROJECT_ROOT, 'example/hello'), unikernel, { recursive: true });
      const source = join(unikernel, 'unikernel.ml');
      const broken = readFileSync(source, 'utf8').replace('loop 4', 'loop "4"');
      writeFileSync(source, broken);
      const brokenLine = String(broken.split('\n').findIndex((l) => l.includes('loop "4"')) + 1);
      const run = await runAction({
        workspace,
        env: { OPAMROOT: join(dir, 'opam-root') },
        inputs: {
          'working-directory': folder || '.',
          'ocaml-compiler': 'ocaml-system',
          'opam-version': 'system',
          'opam-repositories': `fixture: ${repo.url}`,
          'mirage-version': '4.11.1+stand-in',
          cache: 'false',
        },
        timeoutMs: 300_000,
      });
      runs.push(run);
      expect(run.main.exitCode).toBe(1);
      expect(run.errors.join('\n')).toContain('`make -j');

      const lines = run.main.stdout.split('\n');
      const added = lines.findIndex((l) => l.startsWith('::add-matcher::'));
      const removed = lines.indexOf(`::remove-matcher owner=${MATCHER_OWNER}::`);
      const build = lines.findIndex((l) => /^\[command\].*\/make -j\d+ build$/.test(l));
      expect(added).toBeGreaterThan(-1);
      expect(added).toBeLessThan(build);
      expect(removed).toBeGreaterThan(build);
      // The runner reads the file the command names, so it must still be there and be this matcher.
      const file = lines[added]!.slice('::add-matcher::'.length);
      const registered = JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof ocamlProblemMatcher>;
      expect(registered).toEqual(ocamlProblemMatcher());

      const issues = runnerIssues(registered.problemMatcher[0]!, lines.slice(added + 1, removed));
      const expected = folder ? `${folder}/unikernel.ml` : 'unikernel.ml';
      expect(issues).toEqual([
        expect.objectContaining({ severity: 'error', file: expected, line: brokenLine, code: null }),
      ]);
      // The runner resolves the file against the workspace and links the annotation only if it is there.
      expect(existsSync(join(workspace, issues[0]!.file!))).toBe(true);
      expect(runnerIssues(registered.problemMatcher[0]!, lines.slice(removed + 1))).toEqual([]);
    },
  );
});
