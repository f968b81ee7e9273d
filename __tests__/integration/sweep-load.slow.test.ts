/**
 * The sweep of what builds leave running (src/isolation.ts), under load, through the bundle: eight
 * jobs at once, each build leaving detached readers that fork as they poll (as secret-isolation's
 * spy does), busy enough to load the machine. Every job kills its leftovers, waits for them to go, and deploys: one bare repository
 * over loopback, the jobs racing for its branch (the writer retries on the moved tip).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { pathWithout } from '../support/path-without.js';
import { createBareRepo } from '../support/bare-repo.js';
import { bareGit, shaOf } from '../support/deploy-scenario.js';
import { useFixtureScope } from '../support/fixture-action.js';
import { startGitHttp, type GitHttpServer } from '../support/git-http.js';

const TOKEN = `github_pat_${randomBytes(24).toString('hex')}`;
const JOBS = 8;
const READERS = 6;

/**
 * The build step: READERS detached readers that poll every process's name without pause (at the
 * lowest priority, for at most 300 s, longer than a loaded build takes to reach the sweep), then the real build. Busy and niced, a killed reader may wait
 * a while for a CPU to finish dying: what a loaded runner does to the sweep.
 */
const LEAVER = `#!/bin/sh
set -u
out="$1"
n=0
while [ "$n" -lt ${READERS} ]; do
  setsid nice -n 19 timeout 300 sh -c '
    while :; do
      cat /proc/[0-9]*/comm > /dev/null 2>&1
    done' < /dev/null > /dev/null 2>&1 &
  echo "$!" >> "$out/reader-pids"
  n=$((n + 1))
done
exec make build
`;

const fixture = useFixtureScope('sweep-load-');
let repo: string;
let http: GitHttpServer;

/** PATH without bubblewrap, for the bundle. */
let noBwrap: string;

beforeAll(async () => {
  noBwrap = pathWithout(join(fixture.base, 'no-bwrap-bin'), ['bwrap']);
  repo = await createBareRepo(join(fixture.base, 'srv', 'deployment.git'));
  http = await startGitHttp({ repoPath: repo, token: TOKEN });
}, 120_000);

afterAll(async () => {
  await http?.stop();
});

/** Running, or stopped: a zombie runs nothing. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

it(`${JOBS} builds leaving processes behind, run at once, all kill them and deploy`, async () => {
  const runs = await Promise.all(
    Array.from({ length: JOBS }, (_, i) => {
      const out = join(fixture.base, `job-${i}`);
      return fixture
        .runExample({
          workspace: `job-${i}`,
          opamRoot: `opam-root-${i}`,
          prepare: (dir) => writeFileSync(join(dir, 'leave.sh'), LEAVER, { mode: 0o755 }),
          // The sweep is the second layer, for a build without the sandbox (whose PID namespace
          // leaves nothing behind): a runner without bubblewrap, and the opt-out.
          env: { PATH: noBwrap },
          inputs: {
            'allow-unsandboxed-build': 'true',
            'opam-disable-sandboxing': 'true',
            target: 'unix',
            cache: 'false',
            deploy: 'true',
            'build-command': `sh ./leave.sh ${out}`,
            'deploy-repository': http.url,
            'deploy-token': TOKEN,
            keep: '0',
          },
          sha: shaOf(i),
          timeoutMs: 400_000,
        })
        .then((result) => ({ result, dir: out }));
    }),
  );
  for (const [i, { result, dir }] of runs.entries()) {
    const readers = readFileSync(join(dir, 'reader-pids'), 'utf8').trim().split('\n').map(Number);
    expect(readers).toHaveLength(READERS);
    expect(result.main.exitCode, `job ${i}:\n${result.log}`).toBe(0);
    expect(result.outputs.deployed, `job ${i}`).toBe('true');
    for (const reader of readers) {
      expect(result.log).toMatch(new RegExp(`killed process ${reader} \\(.*\\): the build left it running`));
      expect(alive(reader), `job ${i}'s reader ${reader}`).toBe(false);
    }
    const killed = [...result.log.matchAll(/killed process (\d+) /g)].map((m) => m[1]);
    expect(killed.length, `job ${i}: a process killed twice`).toBe(new Set(killed).size);
  }
  const folders = (await bareGit(repo, ['ls-tree', '--name-only', 'main', '--', 'unix/'])).trim().split('\n');
  expect(folders.sort()).toEqual(
    Array.from({ length: JOBS }, (_, i) => `unix/${shaOf(i)}`)
      .concat('unix/latest')
      .sort(),
  );
}, 600_000);
