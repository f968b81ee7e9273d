import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type Config } from '../../src/config.js';
import { testContext } from '../support/context.js';

let workspace: string;
beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'preview-config-'));
  writeFileSync(join(workspace, 'config.ml'), 'let () = ()\n');
});

function parse(inputs: Record<string, string>): Config {
  return parseConfig((name) => inputs[name] ?? '', testContext({ workspace, runnerTemp: tmpdir() }));
}

function problems(inputs: Record<string, string>): string {
  try {
    parse(inputs);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the preview inputs', () => {
  it('are off by default; preview-key is a secret the build sandbox counts', () => {
    expect(parse({}).preview).toEqual({ comment: false });
    const config = parse({ 'pr-comment': 'true', 'github-token': 'ghs_x', 'preview-key': 'KEY' });
    expect(config.preview).toEqual({ comment: true, key: 'KEY' });
    expect(config.sandbox.secretsHeld).toEqual(['github-token', 'preview-key']);
  });

  it('pr-comment-from builds nothing: no sources needed, the path resolved in the workspace', () => {
    const config = parse({
      'pr-comment-from': 'preview.json',
      'github-token': 'ghs_x',
      'working-directory': 'nowhere',
    });
    expect(config.preview.from).toBe(join(workspace, 'preview.json'));
  });

  it('refuses a comment without a token, the deploy key as preview key, and pr-comment-from with a deploy', () => {
    expect(problems({ 'pr-comment': 'true' })).toMatch(/^input `pr-comment`: .*`github-token`, which is empty/);
    expect(problems({ 'pr-comment': 'true', 'github-token': 'ghs_x', 'deploy-key': 'K', 'preview-key': 'K' })).toMatch(
      /input `preview-key`: is the deploy key; give a read-only key/,
    );
    expect(problems({ 'preview-key': 'K' })).toMatch(/input `preview-key`: is only read with `pr-comment: true`/);
    expect(problems({ 'pr-comment-from': 'p.json', 'github-token': 'ghs_x', deploy: 'true' })).toMatch(
      /input `pr-comment-from`: only comments/,
    );
  });
});
