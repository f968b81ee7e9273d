/**
 * The cache around the build, through the bundle: a cache service that accepts and never answers
 * costs one deadline and one warning, not the job; and a failed main step saves nothing even with
 * the service up (post reads `main-succeeded`, which only a successful main sets).
 */
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_DEADLINE_ENV } from '../../src/deadlines.js';
import { useCacheService } from '../support/cache-scope.js';
import { useFixtureScope } from '../support/fixture-action.js';

const fixture = useFixtureScope('cache-deadline-');
const cache = useCacheService();

function build(name: string, env: Record<string, string>, inputs: Record<string, string> = {}) {
  return fixture.runExample({ workspace: join(name, 'workspace'), opamRoot: join(name, 'opam-root'), env, inputs });
}

describe('cache', () => {
  it('a failed main step leaves main-succeeded unset, and post saves nothing though the service is up', async () => {
    const result = await build('failed', cache.service.env, { 'build-command': 'false' });
    expect(result.main.exitCode).toBe(1);
    expect(result.state['main-succeeded']).toBeUndefined();
    expect(JSON.parse(result.state['caches-to-save'] ?? '[]').length).toBeGreaterThan(0);
    expect(result.log).toMatch(/cache opam: not saved: the main step did not succeed/);
    expect(result.log).not.toMatch(/cache \w+: saving/);
    expect(cache.service.entries()).toEqual([]);
  }, 300_000);

  it('a service that accepts and never answers: one warning at the deadline, the build goes on, post saves nothing', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const result = await build('silent', {
        ...cache.service.env,
        ACTIONS_RESULTS_URL: `http://127.0.0.1:${port}/`,
        [TEST_DEADLINE_ENV]: '3000',
      });
      expect(result.main.exitCode, result.log).toBe(0);
      expect(sockets.size).toBeGreaterThan(0);
      const warnings = result.log.split('\n').filter((l) => /^::warning.*cache/.test(l));
      expect(warnings).toHaveLength(1);
      // the lookup's deadline (seconds), not the restore's (minutes): the test variable caps both at 3 s
      expect(warnings[0]).toMatch(
        /the cache service did not answer a lookup within 3 s; this run goes on without a cache/,
      );
      expect(result.log).toMatch(
        /^cache duniverse: not restored: the cache service did not answer a lookup within 3 s$/m,
      );
      expect(result.outputs['image-sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(result.state['caches-to-save']).toBeUndefined();
      expect(result.post?.exitCode).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  }, 300_000);
});
