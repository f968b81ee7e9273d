import { describe, expect, it } from 'vitest';
import {
  normaliseArch,
  osReleaseField,
  systemVariables,
  withOverrides,
  type SystemFacts,
} from '../../src/opam/system-variables.js';

// /etc/os-release as these systems ship it (abridged).
const DEBIAN_12 = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`;
const UBUNTU_24 = `PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=noble
`;
const MINT = `NAME="Linux Mint"
VERSION_ID="21.3"
ID=linuxmint
ID_LIKE="ubuntu debian"
`;
const FEDORA = `NAME="Fedora Linux"
VERSION_ID=40
ID=fedora
`;
const ALMA = `ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
`;

const linux = (osRelease: string | undefined, more: Partial<SystemFacts> = {}): SystemFacts => ({
  sysname: 'Linux',
  machine: 'x86_64',
  ...(osRelease === undefined ? {} : { osRelease }),
  ...more,
});

describe("systemVariables, as opam's OpamSysPoll", () => {
  it.each<[string, SystemFacts, Record<string, string>]>([
    [
      'Debian 12',
      linux(DEBIAN_12),
      { arch: 'x86_64', os: 'linux', 'os-family': 'debian', 'os-distribution': 'debian', 'os-version': '12' },
    ],
    [
      'Ubuntu 24.04 (a hosted runner)',
      linux(UBUNTU_24, { lsbRelease: '24.04', lsbId: 'Ubuntu' }),
      { arch: 'x86_64', os: 'linux', 'os-family': 'debian', 'os-distribution': 'ubuntu', 'os-version': '24.04' },
    ],
    [
      // ID_LIKE's first word, without its opening quote
      'Linux Mint',
      linux(MINT),
      { arch: 'x86_64', os: 'linux', 'os-family': 'ubuntu', 'os-distribution': 'linuxmint', 'os-version': '21.3' },
    ],
    [
      'Fedora, on arm64',
      linux(FEDORA, { machine: 'aarch64' }),
      { arch: 'arm64', os: 'linux', 'os-family': 'fedora', 'os-distribution': 'fedora', 'os-version': '40' },
    ],
    [
      'AlmaLinux (quoted ID)',
      linux(ALMA),
      { arch: 'x86_64', os: 'linux', 'os-family': 'rhel', 'os-distribution': 'almalinux', 'os-version': '9.4' },
    ],
    [
      // lsb_release's version wins over VERSION_ID, as in opam
      'Debian testing with lsb_release',
      linux(DEBIAN_12, { lsbRelease: 'n/a' }),
      { arch: 'x86_64', os: 'linux', 'os-family': 'debian', 'os-distribution': 'debian', 'os-version': 'n/a' },
    ],
    [
      'no os-release: lsb_release, else "linux"',
      linux(undefined, { lsbId: 'Debian' }),
      { arch: 'x86_64', os: 'linux', 'os-family': 'debian', 'os-distribution': 'debian' },
    ],
    [
      'nothing at all',
      linux(undefined),
      { arch: 'x86_64', os: 'linux', 'os-family': 'linux', 'os-distribution': 'linux' },
    ],
    ['macOS', { sysname: 'Darwin', machine: 'arm64' }, { arch: 'arm64', os: 'macos' }],
    [
      'FreeBSD',
      { sysname: 'FreeBSD', machine: 'amd64' },
      { arch: 'x86_64', os: 'freebsd', 'os-family': 'bsd', 'os-distribution': 'freebsd' },
    ],
  ])('%s', (_, facts, vars) => {
    expect(systemVariables(facts)).toEqual(vars);
  });

  it.each([
    ['x86_64', 'x86_64'],
    ['amd64', 'x86_64'],
    ['i686', 'x86_32'],
    ['aarch64', 'arm64'],
    ['armv7l', 'arm32'],
    ['armv8l', 'arm32'],
    ['ppc64le', 'ppc64'],
    ['riscv64', 'riscv64'],
  ])('arch: uname -m %s is %s', (raw, arch) => {
    expect(normaliseArch(raw)).toBe(arch);
  });

  it("reads a field as opam's Scanf does: key before the first `=`, the first word, the first line", () => {
    expect(osReleaseField('NAME="Debian GNU/Linux"\n', 'NAME')).toBe('Debian');
    expect(osReleaseField('ID="x"\nID=y\n', 'ID')).toBe('x');
    expect(osReleaseField("ID='a b'\n", 'ID')).toBe("'a");
    expect(osReleaseField(' ID=x\n', 'ID')).toBeUndefined();
    expect(osReleaseField('ID=\n', 'ID')).toBe('');
  });

  it('takes OPAMVAR_<name> overrides, as opam does', () => {
    const vars = systemVariables(linux(DEBIAN_12));
    expect(withOverrides(vars, { OPAMVAR_os_family: 'alpine', OPAMVAR_os_version: '3.20' })).toEqual({
      ...vars,
      'os-family': 'alpine',
      'os-version': '3.20',
    });
  });
});
