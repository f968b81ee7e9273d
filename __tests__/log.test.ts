import { describe, expect, it } from 'vitest';
import { formatSeconds, formatSize } from '../src/log.js';

describe('formatting', () => {
  it.each<[number, string]>([
    [0, '0 bytes'],
    [1023, '1023 bytes'],
    [1024, '1.0 KiB (1024 bytes)'],
    [5_242_880, '5.0 MiB (5242880 bytes)'],
  ])('%d bytes → %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('shows seconds with one decimal', () => {
    expect(formatSeconds(0.349)).toBe('0.3 s');
    expect(formatSeconds(12)).toBe('12.0 s');
  });
});
