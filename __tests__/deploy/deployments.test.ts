import { context } from '@actions/github';
import { describe, expect, it, vi } from 'vitest';
import { readContext } from '../../src/context.js';
import { deploymentRequest, recordWarning, statusRequest } from '../../src/deploy/deployments.js';

describe('GitHub deployment records', () => {
  it('ask for the sha itself: no merge of the default branch, no required checks', () => {
    expect(deploymentRequest('a'.repeat(40), 'xen', 'mir-mirage.io.xen.bz2 into xen/aaa')).toEqual({
      ref: 'a'.repeat(40),
      environment: 'xen',
      description: 'mir-mirage.io.xen.bz2 into xen/aaa',
      auto_merge: false,
      required_contexts: [],
      transient_environment: false,
    });
    expect(deploymentRequest('a', 'xen', 'x'.repeat(200)).description).toHaveLength(140);
  });

  it('statuses link the run, and the deploy folder when it has a web page', () => {
    expect(statusRequest('in_progress', 'https://run')).toEqual({
      state: 'in_progress',
      description: 'pushing the image',
      log_url: 'https://run',
    });
    expect(statusRequest('success', 'https://run', 'https://github.com/o/r-deployment/tree/c/xen/s')).toEqual({
      state: 'success',
      description: 'image deployed',
      log_url: 'https://run',
      environment_url: 'https://github.com/o/r-deployment/tree/c/xen/s',
    });
    expect(statusRequest('failure', '')).toEqual({ state: 'failure', description: 'deploy failed' });
  });

  it('warnings name the input and the fix', () => {
    expect(recordWarning('creating the GitHub deployment', 403, 'Resource not accessible by integration')).toBe(
      'input `github-token`: creating the GitHub deployment failed (403: Resource not accessible by integration); ' +
        'give the token `deployments: write` (workflow `permissions: deployments: write`), or leave `github-token` empty',
    );
    expect(recordWarning('x', 409, 'Conflict')).toMatch(/merge the default branch or required status checks/);
    expect(recordWarning('x', undefined, 'fetch failed')).toMatch(/\(no answer: fetch failed\); the deploy itself/);
  });

  it('the API base comes from GITHUB_API_URL (GitHub Enterprise Server), else api.github.com', () => {
    // The toolkit's context reads the environment when it is made: a fresh one for each environment.
    const Context = context.constructor as new () => typeof context;
    const apiUrlWith = (value: string | undefined): string => {
      vi.stubEnv('GITHUB_API_URL', value);
      return readContext(new Context()).apiUrl;
    };
    try {
      expect(apiUrlWith('https://ghes.example/api/v3/')).toBe('https://ghes.example/api/v3');
      expect(apiUrlWith(undefined)).toBe('https://api.github.com');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
