import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type DeployConfig } from '../../src/config.js';
import type { EventPayload, RunContext } from '../../src/context.js';
import { decideDeploy } from '../../src/deploy/gate.js';
import { testContext } from '../support/context.js';
import { FIXTURES } from '../support/harness.js';

const payload = (name: string): EventPayload =>
  JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8')) as EventPayload;

const deployConfig = (over: Partial<DeployConfig> = {}): DeployConfig => ({
  enabled: true,
  branches: [],
  repository: 'mirage/mirage-www-deployment',
  key: 'k',
  serverUrl: 'https://github.com',
  compression: 'bzip2',
  keep: 0,
  commitUserName: 'github-actions[bot]',
  commitUserEmail: 'bot@example.invalid',
  dryRun: false,
  directory: 'xen',
  bootArgs: [],
  environment: 'xen',
  ...over,
});

const context = (eventName: string, ref: string, body: EventPayload): RunContext =>
  testContext({
    eventName,
    payload: body,
    ref,
    sha: '0123456789abcdef0123456789abcdef01234567',
    workspace: '/w',
    runnerTemp: '/t',
  });

const push = payload('push-default-branch');
const dispatch = payload('workflow_dispatch');
const fork = payload('pull_request-fork');
const samePr = payload('pull_request-same-repo');
const deletedFork: EventPayload = {
  ...fork,
  pull_request: { ...fork.pull_request, head: { ref: 'x', repo: null } },
};
const noDefault: EventPayload = { ref: 'refs/heads/main', repository: { full_name: 'mirage/mirage-www' } };

type Row = [string, Partial<DeployConfig>, string, string, EventPayload, boolean, RegExp];

const table: Row[] = [
  ['push to the default branch', {}, 'push', 'refs/heads/main', push, true, /^push to main, a deploy branch$/],
  [
    'manual run on the default branch',
    {},
    'workflow_dispatch',
    'refs/heads/main',
    dispatch,
    true,
    /^manual run on main/,
  ],
  ['deploy: false', { enabled: false }, 'push', 'refs/heads/main', push, false, /^input `deploy` is false$/],
  [
    'push to another branch',
    {},
    'push',
    'refs/heads/feature/blog',
    push,
    false,
    /refs\/heads\/feature\/blog is not a deploy branch \(the default branch: main\)/,
  ],
  [
    'push to a listed branch',
    { branches: ['live', 'feature/blog'] },
    'push',
    'refs/heads/feature/blog',
    push,
    true,
    /push to feature\/blog/,
  ],
  [
    'listed branches replace the default',
    { branches: ['live'] },
    'push',
    'refs/heads/main',
    push,
    false,
    /`deploy-branches`: live/,
  ],
  [
    'a branch that only shares a prefix',
    { branches: ['main'] },
    'push',
    'refs/heads/main-old',
    push,
    false,
    /not a deploy branch/,
  ],
  ['a tag push', {}, 'push', 'refs/tags/main', push, false, /refs\/tags\/main is not a branch/],
  [
    'same-repository pull request',
    {},
    'pull_request',
    'refs/pull/42/merge',
    samePr,
    false,
    /^pull requests never deploy$/,
  ],
  ['pull request from a fork', {}, 'pull_request', 'refs/pull/42/merge', fork, false, /fork \(mallory\/mirage-www\)/],
  [
    'pull request whose fork was deleted',
    {},
    'pull_request',
    'refs/pull/42/merge',
    deletedFork,
    false,
    /from a fork that was deleted never deploys/,
  ],
  ['fork payload under another event name', {}, 'push', 'refs/heads/main', fork, false, /fork \(mallory/],
  [
    'pull request review',
    {},
    'pull_request_review',
    'refs/pull/42/merge',
    samePr,
    false,
    /^pull requests never deploy$/,
  ],
  ['a schedule', {}, 'schedule', 'refs/heads/main', push, false, /`schedule` runs never deploy/],
  ['a release', {}, 'release', 'refs/tags/v1', push, false, /`release` runs never deploy/],
  [
    'no default branch in the payload',
    {},
    'push',
    'refs/heads/main',
    noDefault,
    false,
    /list the branches in `deploy-branches`/,
  ],
  [
    'no default branch, listed branch',
    { branches: ['main'] },
    'push',
    'refs/heads/main',
    noDefault,
    true,
    /push to main/,
  ],
];

describe('decideDeploy', () => {
  it.each(table)('%s', (_name, over, event, ref, body, deploy, reason) => {
    const decision = decideDeploy(deployConfig(over), context(event, ref, body));
    expect(decision.deploy).toBe(deploy);
    expect(decision.reason).toMatch(reason);
  });

  it('refuses deploy: true under pull_request_target as bad input, saying why', () => {
    const run = () => decideDeploy(deployConfig(), context('pull_request_target', 'refs/heads/main', fork));
    expect(run).toThrow(ConfigError);
    try {
      run();
    } catch (error) {
      expect((error as ConfigError).problems).toHaveLength(1);
      expect((error as ConfigError).problems[0]?.input).toBe('deploy');
      expect((error as ConfigError).message).toMatch(/pull_request_target.*secrets.*fork.*`push`/s);
    }
  });

  it('lets pull_request_target through when deploy is off', () => {
    const decision = decideDeploy(
      deployConfig({ enabled: false }),
      context('pull_request_target', 'refs/heads/main', fork),
    );
    expect(decision).toEqual({ deploy: false, reason: 'input `deploy` is false' });
  });
});
