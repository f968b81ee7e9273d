import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runCommand, tetherFor } from '../src/exec.js';

/** Processes, not zombies, whose command line is exactly `cmdline` (NUL-separated). */
function running(cmdline: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        return (
          stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z' && readFileSync(`/proc/${e}/cmdline`, 'utf8') === cmdline
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function poll(until: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !until() && Date.now() < end;) await sleep(20);
}

/** A node process that starts `command` under `prefix` in its own group, as exec.ts does, and waits. */
const PARENT = `
const { spawn } = require('node:child_process');
const [prefix, command] = JSON.parse(process.argv[1]);
spawn(prefix[0], [...prefix.slice(1), ...command], { detached: true, stdio: 'ignore' });
setInterval(() => undefined, 1000);
`;

describe('tetherFor without a PID namespace (setpriv and a group-killing shell)', () => {
  const prefix = tetherFor(() => false);

  it('runs the command with its input, output and exit status', () => {
    expect(prefix.length).toBeGreaterThan(0);
    const [program, ...args] = prefix;
    const result = spawnSync(program ?? '', [...args, 'sh', '-c', 'read x; echo "got $x"; exit 7'], {
      input: 'hello\n',
      encoding: 'utf8',
    });
    expect({ status: result.status, stdout: result.stdout }).toEqual({ status: 7, stdout: 'got hello\n' });
  });

  it('takes the command and what it started down when the parent is SIGKILLed', async () => {
    const seconds = 100_000 + Math.floor(Math.random() * 100_000);
    const sleeps = [`sleep\0${seconds}\0`, `sleep\0${seconds + 1}\0`];
    const command = ['sh', '-c', `sleep ${seconds} & sleep ${seconds + 1}`];
    const parent = spawn(process.execPath, ['-e', PARENT, JSON.stringify([prefix, command])], { stdio: 'ignore' });
    await poll(() => sleeps.flatMap(running).length === 2, 10_000);
    expect(sleeps.flatMap(running)).toHaveLength(2);
    parent.kill('SIGKILL');
    await poll(() => sleeps.flatMap(running).length === 0, 2_000);
    expect(sleeps.flatMap(running)).toEqual([]);
  });
});

describe('runCommand with a progress deadline (stallMs)', () => {
  it('stops a command that stopped printing, long before its deadline, and says it stalled', async () => {
    const result = await runCommand('sh', ['-c', 'echo started; exec sleep 600'], {
      silent: true,
      deadlineMs: 600_000,
      stallMs: 300,
    });
    expect(result).toMatchObject({ stalled: true, stdout: 'started\n' });
    expect(result.timedOut).toBeUndefined();
  });

  it('lets a command run while each byte, on either stream, comes within the progress deadline', async () => {
    // Each stream alone is silent for longer than the progress deadline: both must count.
    const script =
      'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do printf o; sleep 0.2; done; ' +
      'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do printf e >&2; sleep 0.2; done';
    const result = await runCommand('sh', ['-c', script], { silent: true, deadlineMs: 600_000, stallMs: 1_500 });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'o'.repeat(12), stderr: 'e'.repeat(12) });
    expect(result.stalled).toBeUndefined();
  });

  it('without one, only the deadline stops it, as before', async () => {
    const result = await runCommand('sh', ['-c', 'exec sleep 600'], { silent: true, deadlineMs: 300 });
    expect(result).toMatchObject({ timedOut: true });
    expect(result.stalled).toBeUndefined();
  });
});
