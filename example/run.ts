/**
 * The quick start: runs the bundled action end to end on example/hello the way a runner would,
 * twice (cold, then warm from the cache), against loopback stand-ins for what a real run talks to:
 * the local opam repository fixture with its stand-in `mirage` CLI (no network), the Actions
 * cache service backed by Azurite, and a git smart-HTTP server holding the deployment repository
 * behind a token.
 *
 * For each run it prints the action's log as a runner's page shows it (each log group one
 * collapsed heading with its time; notices and warnings as they come), then the job summary, and
 * at the end the deployment repository's tree. Run it with `bash example/run.sh [target]` (which
 * installs what is missing first and says what is a stand-in).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startAzurite } from '../__tests__/support/azurite.js';
import { createBareRepo } from '../__tests__/support/bare-repo.js';
import { startCacheService } from '../__tests__/support/cache-service.js';
import { startGitHttp } from '../__tests__/support/git-http.js';
import {
  FIXTURES,
  PROJECT_ROOT,
  decodeCommandValue,
  removeRun,
  runAction,
  type RunResult,
} from '../__tests__/support/harness.js';
import { makeOpamRepository } from '../__tests__/support/opam-repo.js';
import { htmlText, summaryTableRows } from '../__tests__/support/summary-table.js';

const target = process.argv[2] ?? 'xen';
const work = join(PROJECT_ROOT, '.tmp/example');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const opamRepo = await makeOpamRepository(join(work, 'opam-repository'));
const azurite = await startAzurite();
const cache = await startCacheService({ azurite });
const deployRepo = await createBareRepo(join(work, 'mirage-www-deployment.git'));
const token = `example-${Date.now().toString(36)}`;
const git = await startGitHttp({ repoPath: deployRepo, token });

const workspace = join(work, 'workspace');
const toolCache = join(work, 'tool-cache');
// One HOME for both runs, as on a hosted runner: the opam root lives under it and cached paths must match.
const home = join(work, 'home');

/** The commit of the fixture's push event: a made-up sha, as is the run link in the manifest. */
const SHA = (JSON.parse(readFileSync(join(FIXTURES, 'events/push-default-branch.json'), 'utf8')) as { after: string })
  .after;

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

/**
 * Prints a step's stdout the way the runner's log page shows it folded: a group is one `▸` heading
 * with its time, workflow commands that only carry data (outputs, state, masks) are hidden, and
 * annotations are shown by their level. Lines outside any group are shown as they are.
 */
function runnerView(): (step: 'main' | 'post', line: string) => void {
  let group: { name: string; started: number } | undefined;
  return (_step, line) => {
    const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
    if (command === null) {
      if (group === undefined && line.trim() !== '') console.log(`  ${line}`);
      return;
    }
    const [, name = '', value = ''] = command;
    if (name === 'group') {
      group = { name: decodeCommandValue(value), started: Date.now() };
    } else if (name === 'endgroup' && group) {
      console.log(`  ▸ ${group.name.padEnd(70)} ${seconds(group.started).padStart(6)}`);
      group = undefined;
    } else if (['notice', 'warning', 'error'].includes(name)) {
      console.log(`  ${name[0]?.toUpperCase()}${name.slice(1)}: ${decodeCommandValue(value)}`);
    }
  };
}

/** The job summary as text: headings, then each table's rows in two aligned columns. */
function summaryText(html: string): string {
  return html
    .split(/(<h3>.*?<\/h3>|<table>.*?<\/table>)/)
    .map((part) => {
      const heading = /^<h3>(.*)<\/h3>$/.exec(part);
      if (heading) return `### ${htmlText(heading[1] ?? '')}`;
      if (!part.startsWith('<table>')) return part.trim();
      const rows = summaryTableRows(part);
      const width = Math.max(...rows.map(([name = '']) => name.length));
      const lines = rows.map(([name = '', value = '']) => `  ${name.padEnd(width)}  ${value}`);
      return [lines[0], `  ${'-'.repeat(width)}  ${'-'.repeat(8)}`, ...lines.slice(1)].join('\n');
    })
    .filter((part) => part !== '')
    .join('\n');
}

async function job(title: string): Promise<RunResult> {
  // Each job starts from a fresh checkout, without the files the previous build generated.
  rmSync(workspace, { recursive: true, force: true });
  cpSync(join(PROJECT_ROOT, 'example/hello'), join(workspace, 'hello'), { recursive: true });
  console.log(
    `\n=== ${title}; the event: a push of ${SHA.slice(0, 7)} to main (__fixtures__/events/push-default-branch.json)`,
  );
  console.log(`▶ Run mirage/mirage-deploy@v1 (target: ${target})`);
  const started = Date.now();
  const view = runnerView();
  let postStarted: number | undefined;
  const result = await runAction({
    event: 'push-default-branch',
    workspace,
    toolCache,
    home,
    env: cache.env,
    inputs: {
      target,
      'working-directory': 'hello',
      'ocaml-compiler': 'ocaml-system',
      'opam-version': 'system',
      'opam-repositories': `fixture: ${opamRepo.url}`,
      'mirage-version': '4.11.1',
      deploy: 'true',
      'deploy-repository': git.url,
      'deploy-token': token,
    },
    onLine: (step, line) => {
      if (step === 'post' && postStarted === undefined) {
        postStarted = Date.now();
        console.log(`✓ main step ${seconds(started)}\n▶ Post Run mirage/mirage-deploy@v1`);
      }
      view(step, line);
    },
  });
  console.log(`✓ post step ${postStarted === undefined ? '' : seconds(postStarted)}; the job took ${seconds(started)}`);
  if (result.main.exitCode !== 0 || result.post?.exitCode !== 0) {
    console.log(
      `\nthe action failed (main exited ${result.main.exitCode}, post ${result.post?.exitCode}); its whole log:`,
    );
    console.log(result.log);
    throw new Error(`${title} failed`);
  }
  console.log(`\n--- outputs`);
  for (const [name, value] of Object.entries(result.outputs)) console.log(`  ${name} = ${value}`);
  console.log(`\n--- job summary\n${summaryText(result.summary)}`);
  return result;
}

try {
  const cold = await job('cold run: nothing cached');
  const warm = await job('warm run: a fresh runner, restored from the cache');
  console.log(`\n=== the deployment repository (${git.url}) now holds:`);
  console.log(
    execFileSync('git', ['--git-dir', deployRepo, 'ls-tree', '-r', '-l', 'HEAD'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [meta = '', path = ''] = line.split('\t');
        const size = meta.split(/\s+/)[3] ?? '';
        return `  ${size.padStart(9)}  ${path}`;
      })
      .join('\n'),
  );
  removeRun(cold);
  removeRun(warm);
} finally {
  await git.stop();
  await cache.stop();
  await azurite.stop();
}
