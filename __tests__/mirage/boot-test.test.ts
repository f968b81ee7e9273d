import { describe, expect, it } from 'vitest';
import {
  consoleEnds,
  devicesPlan,
  judgeBoot,
  manifestDevices,
  planBootTest,
  planDeployOnly,
  noSandbox,
  type BootTestConfig,
  type BootTestFacts,
} from '../../src/mirage/boot-test.js';

const config = (over: Partial<BootTestConfig> = {}): BootTestConfig => ({
  mode: 'auto',
  args: ['--hello=hi'],
  timeoutSeconds: 10,
  ...over,
});
const facts = (over: Partial<BootTestFacts> = {}): BootTestFacts => ({
  target: 'unix',
  image: '/w/dist/hello',
  sandboxed: true,
  kvmUsable: false,
  ...over,
});
const MERGED = ['-c', 'exec "$0" "$@" 2>&1'];

describe('planBootTest', () => {
  it('unix runs the image directly with the boot arguments, both streams merged in order', () => {
    expect(planBootTest(config(), facts())).toEqual({
      run: true,
      program: '/bin/sh',
      args: [...MERGED, '/w/dist/hello', '--hello=hi'],
      devices: [],
      solo5: false,
      how: 'directly',
    });
  });

  it('spt runs under the tender; its manifest is read first', () => {
    const plan = planBootTest(config(), facts({ target: 'spt', image: '/w/dist/hello.spt', tender: '/t/solo5-spt' }));
    expect(plan).toMatchObject({ run: true, args: [...MERGED, '/t/solo5-spt', '/w/dist/hello.spt', '--hello=hi'], solo5: true, devices: [] });
  }); // prettier-ignore

  it('hvt runs only where /dev/kvm is usable, and gets /dev/kvm in its sandbox', () => {
    const hvt = facts({ target: 'hvt', image: '/w/dist/hello.hvt', tender: '/t/solo5-hvt' });
    expect(planBootTest(config(), { ...hvt, kvmUsable: true })).toMatchObject({
      run: true,
      args: [...MERGED, '/t/solo5-hvt', '/w/dist/hello.hvt', '--hello=hi'],
      devices: ['/dev/kvm'],
      solo5: true,
    });
    const noKvm = 'hvt needs KVM, and /dev/kvm is missing or not readable and writable here';
    expect(planBootTest(config(), hvt)).toEqual({ run: false, status: 'skipped', why: noKvm });
    expect(planBootTest(config({ mode: 'required' }), hvt)).toEqual({
      run: false,
      status: 'failed',
      why: `input \`boot-test\` is required, but ${noKvm}`,
    });
  });

  it('spt and hvt without a tender cannot run', () => {
    for (const target of ['spt', 'hvt'] as const) {
      expect(planBootTest(config(), facts({ target, kvmUsable: true }))).toEqual({
        run: false,
        status: 'skipped',
        why: `\`solo5-${target}\` is not on the build's PATH and input \`boot-test-tender\` is not set`,
      });
    }
  });

  it('virtio runs under QEMU where present, with KVM when usable', () => {
    const virtio = facts({ target: 'virtio', image: '/w/dist/hello.virtio', qemu: '/usr/bin/qemu-system-x86_64' });
    expect(planBootTest(config({ args: ['--a=1', '--b=2'] }), virtio)).toMatchObject({
      run: true,
      args: [...MERGED, '/usr/bin/qemu-system-x86_64', '-nographic', '-no-reboot', '-m', '512', '-kernel', '/w/dist/hello.virtio', '-append', '--a=1 --b=2'],
      devices: [],
    }); // prettier-ignore
    expect(planBootTest(config(), { ...virtio, kvmUsable: true })).toMatchObject({ devices: ['/dev/kvm'] });
    expect(planBootTest(config(), { ...virtio, qemu: undefined })).toMatchObject({ run: false, status: 'skipped' });
  });

  it.each(['xen', 'qubes', 'muen', 'genode', 'unikraft-qemu', 'unikraft-firecracker'] as const)(
    '%s is skipped under auto, failed under required',
    (target) => {
      const why = `target \`${target}\` cannot run on a Linux runner (it needs its own hypervisor)`;
      expect(planBootTest(config(), facts({ target }))).toEqual({ run: false, status: 'skipped', why });
      expect(planBootTest(config({ mode: 'required' }), facts({ target }))).toMatchObject({ status: 'failed' });
    },
  );

  it('off never runs; without the sandbox nothing runs', () => {
    expect(planBootTest(config({ mode: 'off' }), facts())).toEqual({
      run: false,
      status: 'skipped',
      why: 'input `boot-test` is off',
    });
    expect(planBootTest(config(), facts({ sandboxed: false }))).toEqual({
      run: false,
      status: 'skipped',
      why: 'there is no sandbox (bubblewrap) to run the image in without network',
    });
  });
});

