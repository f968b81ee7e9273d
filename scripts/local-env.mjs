// Prepares `npm run local`: builds the offline opam repository fixture, copies example/hello into
// a scratch workspace (configure and build write beside config.ml), and writes .tmp/local.env from
// .env.example with ${PWD} replaced by this folder and ${SHA} by the checked-out commit (dotenv
// files do not expand variables, and opam wants absolute file:// URLs). The job summary starts
// empty, as a runner's does; the run (main, then post) writes it to .tmp/local/summary.md.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeOpamRepository } from './make-opam-repo.mjs';

const root = process.cwd();
mkdirSync(join(root, '.tmp/local/runner-temp'), { recursive: true });
rmSync(join(root, '.tmp/local/workspace'), { recursive: true, force: true });
cpSync(join(root, 'example/hello'), join(root, '.tmp/local/workspace/hello'), { recursive: true });
writeFileSync(join(root, '.tmp/local/summary.md'), '');
await makeOpamRepository(join(root, '.tmp/opam-repo'));
const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
const env = readFileSync(join(root, '.env.example'), 'utf8').replaceAll('${PWD}', root).replaceAll('${SHA}', sha);
writeFileSync(join(root, '.tmp/local.env'), env);
console.log(`wrote .tmp/local.env (GITHUB_SHA=${sha}); the job summary goes to .tmp/local/summary.md`);
