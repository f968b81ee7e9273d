/**
 * System packages under contention, through the bundle on a "GitHub-hosted runner" (root): apt's
 * and dpkg's locks held by another process for 20 s, and eight jobs of one machine at once. The
 * apt stand-ins are those of system-packages.test.ts (support/apt-machine.ts). In the slow group
 * (`npm run test:slow`): each holds the machine for tens of seconds by design.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aptMachine, hostedJob, lines, useDepexts } from '../support/apt-machine.js';
import { useFixtureScope } from '../support/fixture-action.js';

const fixture = useFixtureScope('system-packages-load-');
useDepexts(fixture);
const machine = (name: string, installed: readonly string[]) => aptMachine(fixture, name, installed);
const job = (name: string, path: string) => hostedJob(fixture, name, path);

describe('system packages on a hosted runner, root, when apt is busy', { timeout: 300_000 }, () => {
  it("waits while another process holds apt's and dpkg's locks for 20 s, then installs and succeeds", async () => {
    const { state, path } = machine('busy', []);
    // The other process takes the three locks the moment the action has asked dpkg-query, so that
    // apt-get finds them held for 20 s however long the setup took.
    writeFileSync(join(state, 'hold-on-query'), '20');
    const result = await job('busy', path);
    expect(result.main.exitCode, result.log).toBe(0);

    const [holder] = lines(join(state, 'held')).map((l) => l.split(' ')[1]);
    expect(result.log).toMatch(
      new RegExp(
        `apt-get update: ${state}/lists/lock is held by process ${holder} \\(python3\\); trying again in \\d+ s`,
      ),
    );
    const calls = lines(join(state, 'calls')).map((c) => c.replace(/^(?:-o \S+ )+/, ''));
    expect(calls.filter((c) => c === 'update -qq').length).toBeGreaterThan(1);
    expect(calls.at(-1)).toBe('install -y -q --no-install-recommends libgmp-dev');
    // the install happened after the other process let go
    const [released] = lines(join(state, 'released')).map(Number);
    const [installedAt] = lines(join(state, 'installs')).map((l) => Number(l.split(' ')[0]));
    expect(installedAt).toBeGreaterThan(released ?? Infinity);
  }, 300_000);

  it('eight jobs on one machine at once all succeed', async () => {
    const { state, path } = machine('eight', []);
    // The eight meet at apt-get: each one's first call waits for the others', so that they contend.
    writeFileSync(join(state, 'barrier'), '8');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => job(join('eight', `job-${i}`), path)));
    for (const result of results) expect(result.main.exitCode, result.log).toBe(0);
    expect(lines(join(state, 'installed'))).toContain('libgmp-dev');
    // seven of them found apt's index lock taken by another's `apt-get update`, and waited
    const waited = results.filter((r) =>
      /apt-get update: \S+\/lists\/lock is held by process \d+ \(python3\)/.test(r.log),
    );
    expect(waited.length).toBeGreaterThanOrEqual(7);
  }, 600_000);
});
