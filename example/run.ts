/**
 * The quick start: runs the bundled action end to end on example/hello the way a runner would,
 * twice (cold, then warm from the cache), against loopback stand-ins for what a real run talks to:
 * the local opam repository fixture (no network), the Actions cache service backed by Azurite, and
 * a git smart-HTTP server holding the deployment repository behind a token.
 *
 * Run it with `bash example/run.sh` (which installs what is missing first).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startAzurite } from '../__tests__/support/azurite.js';
import { createBareRepo } from '../__tests__/support/bare-repo.js';
import { startCacheService } from '../__tests__/support/cache-service.js';
import { startGitHttp } from '../__tests__/support/git-http.js';
import { PROJECT_ROOT, removeRun, runAction, type RunResult } from '../__tests__/support/harness.js';
import { makeOpamRepository } from '../__tests__/support/opam-repo.js';

const target = process.argv[2] ?? 'xen';
const work = join(PROJECT_ROOT, '.tmp/example');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const opamRepo = await makeOpamRepository(join(work, 'opam-repository'));
const azurite = await startAzurite();
const cache = await startCacheService({ azurite });
const deployRepo = await createBareRepo(join(work, 'mirage-www-deployment.git'));
const token = `example-${Date.now().toString(36)}`;
const git = await startGitHttp({ repoPath: deployRepo, token });

const workspace = join(work, 'workspace');
const toolCache = join(work, 'tool-cache');
// One HOME for both runs, as on a hosted runner: the opam root lives under it and cached paths must match.
const home = join(work, 'home');

async function step(title: string): Promise<RunResult> {
  // Each job starts from a fresh checkout, without the files the previous build generated.
  rmSync(workspace, { recursive: true, force: true });
  cpSync(join(PROJECT_ROOT, 'example/hello'), join(workspace, 'hello'), { recursive: true });
  const started = Date.now();
  const result = await runAction({
    event: 'push-default-branch',
    workspace,
    toolCache,
    home,
    env: cache.env,
    inputs: {
      target,
      'working-directory': 'hello',
      'ocaml-compiler': 'ocaml-system',
      'opam-version': 'system',
      'opam-repositories': `fixture: ${opamRepo.url}`,
      'mirage-version': '4.11.1',
      deploy: 'true',
      'deploy-repository': git.url,
      'deploy-token': token,
    },
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\n=== ${title}: main exited ${result.main.exitCode}, post ${result.post?.exitCode} in ${seconds} s`);
  for (const [name, value] of Object.entries(result.outputs)) console.log(`  ${name} = ${value}`);
  if (result.main.exitCode !== 0) {
    console.log(result.log);
    throw new Error(`${title} failed`);
  }
  console.log(`\n${result.summary}`);
  return result;
}

try {
  const cold = await step('cold run (nothing cached)');
  const warm = await step('warm run (restored from the cache)');
  console.log('\n=== the deployment repository now holds:');
  console.log(
    execFileSync('git', ['--git-dir', deployRepo, 'ls-tree', '-r', '--name-only', 'HEAD'], { encoding: 'utf8' }),
  );
  removeRun(cold);
  removeRun(warm);
} finally {
  await git.stop();
  await cache.stop();
  await azurite.stop();
}
