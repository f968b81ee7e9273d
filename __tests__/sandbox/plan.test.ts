import { describe, expect, it } from 'vitest';
import {
  bwrapArgs,
  decideSandbox,
  isInside,
  localFolder,
  sandboxEnv,
  switchVariables,
  type MountFacts,
  type SandboxFacts,
} from '../../src/sandbox/plan.js';

const OK = { ok: true } as const;
const NO_BWRAP = { ok: false, reason: 'bubblewrap (`bwrap`) is not installed' } as const;

const facts = (over: Partial<SandboxFacts>): SandboxFacts => ({
  runnerOs: 'Linux',
  builds: true,
  secretsHeld: [],
  allowUnsandboxed: false,
  probe: OK,
  ...over,
});

describe('decideSandbox', () => {
  it.each([
    ['no build (image-path, rollback)', { builds: false, secretsHeld: ['deploy-key'], probe: NO_BWRAP }, 'none', 'not-building'],
    ['a secret, bubblewrap works', { secretsHeld: ['deploy-key'] }, 'bubblewrap', 'required'],
    ['no secret, bubblewrap works', {}, 'bubblewrap', 'available'],
    ['a secret, opted out, bubblewrap works: still sandboxed', { secretsHeld: ['deploy-token'], allowUnsandboxed: true }, 'bubblewrap', 'required'],
    ['a secret, no bubblewrap', { secretsHeld: ['deploy-key'], probe: NO_BWRAP }, 'none', 'refused'],
    ['github-token alone is a secret', { secretsHeld: ['github-token'], probe: NO_BWRAP }, 'none', 'refused'],
    ['a secret on macOS', { runnerOs: 'macOS', secretsHeld: ['deploy-key'] }, 'none', 'refused'],
    ['a secret, no bubblewrap, opted out', { secretsHeld: ['deploy-key'], probe: NO_BWRAP, allowUnsandboxed: true }, 'none', 'opted-out'],
    ['no secret, no bubblewrap', { probe: NO_BWRAP }, 'none', 'unavailable'],
    ['no secret, macOS', { runnerOs: 'macOS' }, 'none', 'unavailable'],
  ] as const)('%s', (_, over, use, why) => {
    const decision = decideSandbox(facts(over));
    expect([decision.use, decision.why]).toEqual([use, why]);
  }); // prettier-ignore

  it('a refusal names the secrets, why, the two-job pattern and the opt-out', () => {
    const decision = decideSandbox(facts({ secretsHeld: ['deploy-key', 'github-token'], probe: NO_BWRAP }));
    expect(decision.why).toBe('refused');
    const message = 'message' in decision ? decision.message : '';
    for (const part of [
      '`deploy-key`',
      '`github-token`',
      'is not installed',
      '`image-path`',
      'allow-unsandboxed-build',
    ]) {
      expect(message).toContain(part);
    }
  });

  it('the opt-out says what it costs', () => {
    const decision = decideSandbox(facts({ secretsHeld: ['deploy-token'], probe: NO_BWRAP, allowUnsandboxed: true }));
    expect('message' in decision ? decision.message : '').toMatch(/`deploy-token`.*can read them/);
  });
});

/** A hosted runner's layout: the workspace and RUNNER_TEMP under HOME, the opam root and dune's cache in HOME. */
const hosted: MountFacts = {
  workspace: '/home/runner/work/app/app',
  opamRoot: '/home/runner/.opam',
  duneCacheRoot: '/home/runner/.cache/mirage-deploy/dune',
  scratch: '/home/runner/work/_temp/mirage-deploy-build-x',
  home: '/home/runner',
  runnerTemp: '/home/runner/work/_temp',
  toolCache: '/opt/hostedtoolcache',
  fileCommands: ['/home/runner/work/_temp/_runner_file_commands/set_env_1'],
  varRunIsFolder: false,
  readOnly: [],
};

/** `--flag a b` triples and pairs as [flag, path] in order, for the mounts. */
function mounts(args: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--bind' || a === '--ro-bind') {
      out.push([a, args[i + 1] ?? '', args[i + 2] ?? '']);
      i += 2;
    } else if (a === '--tmpfs' || a === '--dev' || a === '--proc') {
      out.push([a, args[i + 1] ?? '']);
      i += 1;
    }
  }
  return out;
}

