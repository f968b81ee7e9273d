import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './support/harness.js';

// scripts/check-outputs.sh is what the self-test workflow runs after `uses: ./`.
const dir = mkdtempSync(join(tmpdir(), 'check-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const image = join(dir, 'hello.hvt');
writeFileSync(image, 'an image');
const good = {
  IMAGE: image,
  IMAGE_SHA256: createHash('sha256').update('an image').digest('hex'),
  IMAGE_SIZE: '8',
  CACHE_HIT: 'miss',
  OCAML_VERSION: '5.4.1',
  DEPLOYED: 'false',
};

function check(env: Record<string, string>) {
  const result = spawnSync('sh', [join(PROJECT_ROOT, 'scripts/check-outputs.sh')], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stderr: result.stderr };
}

describe('scripts/check-outputs.sh', () => {
  it('accepts outputs that describe the image', () => {
    expect(check(good)).toEqual({ status: 0, stderr: '' });
    expect(check({ ...good, DEPLOY_PATH: 'unix/abc', EXPECTED_DEPLOY_PATH: 'unix/abc' }).status).toBe(0);
  });

  it.each<[string, Record<string, string>, string]>([
    ['a wrong digest', { IMAGE_SHA256: '0'.repeat(64) }, 'output image-sha256'],
    ['a wrong size', { IMAGE_SIZE: '9' }, 'output image-size'],
    ['a missing image', { IMAGE: join(dir, 'none') }, 'output image'],
    ['an unknown cache-hit', { CACHE_HIT: '' }, 'output cache-hit'],
    ['no OCaml version', { OCAML_VERSION: '' }, 'output ocaml-version'],
    ['a deploy where none was asked', { DEPLOYED: 'true' }, 'output deployed'],
    ['another deploy path', { DEPLOY_PATH: 'unix/abc', EXPECTED_DEPLOY_PATH: 'unix/def' }, 'output deploy-path'],
  ])('refuses %s, naming the output', (_, change, message) => {
    const result = check({ ...good, ...change });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
  });
});
