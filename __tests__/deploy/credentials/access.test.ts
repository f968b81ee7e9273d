import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { openGitAccess } from '../../../src/deploy/credentials/access.js';
import { planEndpoint } from '../../../src/deploy/credentials/plan.js';
import { testContext } from '../../support/context.js';

describe('openGitAccess over HTTPS', () => {
  it("masks the token's base64 `x-access-token:` form itself, without the preflight having run", async () => {
    const token = 'github_pat_11AAAAAAA0masktesttoken';
    const ctx = testContext({ workspace: '/nonexistent', runnerTemp: '/nonexistent' });
    const inputs: Record<string, string> = {
      deploy: 'true',
      'deploy-repository': 'https://github.com/mirage/www-deployment.git',
      'deploy-token': token,
      'rollback-to': 'a'.repeat(40),
    };
    const config = parseConfig((name) => inputs[name] ?? '', ctx);
    const printed: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: unknown) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await openGitAccess({ endpoint: planEndpoint(config.deploy), secret: { kind: 'deploy-token', token } }, ctx);
    } finally {
      process.stdout.write = write;
    }
    const masks = printed.join('').match(/^::add-mask::(.*)$/gm) ?? [];
    expect(masks).toContain(`::add-mask::${Buffer.from(`x-access-token:${token}`).toString('base64')}`);
  });
});
