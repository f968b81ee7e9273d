import { describe, expect, it } from 'vitest';
import { trustedPath } from '../../src/sandbox/tools.js';

const untrusted = {
  workspace: '/home/runner/work/app/app',
  home: '/home/runner',
  runnerTemp: '/home/runner/work/_temp',
  toolCache: '/opt/hostedtoolcache',
  opamRoot: '/home/runner/.opam',
  others: ['/srv/dune-cache'],
};

describe('trustedPath', () => {
  it('drops every folder a build or an earlier step may have written, and relative ones', () => {
    const path = [
      '/home/runner/.opam/mirage/bin',
      '/home/runner/.local/bin',
      '/home/runner/work/app/app/node_modules/.bin',
      '/home/runner/work/_temp/bin',
      '/opt/hostedtoolcache/opam/2.4.1/x64',
      '/srv/dune-cache/bin',
      'bin',
      '',
      '/usr/local/bin',
      '/usr/bin',
      '/bin',
      '/usr/bin',
    ].join(':');
    expect(trustedPath(path, untrusted)).toEqual(['/usr/local/bin', '/usr/bin', '/bin']);
  });

  it('is a path test: a sibling whose name starts like HOME stays', () => {
    expect(trustedPath('/home/runner2/bin:/home/runner/bin', untrusted)).toEqual(['/home/runner2/bin']);
  });
});
