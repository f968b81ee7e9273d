import { describe, expect, it } from 'vitest';
import type { AlbatrossConfig } from '../../src/config.js';
import {
  consoleLines,
  createArgs,
  endpointsToRestore,
  explainExit,
  isListed,
  remoteArgs,
  runningOutput,
} from '../../src/albatross/plan.js';

const BASE: AlbatrossConfig = {
  repository: false,
  endpoints: ['a:1025', 'b:1025'],
  serverCa: 'pem',
  network: [],
  block: [],
  restartOnFail: false,
  bootWaitSeconds: 5,
};

describe('createArgs', () => {
  it('is create --force with the boot arguments, and the name and image after --', () => {
    expect(createArgs(BASE, { name: 'web', image: '/d/web.spt', bootArgs: ['--ipv4=10.0.0.2/24', '-v'] })).toEqual([
      'create',
      '--force',
      '--arg=--ipv4=10.0.0.2/24',
      '--arg=-v',
      '--',
      'web',
      '/d/web.spt',
    ]);
  });

  it('passes memory, cpu id, networks, block devices and restart-on-fail when given', () => {
    const config = {
      ...BASE,
      memory: 64,
      cpuid: 0,
      network: ['service:br0'],
      block: ['data:web-data'],
      restartOnFail: true,
    };
    expect(createArgs(config, { name: 'web', image: 'i', bootArgs: [] })).toEqual([
      'create',
      '--force',
      '--mem=64',
      '--cpu=0',
      '--net=service:br0',
      '--block=data:web-data',
      '--restart-on-fail',
      '--',
      'web',
      'i',
    ]);
  });
});

it('remoteArgs names the three files and the destination', () => {
  expect(remoteArgs({ caKey: '/c/k', caCert: '/c/c', serverCa: '/c/s' }, 'h:1')).toEqual([
    '--ca=/c/c',
    '--ca-key=/c/k',
    '--server-ca=/c/s',
    '--destination=h:1',
  ]);
});

describe('isListed', () => {
  const info =
    'host [unikernel: :]: [unikernel: :web]: typ solo5\nstarted 2026-12-07T17:54:05-00:00 fail behaviour quit\n';
  it.each([
    ['web', info, true],
    ['we', info, false],
    ['web', info.replace(':web]', ':ops:web]'), true],
    ['web', info.replace(']: typ', ']:\n typ'), true],
    ['web', 'host [unikernel: :]: \n', false],
    ['w.b', info, false],
  ])('%s in %j: %s', (name, text, listed) => expect(isListed(text, name)).toBe(listed));
});

describe('explainExit', () => {
  it.each([
    [116, /`albatross-ca-key`/],
    [117, /refused the command/],
    [122, /input `albatross-endpoints`: h:1 could not be reached/],
    [124, /refused the command or the image/],
    [3, /exit code 3 on h:1/],
  ])('%i', (code, pattern) => expect(explainExit(code, 'h:1')).toMatch(pattern));
});

describe('the restore set and albatross-running', () => {
  const results = [
    { endpoint: 'a', changed: true, running: true },
    { endpoint: 'b', changed: true, running: false },
  ];
  it('restores every endpoint create changed, the failed one included', () => {
    expect(endpointsToRestore(results)).toEqual(['a', 'b']);
    expect(endpointsToRestore([{ endpoint: 'a', changed: false, running: false }])).toEqual([]);
  });
  it('reports restored, failed and running', () => {
    expect(runningOutput(results, new Set(['a', 'b']))).toEqual({ a: 'restored', b: 'failed' });
    expect(runningOutput(results.slice(0, 1), new Set())).toEqual({ a: 'running' });
  });
});

it('consoleLines drops the subscription line and keeps the last lines', () => {
  const out = 'host [unikernel: :web]: success: subscribed\nconsole 1: a\n\nconsole 2: b\n';
  expect(consoleLines(out)).toEqual(['console 1: a', 'console 2: b']);
  expect(consoleLines(out, 1)).toEqual(['console 2: b']);
});
