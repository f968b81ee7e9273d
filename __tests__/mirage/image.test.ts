import { describe, expect, it } from 'vitest';
import {
  chooseImage,
  generatedNames,
  imageNames,
  outputName,
  publishedFileProblem,
  type DistEntry,
} from '../../src/mirage/image.js';
import type { Target } from '../../src/mirage/targets.js';

const files = (...names: string[]): DistEntry[] => names.map((name) => ({ name, isFile: true }));

describe('outputName', () => {
  it.each<[string[], string | undefined]>([
    [[], undefined],
    [['--net=socket'], undefined],
    [['-o', 'www'], 'www'],
    [['-owww'], 'www'],
    [['--output', 'www'], 'www'],
    [['--output=www', '--no-dhcp'], 'www'],
    [['-o', 'a', '-o', 'b'], 'b'],
    [['-o'], undefined],
  ])('%j → %s', (args, name) => {
    expect(outputName(args)).toBe(name);
  });
});

describe('generatedNames', () => {
  it.each<[string[], Target, string[]]>([
    [['hello-unix.opam', 'hello-unix.opam.locked', 'main.ml', 'context'], 'unix', ['hello']],
    [['hello-xen.opam', 'hello.xl', 'hello_libvirt.xml'], 'xen', ['hello']],
    [['hello-unix.opam'], 'xen', []],
    [['my-app-unikraft-qemu.opam'], 'unikraft-qemu', ['my-app']],
    [['www-hvt.opam', 'old-hvt.opam'], 'hvt', ['old', 'www']],
    [['-hvt.opam'], 'hvt', []],
  ])('%j for %s → %j', (entries, target, names) => {
    expect(generatedNames(entries, target)).toEqual(names);
  });
});

describe('imageNames', () => {
  it('prefers image-name, then -o, then the generated opam files', () => {
    expect(imageNames('www', ['-o', 'x'], ['hello-unix.opam'], 'unix')).toEqual({
      names: ['www'],
      from: 'input `image-name`',
    });
    expect(imageNames(undefined, ['-o', 'x'], ['hello-unix.opam'], 'unix')).toEqual({
      names: ['x'],
      from: '`-o` in `configure-args`',
    });
    expect(imageNames(undefined, [], ['hello-unix.opam'], 'unix')).toEqual({
      names: ['hello'],
      from: 'mirage/hello-unix.opam',
    });
    expect(imageNames(undefined, [], [], 'hvt')).toEqual({ names: [], from: 'no mirage/*-hvt.opam' });
  });
});

describe('chooseImage', () => {
  const hello = { names: ['hello'], from: 'mirage/hello-xen.opam' };
  it.each<[Target, DistEntry[], string]>([
    ['unix', files('dune', 'hello'), 'hello'],
    ['macosx', files('dune', 'hello'), 'hello'],
    ['xen', files('dune', 'hello.xen', 'hello.xl', 'hello.xl.in'), 'hello.xen'],
    ['qubes', files('dune', 'hello.xen'), 'hello.xen'],
    ['hvt', files('dune', 'hello.hvt', 'other.spt'), 'hello.hvt'],
    ['virtio', files('hello.virtio'), 'hello.virtio'],
    ['unikraft-qemu', files('dune', 'hello.qemu'), 'hello.qemu'],
    ['unikraft-firecracker', files('dune', 'hello.fc'), 'hello.fc'],
  ])('%s: picks the image among %j', (target, dist, image) => {
    expect(chooseImage(dist, target, hello)).toBe(image);
  });

  it('without a known name, takes the one file with the extension that is not a side file', () => {
    const none = { names: [], from: 'no mirage/*-xen.opam' };
    expect(chooseImage(files('dune', 'www.xen', 'www.xl', 'www.xl.in'), 'xen', none)).toBe('www.xen');
    expect(chooseImage(files('dune', 'www', '.hidden'), 'unix', none)).toBe('www');
  });

  it('fails on no image, listing what dist/ holds and naming the fix', () => {
    expect(() => chooseImage(files('dune', 'hello.xl', 'hello.xl.in'), 'xen', hello)).toThrow(
      'no image for target `xen`: expected dist/hello.xen (name from mirage/hello-xen.opam), but dist/ holds dune, hello.xl, hello.xl.in; ' +
        'check that the build step builds the unikernel, or set input `image-name` to the name it registers',
    );
    expect(() => chooseImage([], 'hvt', { names: [], from: 'no mirage/*-hvt.opam' })).toThrow(
      'expected a dist/*.hvt file (name from no mirage/*-hvt.opam), but dist/ holds nothing',
    );
    expect(() => chooseImage([{ name: 'hello', isFile: false }], 'unix', hello)).toThrow('dist/ holds hello/');
  });

  it('fails on several images, listing them', () => {
    const two = { names: ['hello', 'old'], from: 'mirage/hello-hvt.opam, mirage/old-hvt.opam' };
    expect(() => chooseImage(files('dune', 'hello.hvt', 'old.hvt'), 'hvt', two)).toThrow(
      'several images for target `hvt` in dist/: hello.hvt, old.hvt (names from mirage/hello-hvt.opam, mirage/old-hvt.opam); ' +
        'set input `image-name` to the one to deploy, or remove the stale files (`make clean`)',
    );
    expect(() => chooseImage(files('a', 'b', 'dune'), 'unix', { names: [], from: 'no mirage/*-unix.opam' })).toThrow(
      'several images for target `unix` in dist/: a, b',
    );
  });
});

describe('symbolic links in dist/', () => {
  const hello = { names: ['hello'], from: 'mirage/hello-xen.opam' };
  it('an image that is a link is refused as one, never listed as a folder', () => {
    const dist: DistEntry[] = [
      { name: 'dune', isFile: true },
      { name: 'hello.xen', isFile: false, isSymlink: true },
    ];
    expect(() => chooseImage(dist, 'xen', hello)).toThrow(
      /^the image dist\/hello.xen is a symbolic link; only a file the build wrote is published/,
    );
    expect(() => chooseImage([{ name: 'x', isFile: false, isSymlink: true }], 'unix', hello)).toThrow('dist/ holds x@');
  });

  it.each([
    ['a plain file inside', false, '/w/u/dist/hello.xl', undefined],
    ['a link', true, '/w/u/dist/hello.xl', /dist\/hello.xl is a symbolic link/],
    [
      'a file reached through a linked dist/',
      false,
      '/etc/hostname',
      /resolves to \/etc\/hostname, outside the unikernel's folder \/w\/u/,
    ],
    ['a sibling folder sharing the prefix', false, '/w/u2/dist/hello.xl', /outside/],
  ])('%s', (_name, isSymlink, realPath, problem) => {
    const found = publishedFileProblem('dist/hello.xl', { isSymlink, realPath }, '/w/u');
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });
});
