// One deploy (or rollback, or promote) in its own process, as one matrix job would run it:
//   node deploy-worker.mjs <bundled deploy.js> <job.json> <result.json>
// job.json: { config, ctx, image, setup } or { config, ctx, rollbackTo } or { config, ctx } with
// config.deploy.promote; the preflight and the source facts come first, as in main. result.json receives
// { ok: true, outcome } or { ok: false, error }; the exit code is 0 or 1 to match.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, jobFile, resultFile] = process.argv.slice(2);
const { deployImage, preflight, promote, readSourceFacts, rollback } = await import(pathToFileURL(bundle).href);
const job = JSON.parse(readFileSync(jobFile, 'utf8'));
try {
  const cleared = await preflight(job.config.deploy);
  const outcome = job.rollbackTo
    ? await rollback(job.config, job.ctx, job.rollbackTo, cleared)
    : job.config.deploy.promote
      ? await promote(job.config, job.ctx, cleared)
      : await deployImage(
          job.config,
          job.ctx,
          job.image,
          job.setup,
          cleared,
          await readSourceFacts(job.ctx, job.config.build.workingDirectory),
        );
  writeFileSync(resultFile, JSON.stringify({ ok: true, outcome }));
} catch (error) {
  writeFileSync(
    resultFile,
    JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
  process.exitCode = 1;
}
