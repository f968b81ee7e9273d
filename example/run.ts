/**
 * The quick start: runs the bundled action end to end on example/hello the way a runner would,
 * twice (cold, then warm from the cache), against loopback stand-ins for what a real run talks to:
 * the local opam repository fixture with its stand-in `mirage` CLI (no network), the Actions
 * cache service backed by Azurite, and a git smart-HTTP server holding the deployment repository
 * behind a token.
 *
 * The two runs deploy two commits of a git repository made from example/hello: the example as it
 * is, then a real change to its unikernel. Between them, the host updater pulls the first deploy
 * and starts it; at the end the script prints the updater command that pulls the second one. The
 * deployment repository and the host's state folder live under `.tmp/quickstart/`, which no run
 * deletes, so that the printed command still works after the script ends.
 *
 * For each run it prints the action's log as a runner's page shows it (each log group one
 * collapsed heading with its time; notices and warnings as they come), then the job summary, and
 * at the end the deployment repository's tree. Run it with `bash example/run.sh [target]` (which
 * installs what is missing first and says what is a stand-in).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * The one-job run deploys while it builds, so the build needs the action's sandbox (bubblewrap, in
 * user and PID namespaces). Where the machine cannot make one (a plain `docker run debian:12`, a
 * kernel without user namespaces), the run says so and takes the opt-out, whose warning the action
 * then prints; on a runner, the two-job pattern of the README is the answer.
 */
function sandboxInputs(): Record<string, string> {
  try {
    execFileSync('bwrap', ['--unshare-user', '--unshare-pid', '--ro-bind', '/', '/', '--dev', '/dev', 'true'], {
      stdio: 'ignore',
    });
    return {};
  } catch {
    console.log(
      'This machine cannot run the build sandbox (bubblewrap is missing, or it may not create user and PID ' +
        'namespaces here): the example builds unsandboxed (`allow-unsandboxed-build: true`, and ' +
        "`opam-disable-sandboxing: true` for opam's own sandbox), and the action warns about it. On a runner, " +
        'deploy from a job that builds nothing instead (the two-job pattern in the README).',
    );
    return { 'allow-unsandboxed-build': 'true', 'opam-disable-sandboxing': 'true' };
  }
}
const sandbox = sandboxInputs();
const work = join(PROJECT_ROOT, '.tmp/example');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
/** What outlives the script: the deployment repository and the host's state, for the printed command. */
const kept = join(PROJECT_ROOT, '.tmp/quickstart');
const hostState = join(kept, `host-${target}`);

const opamRepo = await makeOpamRepository(join(work, 'opam-repository'));
const azurite = await startAzurite();
const cache = await startCacheService({ azurite });
const deployRepo = await createBareRepo(join(kept, 'deployment.git'));
const token = `example-${Date.now().toString(36)}`;
const git = await startGitHttp({ repoPath: deployRepo, token });

const workspace = join(work, 'workspace');
const toolCache = join(work, 'tool-cache');
// One HOME for both runs, as on a hosted runner: the opam root lives under it and cached paths must match.
const home = join(work, 'home');
const source = join(work, 'source');

const gitIn = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: { ...process.env, ...GIT_IDENTITY } }).trim();
const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Quick Start',
  GIT_AUTHOR_EMAIL: 'quickstart@example.invalid',
  GIT_COMMITTER_NAME: 'Quick Start',
  GIT_COMMITTER_EMAIL: 'quickstart@example.invalid',
};

/** The example's source history: example/hello as it is, then a change the image shows. */
function makeCommits(): { first: string; second: string } {
  cpSync(join(PROJECT_ROOT, 'example/hello'), source, { recursive: true });
  gitIn(source, 'init', '--quiet', '--initial-branch=main');
  gitIn(source, 'add', '.');
  gitIn(source, 'commit', '--quiet', '-m', 'hello');
  const first = gitIn(source, 'rev-parse', 'HEAD');
  const unikernel = join(source, 'unikernel.ml');
  writeFileSync(unikernel, readFileSync(unikernel, 'utf8').replace('f "hello"', 'f "hello, updated"'));
  gitIn(source, 'commit', '--quiet', '-am', 'hello: say that the update arrived');
  return { first, second: gitIn(source, 'rev-parse', 'HEAD') };
}

/**
 * Where the run "happened": a reserved name, so that the links the event and the manifest hold
 * (the run link is made from GITHUB_SERVER_URL) cannot be taken for a real run. Not `.invalid`:
 * @actions/cache takes any server but github.com, *.ghe.com and *.localhost for a GitHub
 * Enterprise Server, which has no cache service v2.
 */
const SERVER = 'https://example.localhost';

/** The push event of `sha`, from the fixture's, its links on SERVER. */
function pushEvent(sha: string, before: string) {
  const fixture = readFileSync(join(FIXTURES, 'events/push-default-branch.json'), 'utf8');
  const { after, before: fixtureBefore } = JSON.parse(fixture) as { after: string; before: string };
  const payload = JSON.parse(
    fixture.replaceAll(after, sha).replaceAll(fixtureBefore, before).replaceAll('https://github.com', SERVER),
  ) as Record<string, unknown>;
  return { name: 'push', payload, ref: 'refs/heads/main', sha };
}
/**
 * The host updater, as a host would run it from cron, following the deployment repository on disk.
 * The restart command runs the image in the foreground: the hello unikernel logs four lines and
 * exits (at once with the stand-ins), so its output shows in the updater's and nothing is left
 * running; a long-running unikernel needs a supervisor or a pid file instead (host/README.md).
 */
