import * as core from '@actions/core';
import { describe, expect, it } from 'vitest';
import { captureRestoreFailures, restoreFailureIn } from '../../src/cache/client-report.js';

describe('restoreFailureIn', () => {
  it.each([
    [
      '::warning::Failed to restore: connect ECONNREFUSED 127.0.0.1:9\n',
      'Failed to restore: connect ECONNREFUSED 127.0.0.1:9',
    ],
    ['::error::Failed to restore: Failed request: (500) boom\n', 'Failed to restore: Failed request: (500) boom'],
    ['::warning file=x::Failed to restore: a%0Ab 100%25\n', 'Failed to restore: a\nb 100%'],
    ['::warning::Failed to save: nope\n', undefined],
    ['::warning::something else\n', undefined],
    ['Cache restored successfully\n', undefined],
    ['Failed to restore: plain text is not a report\n', undefined],
  ])('%j → %j', (chunk, failure) => {
    expect(restoreFailureIn(chunk)).toBe(failure);
  });
});

describe('captureRestoreFailures', () => {
  it("takes the client's failure report off stdout, lets everything else through and restores stdout", async () => {
    const original = process.stdout.write;
    const seen: string[] = [];
    const { value, failures } = await captureRestoreFailures(async () => {
      // The same calls the real client makes, through the real @actions/core.
      core.warning('Failed to restore: Unable to make request: ECONNREFUSED');
      const passed = process.stdout.write('an ordinary line\n', () => seen.push('callback'));
      seen.push(String(passed));
      return 'result';
    });
    expect(value).toBe('result');
    expect(failures).toEqual(['Failed to restore: Unable to make request: ECONNREFUSED']);
    expect(seen).toContain('true');
    expect(process.stdout.write).toBe(original);
  });

  it('restores stdout when the restore throws', async () => {
    const original = process.stdout.write;
    await expect(
      captureRestoreFailures(async () => {
        throw new Error('validation');
      }),
    ).rejects.toThrow('validation');
    expect(process.stdout.write).toBe(original);
  });
});
