import { describe, expect, it } from 'vitest';
import {
  expectedDigest,
  isSupportedOpam,
  opamBinaryUrl,
  opamPlatform,
  parseOpamVersion,
} from '../../src/opam/binary.js';
import { OPAM_SHA512 } from '../../src/opam/checksums.js';

describe('opamPlatform', () => {
  it.each([
    ['Linux', 'X64', { arch: 'x86_64', os: 'linux' }],
    ['Linux', 'ARM64', { arch: 'arm64', os: 'linux' }],
    ['macOS', 'X64', { arch: 'x86_64', os: 'macos' }],
    ['macOS', 'ARM64', { arch: 'arm64', os: 'macos' }],
    ['macOS', 'arm64', { arch: 'arm64', os: 'macos' }],
  ])('%s %s → %j', (os, arch, platform) => {
    expect(opamPlatform(os, arch)).toEqual(platform);
  });

  it.each([
    ['Windows', 'X64'],
    ['Linux', 'X86'],
    ['Linux', 'ARM'],
  ])('refuses %s %s and points to `opam-version: system`', (os, arch) => {
    expect(() => opamPlatform(os, arch)).toThrow(
      new RegExp(`^input \`opam-version\`: .*not for ${os} ${arch}; .*\`opam-version: system\``),
    );
  });
});

describe('opamBinaryUrl', () => {
  const linux = { arch: 'x86_64', os: 'linux' } as const;
  it.each([
    ['2.4.1', undefined, 'https://github.com/ocaml/opam/releases/download/2.4.1/opam-2.4.1-x86_64-linux'],
    [
      '2.5.0~alpha1',
      undefined,
      'https://github.com/ocaml/opam/releases/download/2.5.0-alpha1/opam-2.5.0-alpha1-x86_64-linux',
    ],
    ['2.1.2', 'http://127.0.0.1:8080', 'http://127.0.0.1:8080/2.1.2/opam-2.1.2-x86_64-linux'],
    ['2.1.2', 'https://ghes.example/mirror/', 'https://ghes.example/mirror/2.1.2/opam-2.1.2-x86_64-linux'],
  ])('%s from %s → %s', (version, base, url) => {
    expect(opamBinaryUrl(version, linux, base)).toBe(url);
  });

  it('names the platform as opam release assets do', () => {
    expect(opamBinaryUrl('2.4.1', { arch: 'arm64', os: 'macos' })).toMatch(/\/opam-2\.4\.1-arm64-macos$/);
  });
});

describe('expectedDigest', () => {
  const linux = { arch: 'x86_64', os: 'linux' } as const;
  it('prefers the `opam-sha256` input, for mirror builds', () => {
    expect(expectedDigest('2.4.1', linux, 'AB'.repeat(32))).toEqual({
      algorithm: 'sha256',
      hex: 'ab'.repeat(32),
      source: 'input `opam-sha256`',
    });
  });

  it('uses the table for a listed release', () => {
    const digest = expectedDigest('2.4.1', linux);
    expect(digest.algorithm).toBe('sha512');
    expect(digest.hex).toMatch(/^0e659a8d9027/);
  });

  it('refuses a release the table lacks, naming the input that fixes it', () => {
    expect(() => expectedDigest('2.1.2', linux)).toThrow(
      /^input `opam-version`: the action has no checksum for opam 2\.1\.2 on linux x86_64, .*use one of 2\.4\.1, .*set `opam-sha256`/,
    );
  });
});

describe('the checksum table', () => {
  it('covers the default version and every supported platform of each release', () => {
    expect(Object.keys(OPAM_SHA512)).toContain('2.4.1');
    for (const [version, platforms] of Object.entries(OPAM_SHA512)) {
      expect(Object.keys(platforms).sort(), version).toEqual([
        'arm64-linux',
        'arm64-macos',
        'x86_64-linux',
        'x86_64-macos',
      ]);
      for (const sha of Object.values(platforms)) expect(sha).toMatch(/^[0-9a-f]{128}$/);
    }
  });

  it('holds no digest twice (a copy-paste slip would)', () => {
    const all = Object.values(OPAM_SHA512).flatMap((p) => Object.values(p));
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('opam versions', () => {
  it.each([
    ['2.1.2\n', '2.1.2'],
    ['2.4.1', '2.4.1'],
    ['2.5.0~alpha1\n', '2.5.0~alpha1'],
    ['opam: command not found', undefined],
    ['', undefined],
  ])('parseOpamVersion(%j) → %s', (output, version) => {
    expect(parseOpamVersion(output)).toBe(version);
  });

  it.each([
    ['2.0.10', false],
    ['1.2.2', false],
    ['2.1.0', true],
    ['2.1.2', true],
    ['2.4.1', true],
    ['3.0.0', true],
    ['2.5.0~alpha1', true],
  ])('isSupportedOpam(%s) → %s', (version, ok) => {
    expect(isSupportedOpam(version)).toBe(ok);
  });
});
