import { describe, expect, it } from 'vitest';
import { parseBuildRecord } from '../../src/mirage/prebuilt.js';

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
    ['a path as the image', JSON.stringify({ ...good, image: '../../etc/passwd' }), /malformed/],
    ['a side file in a folder', JSON.stringify({ ...good, sideFiles: ['a/b'] }), /malformed/],
    ['`..` as the config', JSON.stringify({ ...good, configFile: '..' }), /malformed/],
    ['a short sha256', JSON.stringify({ ...good, sha256: 'abc' }), /malformed/],
    ['no versions', JSON.stringify({ ...good, versions: undefined }), /malformed/],
    ['a lock file it does not carry', JSON.stringify({ ...good, lockFile: 'other.opam.locked' }), /malformed/],
    ['a switch export in a folder', JSON.stringify({ ...good, switchExport: '../x' }), /malformed/],
  ])('refuses %s', (_what, text, message) => {
    expect(parseBuildRecord(text)).toMatch(message);
  });
});
