import { describe, expect, it } from 'vitest';
import { aptCommand, isFetchFailure } from '../src/apt.js';

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
