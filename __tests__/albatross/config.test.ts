import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inputsParser } from '../support/config-inputs.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const ALBATROSS = {
  target: 'spt',
  'deploy-to': 'albatross',
  'albatross-endpoints': 'a.example.org:1025\n[::1]:1025\n',
  'albatross-server-ca': CERT,
};

const { parse, problems, workspace } = inputsParser('albatross-config-');

describe('deploy-to and the albatross inputs', () => {
  it('is the repository alone by default: no albatross config', () => {
    expect(parse({}).albatross).toBeUndefined();
    expect(parse({ 'deploy-to': 'repository' }).albatross).toBeUndefined();
  });

  it('reads the endpoints, the defaults and both destinations', () => {
    const albatross = parse({ ...ALBATROSS, 'deploy-to': 'repository,\nalbatross' }).albatross;
    expect(albatross).toEqual({
      repository: true,
      endpoints: ['a.example.org:1025', '[::1]:1025'],
      serverCa: CERT.trim(),
      network: [],
      block: [],
      restartOnFail: false,
      bootWaitSeconds: 5,
    });
  });

  it('takes albatross-client as a URL to download, only with its pinned sha256', () => {
    const url = 'https://builds.example.org/albatross-client';
    expect(problems({ ...ALBATROSS, 'albatross-client': url })).toEqual([
      expect.stringMatching(/^input `albatross-client-sha256`: is empty, but `albatross-client` is a URL/),
    ]);
    const pinned = parse({ ...ALBATROSS, 'albatross-client': url, 'albatross-client-sha256': 'a'.repeat(64) });
    expect(pinned.albatross?.client).toBe(url);
  });

  it('reads every setting', () => {
    const albatross = parse({
      ...ALBATROSS,
      'albatross-ca-key': 'key',
      'albatross-ca-cert': CERT,
      'albatross-name': 'web',
      'albatross-memory': '64',
      'albatross-cpuid': '0',
      'albatross-network': 'service:br0\n',
      'albatross-block': 'data:web-data@512',
      'albatross-restart-on-fail': 'true',
      'albatross-boot-wait': '0',
      'albatross-client': 'bin/albatross-client',
      'albatross-client-sha256': 'A'.repeat(64),
    }).albatross;
    expect(albatross).toMatchObject({
      caKey: 'key',
      name: 'web',
      memory: 64,
      cpuid: 0,
      network: ['service:br0'],
      block: ['data:web-data@512'],
      restartOnFail: true,
      bootWaitSeconds: 0,
      client: join(workspace, 'bin/albatross-client'),
      clientSha256: 'a'.repeat(64),
    });
  });

  it.each([
    [{ 'deploy-to': 'albatros' }, /input `deploy-to`: `albatros` is not a destination/],
    [{ target: 'xen' }, /input `deploy-to`: names `albatross`, which runs solo5 images only, but `target` is `xen`/],
    [{ 'albatross-endpoints': '' }, /input `albatross-endpoints`: is empty/],
    [{ 'albatross-endpoints': 'a.example.org' }, /input `albatross-endpoints`: `a.example.org` is not `host:port`/],
    [{ 'albatross-endpoints': 'a:1\na:1' }, /names an endpoint twice/],
    [{ 'albatross-server-ca': '' }, /input `albatross-server-ca`: is empty/],
    [{ 'albatross-server-ca': 'pinned' }, /input `albatross-server-ca`: is not a PEM certificate/],
    [{ 'albatross-name': '-rf' }, /input `albatross-name`: `-rf` is not a unikernel name/],
    [{ 'albatross-memory': '1G' }, /input `albatross-memory`: `1G` is not a memory size/],
    [{ 'albatross-network': 'br0' }, /input `albatross-network`: `br0` is not `device:bridge`/],
    [{ 'albatross-block': 'a b' }, /input `albatross-block`/],
    [{ 'albatross-boot-wait': '-1' }, /input `albatross-boot-wait`/],
    [{ 'albatross-client-sha256': 'abc' }, /input `albatross-client-sha256`: is not a SHA-256/],
  ])('refuses %j naming the input', (inputs, message) => {
    expect(problems({ ...ALBATROSS, ...inputs }).join('\n')).toMatch(message);
  });
});
