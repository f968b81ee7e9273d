import { afterEach, describe, expect, it } from 'vitest';
import {
  APT_LOCK_DEADLINE_MS,
  CACHE_DEADLINE_MS,
  GIT_DEADLINE_MS,
  GITHUB_API_DEADLINE_MS,
  TEST_DEADLINE_ENV,
  deadline,
  seconds,
} from '../src/deadlines.js';

describe('deadlines', () => {
  afterEach(() => {
    delete process.env[TEST_DEADLINE_ENV];
  });

  it.each<[string, number, number]>([
    ['git command', GIT_DEADLINE_MS, 15 * 60],
    ['cache restore or save', CACHE_DEADLINE_MS, 20 * 60],
    ['GitHub API request', GITHUB_API_DEADLINE_MS, 20],
    ["apt's and dpkg's locks", APT_LOCK_DEADLINE_MS, 5 * 60],
  ])('%s: %i ms is %i s, capped by the test variable only', (_, ms, s) => {
    expect(seconds(deadline(ms))).toBe(s);
    process.env[TEST_DEADLINE_ENV] = '3000';
    expect(deadline(ms)).toBe(Math.min(ms, 3000));
    process.env[TEST_DEADLINE_ENV] = 'not a number';
    expect(deadline(ms)).toBe(ms);
  });
});
