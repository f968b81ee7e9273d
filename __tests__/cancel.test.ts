import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// The cancellation is one per process: each test imports fresh modules.
async function fresh() {
  vi.resetModules();
  const cancel = await import('../src/cancel.js');
  const exec = await import('../src/exec.js');
  const deadlines = await import('../src/deadlines.js');
  return { ...cancel, ...exec, ...deadlines };
}

/** Processes, not zombies, whose command line is `cmdline` (NUL-separated). */
function running(cmdline: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') return false;
        return readFileSync(`/proc/${e}/cmdline`, 'utf8') === cmdline;
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function gone(cmdlines: string[], withinMs: number): Promise<number[]> {
  const all = () => cmdlines.flatMap(running);
  let left = all();
  for (const until = Date.now() + withinMs; left.length > 0 && Date.now() < until; left = all()) await sleep(20);
  return left;
}

describe('cancelling the job', () => {
  let m: Awaited<ReturnType<typeof fresh>>;
  beforeEach(async () => {
    m = await fresh();
  });

  it('kills a running command with a deadline and everything it started, and says so', async () => {
    // Durations no other process uses: they name the two sleeps.
    const seconds = 100_000 + Math.floor(Math.random() * 100_000);
    const sleeps = [`sleep\0${seconds}\0`, `sleep\0${seconds + 1}\0`];
    const result = m.runCommand('sh', ['-c', `sleep ${seconds} & exec sleep ${seconds + 1}`], {
      silent: true,
      deadlineMs: 600_000,
    });
    for (const until = Date.now() + 5_000; sleeps.flatMap(running).length < 2 && Date.now() < until;) await sleep(20);
    expect(sleeps.flatMap(running)).toHaveLength(2);
    m.cancel('SIGTERM');
    expect(await result).toMatchObject({ exitCode: 137, cancelled: 'SIGTERM' });
    expect(await gone(sleeps, 2_000)).toEqual([]);
  });

  it('starts no command with a deadline afterwards', async () => {
    m.cancel('SIGINT');
    await expect(m.runCommand('true', [], { deadlineMs: 1_000 })).rejects.toThrow(
      /the job was cancelled \(SIGINT\): `true ` was not started/,
    );
  });

  it('expires every pending deadline at once', async () => {
    const pending = m.withDeadline(new Promise(() => undefined), 600_000);
    const signal = m.deadlineSignal(600_000);
    m.cancel('SIGINT');
    expect(await pending).toBe(m.TIMED_OUT);
    expect(signal.aborted).toBe(true);
  });
});
