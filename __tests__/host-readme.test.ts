// host/README.md's examples run as written: the pid-file restart says nothing on a first run (no
// pid file yet), and every updater command that follows the mirage-www deployment repository's xen
// folder, which holds two images, names the one it follows.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './support/harness.js';

const readme = readFileSync(join(PROJECT_ROOT, 'host/README.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'host-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The `--restart '…'` value of the first example line that contains `marker`. */
function restartWith(marker: string): string {
  const line = readme.split('\n').find((l) => l.includes('--restart') && l.includes(marker)) ?? '';
  return /--restart '([^']*)'/.exec(line)?.[1] ?? '';
}

describe('host/README.md', () => {
  it('its pid-file restart example is quiet on a first run and starts the image', () => {
    const restart = restartWith('.pid');
    expect(restart).not.toBe('');
    const command = restart.replaceAll('/run/', `${dir}/`).replaceAll('/var/log/', `${dir}/`);
    const env = { ...process.env, MIRAGE_IMAGE: 'true', MIRAGE_ARGS: '' };
    const first = spawnSync('sh', ['-c', command], { encoding: 'utf8', env });
    expect(first.status).toBe(0);
    expect(`${first.stdout}${first.stderr}`).toBe('');
    expect(readFileSync(join(dir, 'www.pid'), 'utf8')).toMatch(/^\d+\n$/);
  });

  it('gives --image wherever it follows the two-image xen folder of mirage-www-deployment', () => {
    const commands = readme
      .replace(/\s*\\\n\s*/g, ' ')
      .split('\n')
      .filter((l) => l.includes('mirage-deploy-pull --repository git@github.com:mirage/mirage-www-deployment.git'));
    expect(commands.length).toBeGreaterThan(1);
    for (const command of commands) expect(command).toMatch(/ --image \S+/);
  });
});
