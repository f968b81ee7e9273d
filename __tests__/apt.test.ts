import { describe, expect, it } from 'vitest';
import { aptCommand, aptLockConflict, describeConflict, isFetchFailure, lockRetryWait } from '../src/apt.js';

describe('aptCommand', () => {
  it('installs only on a hosted runner, as root directly or else through sudo', () => {
    expect(aptCommand({ hosted: true, privilege: 'root' })).toEqual(['apt-get']);
    expect(aptCommand({ hosted: true, privilege: 'sudo' })).toEqual([
      'sudo',
      'DEBIAN_FRONTEND=noninteractive',
      'apt-get',
    ]);
    expect(aptCommand({ hosted: true, privilege: 'none' })).toBeUndefined();
    expect(aptCommand({ hosted: false, privilege: 'root' })).toBeUndefined();
  });
});

describe('isFetchFailure', () => {
  // apt-get's messages, as hosted runners print them (setup-ocaml #633, #677, #918) and offline.
  it.each([
    'E: Failed to fetch http://azure.archive.ubuntu.com/ubuntu/pool/main/libs/libseccomp/libseccomp-dev_2.5.5-1ubuntu3_amd64.deb  404  Not Found [IP: 52.147.219.192 80]',
    'E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?',
    "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'",
    'E: Failed to fetch https://packages.microsoft.com/ubuntu/24.04/prod/dists/noble/InRelease  Hash Sum mismatch',
  ])('a download that did not happen: %s', (text) => {
    expect(isFetchFailure(`Reading package lists...\n${text}\n`)).toBe(true);
  });

  it.each([
    'E: Unable to locate package libseccomp-devx',
    'E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)',
    "E: Unmet dependencies. Try 'apt --fix-broken install' with no packages (or specify a solution).",
    '',
  ])('not a download problem: %j', (text) => {
    expect(isFetchFailure(text)).toBe(false);
  });
});

describe('aptLockConflict', () => {
  // apt 2.6's words, checked against the real apt-get with its locks held by another process.
  it.each([
    [
      'E: Could not get lock /var/lib/apt/lists/lock. It is held by process 6184 (apt-get)\nE: Unable to lock directory /var/lib/apt/lists/\n',
      { lock: '/var/lib/apt/lists/lock', holder: 'process 6184 (apt-get)' },
    ],
    [
      'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 881 (unattended-upgr)\n' +
        'E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n',
      { lock: '/var/lib/dpkg/lock-frontend', holder: 'process 881 (unattended-upgr)' },
    ],
    [
      // after DPkg::Lock::Timeout: the holder is on the waiting lines, the last one counts
      'Waiting for cache lock: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 12 (apt-get)...\n' +
        'Waiting for cache lock: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 13 (python3)...\n' +
        'E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n',
      { lock: '/var/lib/dpkg/lock-frontend', holder: 'process 13 (python3)' },
    ],
    [
      // quiet (-qq): no holder named
      'E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n',
      { lock: '/var/lib/dpkg/lock-frontend' },
    ],
    [
      'E: Could not get lock /var/lib/dpkg/lock - open (11: Resource temporarily unavailable)\nE: Unable to lock the administration directory (/var/lib/dpkg/), is another process using it?\n',
      { lock: '/var/lib/dpkg/lock' },
    ],
  ])('%j', (output, conflict) => {
    expect(aptLockConflict(output)).toEqual(conflict);
  });

  it.each([
    '',
    'E: Unable to locate package libseccomp-devx',
    'E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)',
    // waited, got the lock, then failed for another reason: not a lock conflict
    'Waiting for cache lock: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 12 (apt-get)...\nE: Unable to locate package nope',
  ])('not a lock held by another: %j', (output) => {
    expect(aptLockConflict(output)).toBeUndefined();
  });

  it('says who holds the lock', () => {
    expect(describeConflict({ lock: '/var/lib/apt/lists/lock', holder: 'process 6184 (apt-get)' })).toBe(
      '/var/lib/apt/lists/lock is held by process 6184 (apt-get)',
    );
    expect(describeConflict({ lock: '/var/lib/dpkg/lock' })).toBe('/var/lib/dpkg/lock is held by another process');
  });
});

describe('lockRetryWait', () => {
  it.each<[number, number, number | undefined]>([
    [0, 300_000, 1000],
    [1, 300_000, 2000],
    [2, 300_000, 4000],
    [3, 300_000, 5000],
    [30, 300_000, 5000],
    [3, 1500, 1500], // never past the deadline
    [0, 0, undefined],
    [5, -10, undefined],
  ])('attempt %i with %i ms left: %j', (attempt, left, wait) => {
    expect(lockRetryWait(attempt, left)).toBe(wait);
  });
});
