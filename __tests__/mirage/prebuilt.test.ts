import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPrebuilt, parseBuildRecord } from '../../src/mirage/prebuilt.js';

const good = {
  schema: 1,
  target: 'xen',
  name: 'hello',
  image: 'hello.xen',
  sha256: 'a'.repeat(64),
  size: 42,
  configFile: 'config.ml',
  sideFiles: ['hello.xl'],
  lockFiles: ['hello-xen.opam.locked'],
  versions: { ocamlVersion: '5.4.1', opamVersion: '2.4.1', mirageVersion: '4.11.1' },
};

describe('parseBuildRecord', () => {
  it('takes a record the build wrote, with or without the SBOM sources', () => {
    expect(parseBuildRecord(JSON.stringify(good))).toEqual(good);
    const sbom = { ...good, lockFile: 'hello-xen.opam.locked', switchExport: 'hello.switch-export' };
    expect(parseBuildRecord(JSON.stringify(sbom))).toEqual(sbom);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['not an object', '"x"', /not a JSON object/],
    ['another schema', JSON.stringify({ ...good, schema: 2 }), /schema is 2/],
    ['an unknown target', JSON.stringify({ ...good, target: 'xenn' }), /target xenn is unknown/],
    ['a path as the image', JSON.stringify({ ...good, image: '../../etc/passwd' }), /`image` .* starts with `\.`/],
    [
      'a side file in a folder',
      JSON.stringify({ ...good, sideFiles: ['a/b'] }),
      /`sideFiles\[0\]` "a\/b" holds a character other/,
    ],
    ['`..` as the config', JSON.stringify({ ...good, configFile: '..' }), /`configFile` "\.\." starts with `\.`/],
    ['a short sha256', JSON.stringify({ ...good, sha256: 'abc' }), /malformed/],
    ['no versions', JSON.stringify({ ...good, versions: undefined }), /malformed/],
    ['a lock file it does not carry', JSON.stringify({ ...good, lockFile: 'other.opam.locked' }), /malformed/],
    ['a switch export in a folder', JSON.stringify({ ...good, switchExport: '../x' }), /`switchExport` "\.\.\/x"/],
    ['a hidden name', JSON.stringify({ ...good, name: '.mirage' }), /`name` "\.mirage" starts with `\.`/],
    ['an option-like image', JSON.stringify({ ...good, image: '-x' }), /`image` "-x" starts with `-`/],
    ['a config file with a space', JSON.stringify({ ...good, configFile: 'a b' }), /`configFile` "a b" holds a space/],
    [
      'a side file with a newline',
      JSON.stringify({ ...good, sideFiles: ['x\ny'] }),
      /`sideFiles\[0\]` .* holds a space or a control/,
    ],
    [
      'a lock file named `.git`',
      JSON.stringify({ ...good, lockFiles: ['ok', '.git'] }),
      /`lockFiles\[1\]` "\.git" starts with `\.`/,
    ],
    ['a number as the name', JSON.stringify({ ...good, name: 7 }), /`name` is not a file name/],
    ['no side file list', JSON.stringify({ ...good, sideFiles: 'hello.xl' }), /`sideFiles` is not a list/],
  ])('refuses %s', (_what, text, message) => {
    expect(parseBuildRecord(text)).toMatch(message);
  });
});

describe('loadPrebuilt', () => {
  const bases: string[] = [];
  afterAll(() => bases.forEach((base) => rmSync(base, { recursive: true, force: true })));

  /** A `dist/` as a build leaves it, with `mirage-deploy/` made by `handover` (a folder or a link). */
  function dist(handover: (dir: string) => void): string {
    const base = mkdtempSync(join(tmpdir(), 'prebuilt-test-'));
    bases.push(base);
    const distDir = join(base, 'dist');
    mkdirSync(distDir);
    const image = Buffer.from('image');
    writeFileSync(join(distDir, 'hello.xen'), image);
    const record = { ...good, sha256: createHash('sha256').update(image).digest('hex'), size: image.length };
    const outside = join(base, 'outside');
    mkdirSync(outside);
    for (const file of ['config.ml', 'hello.xl', 'hello-xen.opam.locked']) writeFileSync(join(outside, file), file);
    writeFileSync(join(outside, 'build.json'), JSON.stringify(record));
    handover(outside);
    return distDir;
  }

  it('takes a real mirage-deploy/ folder', async () => {
    const d = dist((outside) => renameSync(outside, join(dirname(outside), 'dist', 'mirage-deploy')));
    expect((await loadPrebuilt(d, true, 'xen')).image.name).toBe('hello');
  });

  it('refuses a mirage-deploy/ that is a link, even to a folder that would pass', async () => {
    const d = dist((outside) => symlinkSync(outside, join(dirname(outside), 'dist', 'mirage-deploy')));
    await expect(loadPrebuilt(d, true, 'xen')).rejects.toThrow(
      /^input `image-path`: .*\/dist\/mirage-deploy is a link, but the build leaves a folder there/,
    );
    await expect(loadPrebuilt(join(d, 'hello.xen'), false, 'xen')).rejects.toThrow(/mirage-deploy is a link/);
  });

  it('refuses a build.json that is a link', async () => {
    const d = dist((outside) => {
      const folder = join(dirname(outside), 'dist', 'mirage-deploy');
      renameSync(outside, folder);
      renameSync(join(folder, 'build.json'), join(dirname(outside), 'record.json'));
      symlinkSync(join(dirname(outside), 'record.json'), join(folder, 'build.json'));
    });
    await expect(loadPrebuilt(d, true, 'xen')).rejects.toThrow(
      /build\.json is not a regular file \(a link or a folder\)/,
    );
  });
});
