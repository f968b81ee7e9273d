// A real albatross daemon in local mode for the host updater's tests (albatrossd and
// albatross-console on unix sockets in a scratch folder), found through ALBATROSS_BIN, the shared
// folder of prebuilt binaries (/work/shared/albatross, or ../shared/albatross beside the
// repository). The tender albatrossd starts is a stand-in in its db folder: it boots the image
// with the real solo5-spt and, when that exits 0, stays up as a server unikernel would, so a
// solo5 test image that returns (test_hello) runs, and one that crashes (test_exception) fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from './harness.js';

export interface AlbatrossInstall {
  /** Folder with albatrossd, albatross-console, albatross-client, solo5-spt, solo5-elftool. */
  readonly bin: string;
  /** Folder with solo5's test images and mirage-hello.spt. */
  readonly images: string;
}

const INSTALL_HINT =
  'set ALBATROSS_BIN to a folder with albatrossd, albatross-console, albatross-client, solo5-spt and solo5-elftool (opam install albatross solo5)';

const BINARIES = ['albatrossd', 'albatross-console', 'albatross-client', 'solo5-spt', 'solo5-elftool'];

/** `root/bin` and `root/images` as the shared folder lays them out, or `root` the binaries' own folder. */
function installAt(root: string): AlbatrossInstall | undefined {
  for (const bin of [path.join(root, 'bin'), root]) {
    if (BINARIES.every((b) => existsSync(path.join(bin, b)))) {
      return { bin, images: path.join(bin === root ? path.dirname(root) : root, 'images') };
    }
  }
  return undefined;
}

/** Where the albatross binaries are, or why they are not found (the reason names the fix). */
export function findAlbatross(): AlbatrossInstall | string {
  const roots = [
    process.env.ALBATROSS_BIN,
    '/work/shared/albatross',
    path.resolve(PROJECT_ROOT, '../shared/albatross'),
  ];
  const candidates = roots.filter((r): r is string => r !== undefined && r !== '').map((r) => path.resolve(r));
  for (const root of candidates) {
    const found = installAt(root);
    if (found) return found;
  }
  return `albatross not found (looked in ${candidates.join(', ')}): ${INSTALL_HINT}`;
}

export interface LocalAlbatross {
  /** albatrossd's socket (`<tmp>/util/vmmd.sock`); the console's is beside it. */
  readonly socket: string;
  readonly tmpdir: string;
  readonly bin: string;
  stop(): Promise<void>;
}

/** Starts albatross-console, then albatrossd, in `base`; resolves once both sockets exist. */
export async function startLocalAlbatross(install: AlbatrossInstall, base: string): Promise<LocalAlbatross> {
  const root = await mkdtemp(path.join(base, 'albatross-'));
  const tmpdir = path.join(root, 'tmp');
  const db = path.join(root, 'db');
  for (const dir of [path.join(tmpdir, 'util'), path.join(tmpdir, 'fifo'), path.join(db, 'block')]) {
    await mkdir(dir, { recursive: true });
  }
  await writeFile(
    path.join(db, 'solo5-spt'),
    [
      '#!/bin/sh',
      `if [ "$1" = --version ]; then printf 'solo5-spt tender, version v0.10.0\\nABI version 2\\n'; exit 0; fi`,
      `${path.join(install.bin, 'solo5-spt')} "$@" || exit $?`,
      'echo "stand-in tender: the image returned 0; staying up as a server unikernel would"',
      'exec sleep 3600',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const children: ChildProcess[] = [];
  const start = (name: string, args: string[]) => {
    // its own process group: stop() ends the daemon and every tender it started
    const child = spawn(path.join(install.bin, name), args, { cwd: root, detached: true, stdio: 'ignore' });
    children.push(child);
  };
  const socket = path.join(tmpdir, 'util', 'vmmd.sock');
  start('albatross-console', [`--tmpdir=${tmpdir}`]);
  await waitFor(path.join(tmpdir, 'util', 'console.sock'));
  start('albatrossd', [`--tmpdir=${tmpdir}`, `--dbdir=${db}`]);
  await waitFor(socket);
  return {
    socket,
    tmpdir,
    bin: install.bin,
    stop: async () => {
      for (const child of children.reverse()) {
        if (child.pid !== undefined && child.exitCode === null) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function waitFor(file: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(file)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`albatross: ${file} did not appear within 10 s`);
}
