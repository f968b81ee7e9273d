import { describe, expect, it } from 'vitest';
import {
  bwrapProfile,
  decideProbe,
  probeFailureCause,
  sandboxAction,
  type ProbeFacts,
  type SandboxFacts,
} from '../../src/opam/sandbox.js';

const linux: SandboxFacts = { runnerOs: 'Linux', disabled: false, hasBwrap: false, hosted: true, privilege: 'sudo' };

describe('sandboxAction', () => {
  it.each<[string, Partial<SandboxFacts>, ReturnType<typeof sandboxAction>]>([
    ['hosted Linux without bwrap installs it with sudo', {}, 'install'],
    ['a hosted container job runs as root, without sudo', { privilege: 'root' }, 'install'],
    ['a hosted job with neither root nor sudo cannot install it', { privilege: 'none' }, 'refuse'],
    ['bwrap already there', { hasBwrap: true }, 'none'],
    ['sandboxing disabled by the input', { disabled: true }, 'none'],
    ['a self-hosted runner is not ours to install packages on', { hosted: false }, 'refuse'],
    ['self-hosted, even as root', { hosted: false, privilege: 'root' }, 'refuse'],
    ['self-hosted with sandboxing disabled', { hosted: false, disabled: true }, 'none'],
    ['macOS has its own sandbox', { runnerOs: 'macOS', hosted: false }, 'none'],
  ])('%s', (_, change, action) => {
    expect(sandboxAction({ ...linux, ...change })).toBe(action);
  });
});

// What bubblewrap prints when it may not have its namespaces, as reported or seen:
const TEXTS = {
  // Ubuntu 24.04, AppArmor's restriction on unprivileged user namespaces (ocaml/opam#5968).
  ubuntuLoopback: 'bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted\n',
  ubuntuUidMap: 'bwrap: setting up uid map: Permission denied\n',
  // bubblewrap 0.8.0 on Debian 12 inside `unshare -U` (this machine; __tests__/integration/opam-sandbox.test.ts).
  debian:
    'bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user ' +
    'namespaces. See <https://deb.li/bubblewrap> or <file:///usr/share/doc/bubblewrap/README.Debian.gz>.\n',
  // Older bubblewrap's wording of the same.
  older:
    "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces. On e.g. debian this can be enabled with 'sysctl kernel.unprivileged_userns_clone=1'.\n",
  // Docker's default seccomp profile, root in a container.
  docker: 'bwrap: Creating new namespace failed: Operation not permitted\n',
  other: 'bwrap: execvp sh: No such file or directory\n',
};

describe('probeFailureCause', () => {
  it.each<[keyof typeof TEXTS, boolean, ReturnType<typeof probeFailureCause>]>([
    ['ubuntuLoopback', true, 'apparmor'],
    ['ubuntuUidMap', true, 'apparmor'],
    ['ubuntuLoopback', false, 'namespaces'],
    ['debian', false, 'namespaces'],
    ['older', false, 'namespaces'],
    ['docker', false, 'namespaces'],
    ['other', true, 'other'],
    ['other', false, 'other'],
  ])('%s with the AppArmor restriction %s: %s', (text, restricts, cause) => {
    expect(probeFailureCause(TEXTS[text], restricts)).toBe(cause);
  });
});

describe('decideProbe', () => {
  const ubuntu: ProbeFacts = {
    ok: false,
    output: TEXTS.ubuntuLoopback,
    apparmorRestricts: true,
    hosted: true,
    privilege: 'sudo',
    profileInstalled: false,
  };

  it('goes on when the sandbox works', () => {
    expect(decideProbe({ ...ubuntu, ok: true, output: 'SUCCESS\n' })).toEqual({ action: 'ok' });
  });

  it.each<[string, Partial<ProbeFacts>]>([
    ['with sudo', {}],
    ['as root (a container job)', { privilege: 'root' }],
    ['for the uid map message', { output: TEXTS.ubuntuUidMap }],
  ])('installs the AppArmor profile on a hosted Ubuntu 24.04 runner %s', (_, change) => {
    expect(decideProbe({ ...ubuntu, ...change })).toEqual({ action: 'install-apparmor-profile' });
  });

  it.each<[string, Partial<ProbeFacts>, string]>([
    ['self-hosted', { hosted: false }, 'AppArmor forbids unprivileged user namespaces'],
    ['hosted without root or sudo', { privilege: 'none' }, 'AppArmor forbids unprivileged user namespaces'],
    ['the profile did not help', { profileInstalled: true }, 'the AppArmor profile the action installed'],
    ['a container', { output: TEXTS.docker, apparmorRestricts: false }, 'does not let bubblewrap create namespaces'],
    ['namespaces turned off', { output: TEXTS.debian, apparmorRestricts: false }, 'a `container:` job'],
    ['something else', { output: TEXTS.other }, 'Fix bubblewrap on this runner'],
  ])('fails naming the cause and the input when %s', (_, change, cause) => {
    const decision = decideProbe({ ...ubuntu, ...change });
    expect(decision.action).toBe('fail');
    const message = decision.action === 'fail' ? decision.message : '';
    expect(message).toContain(cause);
    expect(message).toContain('`opam-disable-sandboxing: true`');
    expect(message).toContain((change.output ?? TEXTS.ubuntuLoopback).trim());
  });
});

describe('bwrapProfile', () => {
  it('names bwrap by its path and allows it user namespaces, nothing else', () => {
    const profile = bwrapProfile('/usr/bin/bwrap');
    expect(profile).toContain('abi <abi/4.0>,');
    expect(profile).toMatch(
      /^profile mirage-deploy-bwrap \/usr\/bin\/bwrap flags=\(unconfined\) \{\n {2}userns,\n\}$/m,
    );
  });
});
