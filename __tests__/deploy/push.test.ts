import { describe, expect, it } from 'vitest';
import {
  classifyPush,
  isTransientFailure,
  MAX_PUSH_ATTEMPTS,
  remoteLines,
  retryDelay,
} from '../../src/deploy/push-result.js';

const C = 'c'.repeat(40);
const porcelain = (flag: string, summary: string) =>
  `To ssh://host/repo.git\n${flag}\t${C}:refs/heads/main\t${summary}\nDone\n`;

describe('classifyPush', () => {
  const cases: Array<[string, number, string, string, string | undefined, RegExp | undefined]> = [
    ['a fast-forward', 0, porcelain(' ', 'aaaaaaa..bbbbbbb'), '', 'pushed', undefined],
    ['a new branch', 0, porcelain('*', '[new branch]'), '', 'pushed', undefined],
    [
      'the branch moved',
      1,
      porcelain('!', '[rejected] (fetch first)'),
      'hint: Updates were rejected',
      'retry',
      /fetch first/,
    ],
    ['not a fast-forward', 1, porcelain('!', '[rejected] (non-fast-forward)'), '', 'retry', /non-fast-forward/],
    [
      'a concurrent push held the lock',
      1,
      porcelain('!', '[remote rejected] (failed to update ref)'),
      "remote: error: cannot lock ref 'refs/heads/main': Unable to create '/r/refs/heads/main.lock': File exists.",
      'retry',
      /locked/,
    ],
    [
      'a protected branch',
      1,
      porcelain('!', '[remote rejected] (pre-receive hook declined)'),
      'remote: error: GH006: Protected branch update failed for refs/heads/main.\nremote: error: Changes must be made through a pull request.',
      'refused',
      /GH006: Protected branch update failed .* Changes must be made through a pull request\./,
    ],
    [
      'a file over the limit',
      1,
      porcelain('!', '[remote rejected] (pre-receive hook declined)'),
      'remote: error: GH001: Large files detected.',
      'refused',
      /GH001/,
    ],
  ];
  it.each(cases)('%s', (_name, exitCode, stdout, stderr, kind, reason) => {
    const verdict = classifyPush({ exitCode, stdout, stderr }, 'main');
    expect(verdict?.kind).toBe(kind);
    if (reason && verdict && verdict.kind !== 'pushed') expect(verdict.reason).toMatch(reason);
  });

  it.each([
    ['GH006: Protected branch', /deploy-repository-branch/],
    ['GH001: Large files detected', /compression: xz/],
    ['some policy', /server-side hook/],
  ])('a refusal for %s carries a hint', (said, hint) => {
    const verdict = classifyPush(
      {
        exitCode: 1,
        stdout: porcelain('!', '[remote rejected] (pre-receive hook declined)'),
        stderr: `remote: ${said}`,
      },
      'main',
    );
    expect(verdict?.kind === 'refused' && verdict.hint).toMatch(hint);
  });

  it('is undefined when git printed no status for the ref (no connection, no access)', () => {
    expect(
      classifyPush({ exitCode: 128, stdout: '', stderr: 'fatal: Could not read from remote repository.' }, 'main'),
    ).toBeUndefined();
    expect(
      classifyPush({ exitCode: 1, stdout: porcelain('!', '[rejected] (fetch first)'), stderr: '' }, 'other'),
    ).toBeUndefined();
  });

  it("keeps only the server's own lines", () => {
    expect(remoteLines('remote: error: GH006: x\nremote: \nTo host\nremote:y\n')).toEqual(['error: GH006: x', 'y']);
  });
});

describe('retryDelay', () => {
  it('grows from a quarter second to a ceiling of 8 s, jittered into the upper half', () => {
    const ceilings = Array.from({ length: MAX_PUSH_ATTEMPTS }, (_, i) => retryDelay(i + 2, () => 1));
    expect(ceilings.slice(0, 7)).toEqual([250, 500, 1000, 2000, 4000, 8000, 8000]);
    expect(retryDelay(3, () => 0)).toBe(250);
    expect(retryDelay(3, () => 0.5)).toBe(375);
  });

  it('spreads jobs that lost the same race', () => {
    const seen = new Set([0, 0.2, 0.4, 0.6, 0.8].map((r) => retryDelay(6, () => r)));
    expect(seen.size).toBe(5);
  });
});

describe('isTransientFailure', () => {
  it.each([
    [
      'a 502 from receive-pack',
      'error: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502\nsend-pack: unexpected disconnect while reading sideband packet',
      true,
    ],
    [
      'a 503 on the ref advertisement',
      "fatal: unable to access 'https://h/r.git/': The requested URL returned error: 503",
      true,
    ],
    [
      'sshd over MaxStartups',
      'kex_exchange_identification: Connection closed by remote host\nConnection closed by 127.0.0.1 port 2222\nfatal: Could not read from remote repository.',
      true,
    ],
    [
      'a reset connection',
      'kex_exchange_identification: read: Connection reset by peer\nfatal: Could not read from remote repository.',
      true,
    ],
    ['an answer lost on the way', 'fatal: the remote end hung up unexpectedly', true],
    [
      'a 403',
      "remote: Permission to o/r.git denied to x.\nfatal: unable to access 'https://h/r.git/': The requested URL returned error: 403",
      false,
    ],
    ['a 401', "fatal: Authentication failed for 'https://h/r.git/'", false],
    ['an unknown key', 'git@h: Permission denied (publickey).\nfatal: the remote end hung up unexpectedly', false],
    ['a changed host key', 'Host key verification failed.\nfatal: the remote end hung up unexpectedly', false],
    ['a missing repository', 'ERROR: Repository not found.\nfatal: the remote end hung up unexpectedly', false],
    ['a hook refusing the push', 'remote: error: hook declined\nerror: failed to push some refs', false],
  ])('%s: %s', (_name, stderr, transient) => {
    expect(isTransientFailure({ exitCode: 128, stderr })).toBe(transient);
  });

  it('never a command killed at its deadline, nor a success', () => {
    expect(
      isTransientFailure({ exitCode: 137, stderr: 'fatal: the remote end hung up unexpectedly', timedOut: true }),
    ).toBe(false);
    expect(isTransientFailure({ exitCode: 0, stderr: 'fatal: the remote end hung up unexpectedly' })).toBe(false);
  });
});
