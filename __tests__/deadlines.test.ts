import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ALBATROSS_CLIENT_DOWNLOAD_DEADLINE_MS,
  APT_LOCK_DEADLINE_MS,
  CACHE_ANSWER_DEADLINE_MS,
  CACHE_DEADLINE_MS,
  CONNECT_SECONDS,
  deadline,
  GIT_DEADLINE_MS,
  GITHUB_API_DEADLINE_MS,
  LOW_SPEED_BYTES,
  LOW_SPEED_SECONDS,
  OPAM_DOWNLOAD_DEADLINE_MS,
  PUSH_STALL_MS,
  pushDeadline,
  seconds,
  TEST_DEADLINE_ENV,
} from '../src/deadlines.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('every deadline', () => {
  it.each<[string, number, number]>([
    ['one git command or push attempt', GIT_DEADLINE_MS, 15 * 60_000],
    ['a push without new progress', PUSH_STALL_MS, 2 * 60_000],
    ['one cache restore or save', CACHE_DEADLINE_MS, 20 * 60_000],
    ["the cache service's answer to a lookup", CACHE_ANSWER_DEADLINE_MS, 15_000],
    ['a GitHub API request', GITHUB_API_DEADLINE_MS, 20_000],
    ["opam's binary download", OPAM_DOWNLOAD_DEADLINE_MS, 5 * 60_000],
    ['the albatross-client download', ALBATROSS_CLIENT_DOWNLOAD_DEADLINE_MS, 5 * 60_000],
    ['a stalled transfer: bytes a second', LOW_SPEED_BYTES, 1000],
    ['a stalled transfer: for seconds', LOW_SPEED_SECONDS, 60],
    ['connecting for a download, seconds', CONNECT_SECONDS, 30],
    ["apt's and dpkg's locks", APT_LOCK_DEADLINE_MS, 5 * 60_000],
  ])('%s: %d', (_, value, expected) => {
    expect(value).toBe(expected);
  });

  it('a connection is given up on in seconds, long before a whole transfer', () => {
    expect(CACHE_ANSWER_DEADLINE_MS).toBeLessThanOrEqual(CACHE_DEADLINE_MS / 60);
    expect(CONNECT_SECONDS).toBeLessThanOrEqual(LOW_SPEED_SECONDS);
  });
});

describe('deadline', () => {
  it.each<[string | undefined, number, number]>([
    [undefined, CACHE_DEADLINE_MS, CACHE_DEADLINE_MS],
    ['3000', CACHE_DEADLINE_MS, 3000],
    ['3000', 1000, 1000],
    ['0', CACHE_ANSWER_DEADLINE_MS, CACHE_ANSWER_DEADLINE_MS],
    ['-5', CACHE_ANSWER_DEADLINE_MS, CACHE_ANSWER_DEADLINE_MS],
    ['soon', GIT_DEADLINE_MS, GIT_DEADLINE_MS],
  ])('with the test variable %j, %d ms is %d ms', (cap, ms, expected) => {
    if (cap !== undefined) vi.stubEnv(TEST_DEADLINE_ENV, cap);
    expect(deadline(ms)).toBe(expected);
  });

  it.each<[string | undefined, number]>([
    [undefined, GIT_DEADLINE_MS],
    ['3000', 6000],
    ['600000', 600_000],
    ['1000000', GIT_DEADLINE_MS],
  ])('with the test variable %j, a push attempt may take %d ms: two progress deadlines at least', (cap, expected) => {
    if (cap !== undefined) vi.stubEnv(TEST_DEADLINE_ENV, cap);
    expect(pushDeadline()).toBe(expected);
    expect(pushDeadline()).toBeGreaterThanOrEqual(2 * deadline(PUSH_STALL_MS));
  });

  it.each<[number, number]>([
    [15_000, 15],
    [1, 1],
    [1500, 2],
    [0, 1],
  ])('%d ms is %d whole seconds', (ms, s) => {
    expect(seconds(ms)).toBe(s);
  });
});