describe('bwrapArgs', () => {
  it('on a hosted runner: / read-only, fresh /dev /proc /tmp /run, HOME and RUNNER_TEMP hidden before the writable folders in them', () => {
    expect(mounts(bwrapArgs(hosted, '/home/runner/work/app/app'))).toEqual([
      ['--ro-bind', '/', '/'],
      ['--dev', '/dev'],
      ['--proc', '/proc'],
      ['--tmpfs', '/tmp'],
      ['--tmpfs', '/run'],
      ['--tmpfs', '/home/runner'],
      ['--bind', '/home/runner/.opam', '/home/runner/.opam'],
      ['--tmpfs', '/home/runner/work/_temp'],
      ['--bind', '/home/runner/work/app/app', '/home/runner/work/app/app'],
      ['--bind', '/home/runner/.cache/mirage-deploy/dune', '/home/runner/.cache/mirage-deploy/dune'],
      ['--bind', '/home/runner/work/_temp/mirage-deploy-build-x', '/home/runner/work/_temp/mirage-deploy-build-x'],
    ]);
  });

  it('new user, PID and IPC namespaces and session, gone with the action, never --cap-drop; the command after --', () => {
    const args = bwrapArgs(hosted, '/w');
    for (const flag of ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--new-session', '--die-with-parent']) {
      expect(args).toContain(flag);
    }
    expect(args).not.toContain('--cap-drop');
    expect(args).not.toContain('--unshare-net');
    expect(args.slice(-3)).toEqual(['--chdir', '/w', '--']);
  });

  it('one command may get no network but loopback and host devices (the boot test), before the command', () => {
    const args = bwrapArgs(hosted, '/w', { loopbackOnly: true, devices: ['/dev/kvm'] });
    expect(args).toContain('--unshare-net');
    const bind = args.indexOf('--dev-bind');
    expect(args.slice(bind, bind + 3)).toEqual(['--dev-bind', '/dev/kvm', '/dev/kvm']);
    expect(bind).toBeGreaterThan(args.indexOf('--dev'));
    expect(args.slice(-3)).toEqual(['--chdir', '/w', '--']);
    expect(args).not.toContain('--remount-ro');
  });

  it('one command may write only in the scratch folder: the other writable folders remounted read-only after they are bound', () => {
    const args = bwrapArgs(hosted, '/w', { scratchOnly: true });
    const remounted = args.flatMap((a, i) => (a === '--remount-ro' ? [args[i + 1]] : []));
    expect(remounted).toEqual([hosted.workspace, hosted.opamRoot, hosted.duneCacheRoot]);
    const lastBind = args.lastIndexOf('--bind');
    expect(args.indexOf('--remount-ro')).toBeGreaterThan(lastBind);
    expect(args.slice(lastBind, lastBind + 2)).toEqual(['--bind', hosted.scratch]);
  });

  it('a folder hidden inside a writable one is hidden after it is bound', () => {
    const inside = { ...hosted, runnerTemp: '/home/runner/work/app/app/tmp', scratch: '/home/runner/work/app/app/tmp/s' };
    const order = mounts(bwrapArgs(inside, '/')).map((m) => `${m[0]} ${m[1]}`);
    expect(order.indexOf('--bind /home/runner/work/app/app')).toBeLessThan(order.indexOf('--tmpfs /home/runner/work/app/app/tmp'));
    expect(order.indexOf('--tmpfs /home/runner/work/app/app/tmp')).toBeLessThan(order.indexOf('--bind /home/runner/work/app/app/tmp/s'));
  }); // prettier-ignore

  it("covers the runner's file commands that lie in a writable folder with /dev/null", () => {
    const exposed = { ...hosted, fileCommands: ['/home/runner/work/app/app/env', '/elsewhere/out'] };
    const covered = mounts(bwrapArgs(exposed, '/')).filter((m) => m[1] === '/dev/null');
    expect(covered).toEqual([['--ro-bind', '/dev/null', '/home/runner/work/app/app/env']]);
  });

  it('the tool cache is bound read-only again when a hidden folder holds it; local repositories read-only', () => {
    const self = { ...hosted, toolCache: '/home/runner/tools', readOnly: ['/tmp/repo'] };
    const all = mounts(bwrapArgs(self, '/'));
    expect(all).toContainEqual(['--ro-bind', '/home/runner/tools', '/home/runner/tools']);
    expect(all).toContainEqual(['--ro-bind', '/tmp/repo', '/tmp/repo']);
    expect(mounts(bwrapArgs(hosted, '/')).some((m) => m[1] === '/opt/hostedtoolcache')).toBe(false);
  });

  it('/var/run hidden when it is a folder of its own; the agent socket only when passed', () => {
    expect(mounts(bwrapArgs({ ...hosted, varRunIsFolder: true }, '/'))).toContainEqual(['--tmpfs', '/var/run']);
    expect(mounts(bwrapArgs(hosted, '/')).some((m) => m[1] === '/var/run')).toBe(false);
    expect(mounts(bwrapArgs({ ...hosted, sshAuthSock: '/tmp/ssh-x/agent.1' }, '/'))).toContainEqual([
      '--bind',
      '/tmp/ssh-x/agent.1',
      '/tmp/ssh-x/agent.1',
    ]);
  });
});

