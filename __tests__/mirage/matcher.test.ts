import { describe, expect, it } from 'vitest';
import { MATCHER_OWNER, ocamlProblemMatcher, rootLocation } from '../../src/mirage/matcher.js';

/** Number of groups in a regexp, the whole match included, as .NET's GetGroupNumbers counts them. */
function groupCount(regexp: string): number {
  return new RegExp(`${regexp}|`).exec('')?.length ?? 0;
}

describe('ocamlProblemMatcher', () => {
  const { problemMatcher } = ocamlProblemMatcher();

  it('is one matcher that the runner accepts (its IssueMatcherConfig.Validate rules)', () => {
    expect(problemMatcher).toHaveLength(1);
    const [matcher] = problemMatcher;
    expect(matcher?.owner).toBe(MATCHER_OWNER);
    expect(['', 'error', 'warning', 'notice']).toContain(matcher?.severity);
    const patterns = matcher?.pattern ?? [];
    expect(patterns.length).toBeGreaterThan(1);
    const seen = new Set<string>();
    patterns.forEach((pattern, i) => {
      if (pattern.loop) expect(i).toBe(patterns.length - 1);
      const groups = groupCount(pattern.regexp);
      for (const property of ['file', 'line', 'column', 'severity', 'code', 'message'] as const) {
        const index = pattern[property];
        if (index === undefined) continue;
        expect(index).toBeLessThan(groups);
        expect(seen.has(property), `${property} set twice`).toBe(false);
        seen.add(property);
      }
    });
    expect(seen.has('message')).toBe(true);
    expect(patterns.at(-1)?.message).toBeDefined();
  });

  it.each([
    ['File "unikernel.ml", line 12, characters 8-15:', ['unikernel.ml', '12', '8']],
    ['File "src/a b.ml", lines 3-5, characters 2-10:', ['src/a b.ml', '3', '2']],
    ['File "x.ml", line 1:', ['x.ml', '1', undefined]],
    ['File "dune", line 3, characters 12-15:', ['dune', '3', '12']],
  ])('reads the location of %s', (line, expected) => {
    const first = problemMatcher[0]?.pattern[0];
    const m = new RegExp(first?.regexp ?? '').exec(line);
    expect([m?.[first?.file ?? 0], m?.[first?.line ?? 0], m?.[first?.column ?? 0]]).toEqual(expected);
  });

  it.each([
    ['Error: Unbound value foo', ['Error', undefined, 'Unbound value foo']],
    [
      'Warning 32 [unused-value-declaration]: unused value x.',
      ['Warning', '32 [unused-value-declaration]', 'unused value x.'],
    ],
    ['Warning 3: deprecated: foo', ['Warning', '3', 'deprecated: foo']],
    [
      'Error (warning 8 [partial-match]): this pattern-matching is not exhaustive.',
      ['Error', '8 [partial-match]', 'this pattern-matching is not exhaustive.'],
    ],
    ['Alert deprecated: Stdlib.String.lowercase', [undefined, undefined, 'Stdlib.String.lowercase']],
    ['12 | let x = 1 + "a"', [undefined, undefined, undefined]],
    ['                ^^^', [undefined, undefined, undefined]],
    ['...', [undefined, undefined, undefined]],
  ])('reads the message line %s', (line, expected) => {
    const last = problemMatcher[0]?.pattern.at(-1);
    const m = new RegExp(last?.regexp ?? '').exec(line);
    expect(m).not.toBeNull();
    expect([m?.[last?.severity ?? 0], m?.[last?.code ?? 0], m?.[last?.message ?? 0]]).toEqual(expected);
  });

  it.each([
    'make: *** [Makefile:35: build] Error 2',
    '         int',
    'Error:',
    'Here is an example of a case that is not matched:',
  ])('does not continue a report on %j', (line) => {
    const last = problemMatcher[0]?.pattern.at(-1);
    expect(new RegExp(last?.regexp ?? '').test(line)).toBe(false);
  });
});

describe('rootLocation', () => {
  it.each([
    ['File "unikernel.ml", line 3, characters 8-15:', 'src', 'File "src/unikernel.ml", line 3, characters 8-15:'],
    ['File "duniverse/fmt/fmt.ml", lines 2-4:', 'a/b', 'File "a/b/duniverse/fmt/fmt.ml", lines 2-4:'],
    ['File "unikernel.ml", line 3, characters 8-15:', '', 'File "unikernel.ml", line 3, characters 8-15:'],
    ['File "unikernel.ml", line 3, characters 8-15:', '.', 'File "unikernel.ml", line 3, characters 8-15:'],
    ['File "/abs/unikernel.ml", line 3:', 'src', 'File "/abs/unikernel.ml", line 3:'],
    ['File "unikernel.ml", line 3:', '../outside', 'File "unikernel.ml", line 3:'],
    ['Error: This expression has type string', 'src', 'Error: This expression has type string'],
    ['3 | let x = File "y"', 'src', '3 | let x = File "y"'],
  ])('%s in %s', (line, folder, expected) => {
    expect(rootLocation(line, folder)).toBe(expected);
  });
});
