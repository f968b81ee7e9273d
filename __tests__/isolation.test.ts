import { afterEach, describe, expect, it } from 'vitest';
import {
  BUILD_MARKER,
  childEnv,
  chooseLeftovers,
  isPrivateVariable,
  planSweep,
  privateValueRanges,
  statFields,
  type ProcessInfo,
} from '../src/isolation.js';

describe('childEnv', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('hands a child no input and none of the runner tokens, but everything else and the run marker', () => {
    process.env['INPUT_DEPLOY-KEY'] = 'key';
    process.env.INPUT_TARGET = 'xen';
    process.env.ACTIONS_RUNTIME_TOKEN = 'runtime';
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'oidc';
    process.env.RUNNER_TEMP = '/tmp/runner';
    const env = childEnv({ OPAMYES: '1', INPUT_EXTRA: 'x' });
    expect(Object.keys(env).filter((k) => k.startsWith('INPUT_'))).toEqual([]);
    expect(env.ACTIONS_RUNTIME_TOKEN).toBeUndefined();
    expect(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN).toBeUndefined();
    expect(env).toMatchObject({ RUNNER_TEMP: '/tmp/runner', OPAMYES: '1' });
    expect(env[BUILD_MARKER]).toMatch(new RegExp(`^${process.pid}-`));
  });

  it.each([
    ['INPUT_DEPLOY-KEY', true],
    ['INPUT_GITHUB-TOKEN', true],
    ['ACTIONS_RUNTIME_TOKEN', true],
    ['ACTIONS_ID_TOKEN_REQUEST_URL', true],
    ['ACTIONS_CACHE_URL', false],
    ['GITHUB_SHA', false],
    ['MY_INPUT_THING', false],
  ])('%s is private: %s', (name, expected) => {
    expect(isPrivateVariable(name)).toBe(expected);
  });
});

describe('privateValueRanges', () => {
  it('finds the value bytes of each private variable in an environment block', () => {
    const block = Buffer.from(
      'PATH=/bin\0INPUT_DEPLOY-KEY=abc=def\0HOME=/root\0ACTIONS_RUNTIME_TOKEN=t\0INPUT_EMPTY=\0',
    );
    const ranges = privateValueRanges(block);
    expect(ranges.map((r) => [r.name, block.toString('utf8', r.start, r.end)])).toEqual([
      ['INPUT_DEPLOY-KEY', 'abc=def'],
      ['ACTIONS_RUNTIME_TOKEN', 't'],
    ]);
  });

  it('reads a block without a final NUL and a variable without `=`', () => {
    const block = Buffer.from('ODD\0INPUT_X=1');
    expect(privateValueRanges(block)).toEqual([{ name: 'INPUT_X', start: 12, end: 13 }]);
  });
});

describe('statFields', () => {
  it('splits after the command name, whatever it holds', () => {
    const fields = statFields('42 (a) b (c)) S 7 42 42 0 -1');
    expect(fields.slice(0, 3)).toEqual(['S', '7', '42']);
  });
});

describe('chooseLeftovers', () => {
  const proc = (pid: number, ppid: number, over: Partial<ProcessInfo> = {}): ProcessInfo => ({
    pid,
    ppid,
    uid: 1001,
    start: 500,
    marked: false,
    command: `p${pid}`,
    state: 'S',
    ...over,
  });
  // init 1 → runner 10 → action 20; the action started at 400.
  const self = proc(20, 10, { start: 400 });
  const base = [proc(1, 0, { start: 0 }), proc(10, 1, { start: 100 }), self];
  const chosen = (procs: ProcessInfo[]) => chooseLeftovers([...base, ...procs], self).map((p) => p.pid);

  it('takes a child and a grandchild of the action still running', () => {
    expect(chosen([proc(30, 20), proc(31, 30)])).toEqual([30, 31]);
  });

  it('takes a detached process that carries the run marker, re-parented to init', () => {
    expect(chosen([proc(40, 1, { marked: true })])).toEqual([40]);
  });

  it("leaves the action, its ancestors, other users' processes and unmarked strangers", () => {
    expect(
      chosen([
        proc(50, 1),
        proc(51, 10),
        proc(52, 20, { uid: 0 }),
        proc(53, 1, { uid: 0, marked: true }),
        proc(54, 99, { start: 10 }),
      ]),
    ).toEqual([]);
  });

  it('leaves a marked process that started before the action (pid reuse cannot make it ours)', () => {
    expect(chosen([proc(60, 1, { marked: true, start: 300 })])).toEqual([]);
  });

  it('survives a loop in the parent links', () => {
    expect(chosen([proc(70, 71), proc(71, 70)])).toEqual([]);
  });
});

describe('planSweep', () => {
  const proc = (pid: number, ppid: number, over: Partial<ProcessInfo> = {}): ProcessInfo => ({
    pid,
    ppid,
    uid: 1001,
    start: 500,
    marked: false,
    command: `p${pid}`,
    state: 'S',
    ...over,
  });
  const self = proc(20, 10, { start: 400 });
  const base = [proc(1, 0, { start: 0 }), proc(10, 1, { start: 100 }), self];
  const plan = (procs: ProcessInfo[], killed: string[] = []) => {
    const { kill, going } = planSweep([...base, ...procs], self, new Set(killed));
    return { kill: kill.map((p) => p.pid), going: going.map((p) => p.pid) };
  };

  it('kills a running leftover it has not killed yet', () => {
    expect(plan([proc(30, 20), proc(40, 1, { marked: true, state: 'R' })])).toEqual({ kill: [30, 40], going: [] });
  });

  it('ignores zombies: a dead leftover waiting to be reaped runs nothing', () => {
    expect(plan([proc(30, 20, { state: 'Z' }), proc(40, 1, { marked: true, state: 'Z' })])).toEqual({
      kill: [],
      going: [],
    });
  });

  it('counts a leftover it already killed as going, not as a new one', () => {
    expect(plan([proc(30, 20), proc(31, 30)], ['30@500'])).toEqual({ kill: [31], going: [30] });
  });

  it('takes a new process on a reused pid as new', () => {
    expect(plan([proc(30, 20, { start: 600 })], ['30@500'])).toEqual({ kill: [30], going: [] });
  });
});