describe('planDeployOnly', () => {
  it('off by default; spt and hvt only under boot-test-tender; otherwise it runs in a sandbox of its own', () => {
    expect(planDeployOnly(config({ mode: 'off' }), 'spt')).toMatchObject({ status: 'skipped' });
    const noTender = 'a deploy-only job (`image-path`) runs hvt only under input `boot-test-tender`';
    expect(planDeployOnly(config(), 'hvt')).toEqual({ run: false, status: 'skipped', why: noTender });
    expect(planDeployOnly(config({ mode: 'required' }), 'spt')).toMatchObject({ status: 'failed' });
    expect(planDeployOnly(config({ tender: '/t/solo5-spt' }), 'spt')).toBeUndefined();
    expect(planDeployOnly(config(), 'unix')).toBeUndefined();
  });

  it('without a sandbox: skipped under auto, failed under required', () => {
    expect(noSandbox('auto')).toMatchObject({ status: 'skipped' });
    expect(noSandbox('required')).toMatchObject({ status: 'failed' });
  });
});

describe('the Solo5 manifest', () => {
  it('lists the declared devices; an unreadable manifest is undefined', () => {
    const net =
      '{ "type": "solo5.manifest", "version": 1, "devices": [ { "name": "service0", "type": "NET_BASIC" } ] }';
    expect(manifestDevices(net)).toEqual(['service0 (NET_BASIC)']);
    expect(manifestDevices('{ "type": "solo5.manifest", "version": 1, "devices": [ ] }')).toEqual([]);
    expect(manifestDevices('not json')).toBeUndefined();
    expect(manifestDevices('{ "devices": [] }')).toBeUndefined();
  });

  it('no device: runs; a device or no manifest: skipped under auto, failed under required', () => {
    expect(devicesPlan('auto', [])).toBeUndefined();
    expect(devicesPlan('auto', ['storage (BLOCK_BASIC)'])).toEqual({
      run: false,
      status: 'skipped',
      why: 'the image declares devices the boot test cannot set up (no network but loopback, no disk): storage (BLOCK_BASIC)',
    });
    expect(devicesPlan('required', ['service0 (NET_BASIC)'])).toMatchObject({ status: 'failed' });
    expect(devicesPlan('auto', undefined)).toMatchObject({
      status: 'skipped',
      why: expect.stringContaining('manifest'),
    });
  });
});

describe('judgeBoot', () => {
  const ran = (exitCode: number, output = '', timedOut = false) => ({ exitCode, output, timedOut });
  it.each([
    ['exit 0', ran(0), undefined, 'passed', 'it exited 0'],
    ['still running at the timeout', ran(137, 'up\n', true), undefined, 'passed', 'still running after 10 s, then stopped'],
    ['exit 1', ran(1, 'x\n'), undefined, 'failed', 'it exited with code 1'],
    ['killed by a signal (spt exception)', ran(139), undefined, 'failed', 'it exited with code 139'],
    ['OCaml fatal error, even at exit 0', ran(0, 'Fatal error: exception Not_found\n'), undefined, 'failed', 'an OCaml fatal error: Fatal error: exception Not_found'],
    ['Solo5 abort while still running', ran(137, 'Solo5: solo5_abort() called\n', true), undefined, 'failed', 'a Solo5 abort: Solo5: solo5_abort() called'],
    ['the expected text passes a later exit 1', ran(1, 'ready on 10.0.0.2\nno route\n'), 'ready on \\S+', 'passed', 'it printed `ready on 10.0.0.2` (input `boot-test-expect`)'],
    ['the expected text does not excuse a fatal error', ran(2, 'ready\nFatal error: exception Failure("x")\n'), 'ready', 'failed', 'an OCaml fatal error: Fatal error: exception Failure("x")'],
    ['expected text missing: the exit decides', ran(1, 'booting\n'), 'ready', 'failed', 'it exited with code 1'],
  ] as const)('%s', (_, outcome, expect_, status, why) => {
    expect(judgeBoot(outcome, 10, expect_)).toEqual({ status, why });
  }); // prettier-ignore
});

describe('consoleEnds', () => {
  it('a short console whole; a long one its first 3 and last 5 lines, blank lines left out', () => {
    expect(consoleEnds('a\n\nb\n')).toEqual({ first: ['a', 'b'], last: [] });
    const long = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    expect(consoleEnds(long)).toEqual({
      first: ['line 0', 'line 1', 'line 2'],
      last: ['line 15', 'line 16', 'line 17', 'line 18', 'line 19'],
    });
  });
});
