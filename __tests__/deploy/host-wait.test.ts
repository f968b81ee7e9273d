import { describe, expect, it } from 'vitest';
import { hostPollPause, hostReport, hostVerdict, waitForHost, type ListedStatus } from '../../src/deploy/host-wait.js';
import { recordContent } from '../../src/deploy/plan.js';

describe('hostVerdict: the newest success or failure, the statuses listed newest first', () => {
  it('none while only in_progress', () => {
    expect(hostVerdict([{ state: 'in_progress' }, { state: 'in_progress' }])).toBeUndefined();
    expect(hostVerdict([])).toBeUndefined();
  });

  it('the newest of them', () => {
    const failure = { state: 'failure', description: 'rolled back' };
    expect(hostVerdict([failure, { state: 'success' }, { state: 'in_progress' }])).toBe(failure);
  });
});

describe('hostReport', () => {
  it('success, failure with the host reason, a timeout naming the host command', () => {
    expect(hostReport({ state: 'success', description: 'runs on h' }, 240, 'xen/abc')).toEqual({
      status: 'success',
      message: 'the host runs xen/abc: runs on h',
    });
    expect(hostReport({ state: 'failure', description: 'the restart command failed on h' }, 240, 'xen/abc')).toEqual({
      status: 'failure',
      message: 'the host did not keep xen/abc and rolled back: the restart command failed on h',
    });
    const timeout = hostReport(undefined, 240, 'xen/abc');
    expect(timeout.status).toBe('timeout');
    expect(timeout.message).toMatch(/^input `wait-for-host`: no report from the host within 240 s/);
    expect(timeout.message).toContain('mirage-deploy-pull');
  });
});

describe('hostPollPause: 1 s after the first request, doubling, at most the 10 s interval', () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [4, 8_000],
    [5, 10_000],
    [40, 10_000],
    [10_000, 10_000],
  ])('after request %i: %i ms', (asked, ms) => {
    expect(hostPollPause(asked)).toBe(ms);
  });
});

describe('waitForHost', () => {
  it('asks until the host reports, and survives a failed request', async () => {
    process.env.MIRAGE_DEPLOY_TEST_DEADLINE_MS = '10';
    try {
      const answers: Array<ListedStatus[] | Error> = [
        [{ state: 'in_progress' }],
        new Error('502'),
        [{ state: 'success', description: 'ok' }, { state: 'in_progress' }],
      ];
      let asked = 0;
      const report = await waitForHost(
        async () => {
          const next = answers[asked++];
          if (next instanceof Error) throw next;
          return next ?? [];
        },
        60,
        'xen/abc',
      );
      expect(asked).toBe(3);
      expect(report.status).toBe('success');
    } finally {
      delete process.env.MIRAGE_DEPLOY_TEST_DEADLINE_MS;
    }
  });

  it('gives up at the time given', async () => {
    process.env.MIRAGE_DEPLOY_TEST_DEADLINE_MS = '100';
    try {
      const started = Date.now();
      const report = await waitForHost(async () => [{ state: 'in_progress' }], 1, 'xen/abc');
      expect(report.status).toBe('timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    } finally {
      delete process.env.MIRAGE_DEPLOY_TEST_DEADLINE_MS;
    }
  });
});

describe('recordContent', () => {
  it('key=value lines the host reads with sed', () => {
    expect(recordContent({ repository: 'mirage/mirage-www', id: 1234, environment: 'xen', sha: 'a'.repeat(40) })).toBe(
      `repository=mirage/mirage-www\nid=1234\nenvironment=xen\nsha=${'a'.repeat(40)}\n`,
    );
  });
});
