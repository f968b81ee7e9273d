import * as core from '@actions/core';
import { addPathForLaterSteps } from '../sandbox/tools.js';
import * as io from '@actions/io';
import * as tc from '@actions/tool-cache';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { SetupConfig } from '../config.js';
import type { RunContext } from '../context.js';
import { deadline, OPAM_DOWNLOAD_DEADLINE_MS, seconds, TIMED_OUT, withDeadline } from '../deadlines.js';
import { mustRun } from '../exec.js';
import { fileDigest } from '../hash.js';
import { OPAM_SHA512 } from './checksums.js';

export const OPAM_RELEASES_URL = 'https://github.com/ocaml/opam/releases/download';
/** mirage needs opam ≥ 2.1 (depext built in, `--deps-only` on local files, `unsafe-yes`). */
export const MINIMUM_OPAM = [2, 1] as const;

/** The `<arch>-<os>` suffix of opam's release binaries. */
export interface OpamPlatform {
  readonly arch: 'x86_64' | 'arm64';
  readonly os: 'linux' | 'macos';
}

export interface Digest {
  readonly algorithm: 'sha256' | 'sha512';
  readonly hex: string;
  /** Where the expected value came from, for the error message. */
  readonly source: string;
}

export function opamPlatform(runnerOs: string, runnerArch: string): OpamPlatform {
  const os = ({ Linux: 'linux', macOS: 'macos' } as const)[runnerOs as 'Linux' | 'macOS'];
  const arch = ({ X64: 'x86_64', ARM64: 'arm64' } as const)[runnerArch.toUpperCase() as 'X64' | 'ARM64'];
  if (os === undefined || arch === undefined) {
    throw new Error(
      `input \`opam-version\`: opam publishes binaries for Linux and macOS on X64 and ARM64, not for ${runnerOs} ${runnerArch}; ` +
        'install opam on the runner and set `opam-version: system`',
    );
  }
  return { arch, os };
}

/** Release tags spell pre-releases with `-` where opam versions have `~` (2.5.0~alpha1 → 2.5.0-alpha1). */
export function opamBinaryUrl(version: string, platform: OpamPlatform, baseUrl?: string): string {
  const tag = version.replace(/~/g, '-');
  return `${(baseUrl ?? OPAM_RELEASES_URL).replace(/\/+$/, '')}/${tag}/opam-${tag}-${platform.arch}-${platform.os}`;
}

/** The checksum the downloaded binary must have: the input when given, else the table. */
export function expectedDigest(version: string, platform: OpamPlatform, sha256Input?: string): Digest {
  if (sha256Input !== undefined)
    return { algorithm: 'sha256', hex: sha256Input.toLowerCase(), source: 'input `opam-sha256`' };
  const sha512 = OPAM_SHA512[version]?.[`${platform.arch}-${platform.os}`];
  if (sha512 !== undefined) return { algorithm: 'sha512', hex: sha512, source: "the action's checksum table" };
  throw new Error(
    `input \`opam-version\`: the action has no checksum for opam ${version} on ${platform.os} ${platform.arch}, ` +
      `so it will not run a download it cannot verify; use one of ${Object.keys(OPAM_SHA512).join(', ')}, ` +
      'or set `opam-sha256` to the SHA-256 of that binary (`sha256sum opam-…`)',
  );
}

/** `2.1.2` from `opam --version` output; undefined when it is not a version. */
export function parseOpamVersion(output: string): string | undefined {
  return /^(\d+\.\d+\.\d+(?:[~-][A-Za-z0-9.]+)?)\s*$/.exec(output.trim())?.[1];
}

export function isSupportedOpam(version: string): boolean {
  const [major = 0, minor = 0] = version.split(/[.~-]/).map(Number);
  return major > MINIMUM_OPAM[0] || (major === MINIMUM_OPAM[0] && minor >= MINIMUM_OPAM[1]);
}

async function verify(path: string, expected: Digest, url: string): Promise<void> {
  const actual = await fileDigest(path, expected.algorithm);
  if (actual !== expected.hex) {
    throw new Error(
      `the opam binary from ${url} has ${expected.algorithm} ${actual}, but ${expected.source} says ${expected.hex}; ` +
        'it was not used. Check `opam-download-url` (a mirror must serve the release unchanged) or `opam-sha256`',
    );
  }
}

/**
 * Puts the verified opam binary of `setup.opamVersion` on PATH (tool cache, download on a miss)
 * and returns its path. The digest is checked on every use, not only after a download: the tool
 * cache of a self-hosted runner outlives the checksum the entry was first verified with.
 */
async function toolCacheOpam(setup: SetupConfig, ctx: RunContext): Promise<string> {
  const platform = opamPlatform(ctx.runnerOs, ctx.runnerArch);
  const expected = expectedDigest(setup.opamVersion, platform, setup.opamSha256);
  const url = opamBinaryUrl(setup.opamVersion, platform, setup.opamDownloadUrl);
  let dir = tc.find('opam', setup.opamVersion, platform.arch);
  if (dir !== '') {
    core.info(`opam ${setup.opamVersion}: found in the tool cache at ${dir}`);
    await verify(join(dir, 'opam'), expected, dir);
  } else {
    core.info(`opam ${setup.opamVersion}: downloading ${url}`);
    let downloaded: string | typeof TIMED_OUT;
    const limit = deadline(OPAM_DOWNLOAD_DEADLINE_MS);
    try {
      downloaded = await withDeadline(tc.downloadTool(url), limit);
    } catch (error) {
      throw new Error(
        `input \`opam-version\`: cannot download opam ${setup.opamVersion} from ${url} ` +
          `(${error instanceof Error ? error.message : String(error)}); check the version and \`opam-download-url\``,
      );
    }
    if (downloaded === TIMED_OUT) {
      // The download is abandoned, not stopped: the step's entry ends the process when it is done.
      throw new Error(
        `input \`opam-version\`: the download of opam ${setup.opamVersion} from ${url} did not finish within ` +
          `${seconds(limit)} s; the server stalled (retry the job, or set \`opam-download-url\` to a mirror)`,
      );
    }
    await verify(downloaded, expected, url);
    chmodSync(downloaded, 0o755);
    dir = await tc.cacheFile(downloaded, 'opam', 'opam', setup.opamVersion, platform.arch);
  }
  addPathForLaterSteps(dir);
  return join(dir, 'opam');
}

async function systemOpam(): Promise<string> {
  const path = await io.which('opam', false);
  if (path === '') {
    throw new Error(
      'input `opam-version`: `system` needs an opam on PATH, and there is none; install opam ≥ 2.1 on the runner ' +
        'or give a release such as `2.4.1` to download',
    );
  }
  return path;
}

export interface OpamBinary {
  readonly path: string;
  readonly version: string;
}

export async function installOpam(setup: SetupConfig, ctx: RunContext): Promise<OpamBinary> {
  const path = setup.opamVersion === 'system' ? await systemOpam() : await toolCacheOpam(setup, ctx);
  const output = (await mustRun(path, ['--version'], { silent: true })).stdout;
  const version = parseOpamVersion(output);
  if (version === undefined) throw new Error(`\`${path} --version\` printed ${JSON.stringify(output)}, not a version`);
  if (!isSupportedOpam(version)) {
    throw new Error(
      `input \`opam-version\`: opam ${version} at ${path} is too old; MirageOS 4 needs opam ≥ ${MINIMUM_OPAM.join('.')}` +
        ' (use a release such as `2.4.1`)',
    );
  }
  core.info(`opam ${version}: ${path}`);
  return { path, version };
}
