import { describe, expect, it } from 'vitest';
import { sandboxAction, type SandboxFacts } from '../../src/opam/sandbox.js';

const linux: SandboxFacts = { runnerOs: 'Linux', disabled: false, hasBwrap: false, hosted: true, isRoot: false };

describe('sandboxAction', () => {
  it.each<[string, Partial<SandboxFacts>, ReturnType<typeof sandboxAction>]>([
    ['hosted Linux without bwrap installs it with sudo', {}, 'install-with-sudo'],
    ['a hosted container job runs as root, without sudo', { isRoot: true }, 'install'],
    ['bwrap already there', { hasBwrap: true }, 'none'],
    ['sandboxing disabled by the input', { disabled: true }, 'none'],
    ['a self-hosted runner is not ours to install packages on', { hosted: false }, 'refuse'],
    ['self-hosted with sandboxing disabled', { hosted: false, disabled: true }, 'none'],
    ['macOS has its own sandbox', { runnerOs: 'macOS', hosted: false }, 'none'],
  ])('%s', (_, change, action) => {
    expect(sandboxAction({ ...linux, ...change })).toBe(action);
  });
});