function hostCommand(): string {
  return [
    'host/mirage-deploy-pull',
    `--repository ${deployRepo}`,
    `--directory ${target}`,
    `--state ${hostState}`,
    // a xen folder's .xl is written by the updater, with the domain's name from the host
    ...(target === 'xen' ? ['--xl-set NAME=hello'] : []),
    `--restart '"$MIRAGE_IMAGE" $MIRAGE_ARGS'`,
  ].join(' ');
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

/**
 * Prints a step's stdout the way the runner's log page shows it folded: a group is one `▸` heading
 * with its time, workflow commands that only carry data (outputs, state, masks) are hidden, and
 * annotations are shown by their level. Lines outside any group are shown as they are, except the
 * `<group>: N s` line the action writes after a timed group: its time goes on the heading instead.
 */
function runnerView(): { line: (line: string) => void; end: () => void } {
  let group: { name: string; started: number } | undefined;
  let closed: { name: string; seconds: string } | undefined;
  const heading = (name: string, time: string) => console.log(`  ▸ ${name.padEnd(70)} ${time.padStart(6)}`);
  const flush = () => {
    if (closed) heading(closed.name, closed.seconds);
    closed = undefined;
  };
  const line = (text: string) => {
    const time = closed && text.startsWith(`${closed.name}: `) ? text.slice(closed.name.length + 2) : '';
    if (closed && /^\d+\.\d s$/.test(time)) {
      heading(closed.name, time.replace(' ', ''));
      closed = undefined;
      return;
    }
    flush();
    const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(text);
    if (command === null) {
      if (group === undefined && text.trim() !== '') console.log(`  ${text}`);
      return;
    }
    const [, name = '', value = ''] = command;
    if (name === 'group') {
      group = { name: decodeCommandValue(value), started: Date.now() };
    } else if (name === 'endgroup' && group) {
      closed = { name: group.name, seconds: seconds(group.started) };
      group = undefined;
    } else if (['notice', 'warning', 'error'].includes(name)) {
      console.log(`  ${name[0]?.toUpperCase()}${name.slice(1)}: ${decodeCommandValue(value)}`);
    }
  };
  return { line, end: flush };
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

/** A fresh checkout of `sha` in the workspace, without the files the previous build generated. */
function checkout(sha: string): void {
  rmSync(workspace, { recursive: true, force: true });
  mkdirSync(join(workspace, 'hello'), { recursive: true });
  gitIn(source, '--work-tree', join(workspace, 'hello'), 'checkout', sha, '--', '.');
}

async function job(title: string, sha: string, before: string): Promise<RunResult> {
  checkout(sha);
  console.log(
    `\n=== ${title}; the event: a push of ${sha.slice(0, 7)} (${gitIn(source, 'log', '-1', '--format=%s', sha)}) to main`,
  );
  console.log(`▶ Run mirage/mirage-deploy@v1 (target: ${target})`);
  const started = Date.now();
  const view = runnerView();
  let postStarted: number | undefined;
  const result = await runAction({
    event: pushEvent(sha, before),
    workspace,
    toolCache,
    home,
    env: { ...cache.env, GITHUB_SERVER_URL: SERVER },
    inputs: {
      target,
      'working-directory': 'hello',
      'ocaml-compiler': 'ocaml-system',
      'opam-version': 'system',
      'opam-repositories': `fixture: ${opamRepo.url}`,
      'mirage-version': '4.11.1+stand-in',
      deploy: 'true',
      'deploy-repository': git.url,
      'deploy-token': token,
      ...sandbox,
    },
    onLine: (step, line) => {
      if (step === 'post' && postStarted === undefined) {
        view.end();
        postStarted = Date.now();
        console.log(`✓ main step ${seconds(started)}\n▶ Post Run mirage/mirage-deploy@v1`);
      }
      view.line(line);
    },
  });
  view.end();
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

function runHost(command: string): void {
  console.log(`$ ${command}`);
  const output = execFileSync('sh', ['-c', `${command} 2>&1`], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  console.log(output.replace(/^/gm, '  ').trimEnd());
}

function printTree(): void {
  console.log(`\n=== the deployment repository ${deployRepo} (served during the runs at ${git.url}) now holds:`);
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
}

try {
  const { first, second } = makeCommits();
  const cold = await job('cold run: nothing cached', first, '0'.repeat(40));
  const command = hostCommand();
  console.log(`\n=== the host pulls the first deploy and starts it (state folder ${hostState}):`);
  runHost(command);
  const warm = await job('warm run: a fresh runner, restored from the cache', second, first);
  printTree();
  removeRun(cold);
  removeRun(warm);
  console.log(
    `\n=== ${deployRepo} and ${hostState} stay (the next run adds to them). ` +
      'Pull the second deploy into the host and start it:',
  );
  console.log(command);
} finally {
  await git.stop();
  await cache.stop();
  await azurite.stop();
}
