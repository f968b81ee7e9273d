import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inputsParser } from '../support/config-inputs.js';

const inputs = inputsParser('preview-config-');
const { parse, workspace } = inputs;
const problems = (given: Record<string, string>) => inputs.problems(given).join('\n');

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
