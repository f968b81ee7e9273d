/**
 * ssh-keygen as the judge of what ssh accepts: a private key's public half, and whether known_hosts
 * text has a line for a host. Secret text reaches it through a named pipe, never a file.
 */
import { constants } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../config.js';
import { mustRun, runCommand, type CommandResult } from '../../exec.js';

const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Writes `text` into a FIFO once a reader has opened it; gives up when `finished` says the reader is gone. */
async function feed(fifo: string, text: string, finished: () => boolean): Promise<void> {
  // Non-blocking throughout, so that a reader that never comes, or stops reading, cannot hang the
  // run: the open fails with ENXIO until the reader is there, a full pipe gives EAGAIN, and a
  // reader that has read all it wanted gives EPIPE.
  let handle;
  for (;;) {
    try {
      handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
      if (finished()) return;
      await pause();
    }
  }
  try {
    const bytes = Buffer.from(text, 'utf8');
    for (let offset = 0; offset < bytes.length;) {
      try {
        offset += (await handle.write(bytes, offset)).bytesWritten;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') return;
        if (code !== 'EAGAIN' || finished()) throw error;
        await pause();
      }
    }
  } finally {
    await handle.close();
  }
}

/**
 * Runs `ssh-keygen` on text handed through a named pipe in a fresh 0700 folder, so that the text is
 * never stored in a file. A plain stdin will not do: Node's child stdin is a socket, and
 * ssh-keygen opens its input by path, which a socket cannot be.
 */
async function sshKeygenOn(text: string, args: (path: string) => string[]): Promise<CommandResult> {
  const dir = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'mirage-deploy-check-'));
  try {
    const fifo = join(dir, 'input');
    await mustRun('mkfifo', ['-m', '600', fifo], { silent: true });
    let finished = false;
    const running = runCommand('ssh-keygen', args(fifo), { silent: true }).finally(() => {
      finished = true;
    });
    const [result] = await Promise.all([running, feed(fifo, text, () => finished)]);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The public half of a private key, via `ssh-keygen -y`: ssh's own parser is the only reliable
 * judge of what ssh accepts. An empty passphrase is given so that it never prompts.
 */
export async function publicKeyOf(key: string): Promise<string> {
  const result = await sshKeygenOn(key, (path) => ['-y', '-P', '', '-f', path]);
  if (result.exitCode === 0 && /^\S+ AAAA/.test(result.stdout)) return result.stdout.trim();
  const said = result.stderr.replace(/Load key "[^"]*": /g, '').trim() || `exit code ${result.exitCode}`;
  throw new ConfigError([
    {
      input: 'deploy-key',
      message:
        `is not a private key that ssh can read (ssh-keygen: ${said}); store the whole key file in the secret, ` +
        'from its `-----BEGIN` line to its `-----END` line, or make a new one with ' +
        "`ssh-keygen -t ed25519 -N '' -f deploy_key`",
    },
  ]);
}

/** Whether known_hosts text has a line for `name` (`host` or `[host]:port`), as ssh looks it up. */
export async function hasKnownHost(knownHosts: string, name: string): Promise<boolean> {
  return (await sshKeygenOn(knownHosts, (path) => ['-F', name, '-f', path])).exitCode === 0;
}