describe('sandboxEnv', () => {
  const job = {
    HOME: '/home/runner',
    PATH: '/usr/bin',
    LANG: 'C.UTF-8',
    GITHUB_SHA: 'abc',
    GITHUB_ENV: '/x/env',
    GITHUB_PATH: '/x/path',
    GITHUB_OUTPUT: '/x/out',
    GITHUB_STATE: '/x/state',
    GITHUB_STEP_SUMMARY: '/x/sum',
    GITHUB_TOKEN: 'ghs_x',
    ACTIONS_RUNTIME_TOKEN: 't',
    ACTIONS_ID_TOKEN_REQUEST_URL: 'u',
    INPUT_DEPLOY_KEY: 'k',
    'INPUT_DEPLOY-KEY': 'k',
    SSH_AUTH_SOCK: '/tmp/agent',
    LD_PRELOAD: '/x.so',
    OPAMJOBS: '4',
    DUNE_PROFILE: 'release',
    MIRAGE_DEPLOY_RUN: 'marker',
    SOMETHING_ELSE: 'x',
  };

  it("passes only the allow-list and the command's own variables", () => {
    expect(sandboxEnv(job, { PATH: '/sw/bin:/usr/bin', OPAMROOT: '/r' })).toEqual({
      HOME: '/home/runner',
      LANG: 'C.UTF-8',
      GITHUB_SHA: 'abc',
      OPAMJOBS: '4',
      DUNE_PROFILE: 'release',
      PATH: '/sw/bin:/usr/bin',
      OPAMROOT: '/r',
    });
  });

  it('the agent only with build-ssh-agent', () => {
    expect(sandboxEnv(job, {}, '/tmp/agent').SSH_AUTH_SOCK).toBe('/tmp/agent');
  });
});

describe('switchVariables', () => {
  it("keeps opam env's own variables, never one that changes how programs load", () => {
    expect(
      switchVariables({
        OPAM_SWITCH_PREFIX: '/r/s',
        CAML_LD_LIBRARY_PATH: '/r/s/lib',
        LD_PRELOAD: '/x.so',
        PATH: '/r/s/bin',
      }),
    ).toEqual({ OPAM_SWITCH_PREFIX: '/r/s', CAML_LD_LIBRARY_PATH: '/r/s/lib' });
  });
});

describe('localFolder, isInside', () => {
  it.each([
    ['file:///tmp/repo/', '/tmp/repo'],
    ['git+file:///srv/x.git', '/srv/x.git'],
    ['/abs/path', '/abs/path'],
    ['https://opam.ocaml.org', undefined],
    ['git+https://github.com/x/y.git', undefined],
  ])('%s', (url, folder) => expect(localFolder(url)).toBe(folder));

  it('is a path test, not a prefix test', () => {
    expect(isInside('/home/runner/x', '/home/runner')).toBe(true);
    expect(isInside('/home/runner', '/home/runner')).toBe(true);
    expect(isInside('/home/runner2', '/home/runner')).toBe(false);
  });
});
