/**
 * `rebuild: <directory>/<sha>`: a deployed commit built again from scratch, in the sandbox, and
 * compared with the image the deployment repository holds. Reads the folder (manifest, image,
 * buildinfo, lock file) with the writer's read-only plumbing (albatross/previous.ts), refuses
 * before building when the checkout, the build inputs or the opam repositories are not the
 * recorded ones, builds with the workflow's inputs (git repositories at their recorded commits,
 * the recorded lock file in place of `make lock`'s), and says `identical` or `different`. Nothing
 * is pushed and no cache is restored or saved.
 */
import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { readCapped } from '../capped-read.js';
import { join, relative, resolve } from 'node:path';
import type { Config, RebuildConfig } from '../config.js';
import type { RunContext } from '../context.js';
import { anonymousAccess, readStoredImage, type StoredImage } from '../albatross/previous.js';
import { openGitAccess } from '../deploy/credentials/access.js';
import { CREDENTIAL_FOLDERS, type Cleared } from '../deploy/credentials/plan.js';
import { checkoutCommit } from '../deploy/source.js';
import { BUILDINFO_MAX_BYTES, buildInfoFileName, buildInfoProblem, type BuildInfo } from '../buildinfo/plan.js';
import { firstDifference } from '../mirage/reproducible.js';
import { timedGroup } from '../log.js';
import { appendJsonState } from '../state.js';
import { summaryRow } from '../summary.js';
import type { BuiltImage } from '../types.js';
import {
  checkoutProblem,
  factDifferences,
  inputMismatches,
  judgeRebuild,
  pinnedRepositories,
  repositoryMismatches,
} from './plan.js';

/** What a rebuild read from the deployment repository: the verified image and its records. */
interface Recorded {
  readonly stored: StoredImage;
  readonly info: BuildInfo;
  readonly lock?: string;
  /** `<directory>/<sha>`. */
  readonly folder: string;
}

/** A file of the checked-out folder, refused when it is not a regular file or larger than `cap`. */
async function readFolderFile(path: string, cap: number, what: string): Promise<string> {
  const read = await readCapped(path, cap);
  if (read.kind === 'read') return read.text;
  if (read.kind === 'too-large') throw new Error(`${what} is ${read.size} bytes, more than the ${cap} a build writes`);
  throw new Error(`${what} is ${read.kind === 'missing' ? 'missing' : 'not a regular file'}; not rebuilding from it`);
}

/** The folder read and its image verified, in a folder of RUNNER_TEMP (hidden from the build, removed by post). */
async function readRecorded(config: Config, ctx: RunContext, rebuild: RebuildConfig, cleared?: Cleared) {
  const fromFolder = { ...config, deploy: { ...config.deploy, directory: rebuild.directory } };
  const access = cleared === undefined ? anonymousAccess(fromFolder) : await openGitAccess(cleared, ctx);
  if (access === undefined) {
    throw new Error(
      `input \`rebuild\`: ${config.deploy.repository} can only be read with a secret; give \`deploy-key\` (a read-only deploy key will do) or \`deploy-token\``,
    );
  }
  const work = join(resolve(ctx.runnerTemp), `${CREDENTIAL_FOLDERS.prefix}${randomUUID()}`);
  appendJsonState(CREDENTIAL_FOLDERS.state, work);
  await mkdir(work, { recursive: true, mode: 0o700 });
  const sha = rebuild.sha === 'latest' ? undefined : rebuild.sha;
  const stored = await readStoredImage(access, fromFolder, work, config.deploy.imageName, sha).finally(
    // Read once, before anything builds: the key leaves the disk, beyond the sandbox's hiding it.
    () => access.keyFolder && rm(access.keyFolder, { recursive: true, force: true }),
  );
  const asked = `${rebuild.directory}/${rebuild.sha}`;
  if (stored === undefined) {
    throw new Error(
      `input \`rebuild\`: ${config.deploy.repository} holds no image at ${asked} (or its manifest names none); give a folder a deploy wrote`,
    );
  }
  return readRecords(stored, `${rebuild.directory}/${stored.sha}`);
}

async function readRecords(stored: StoredImage, folder: string): Promise<Recorded> {
  const name = buildInfoFileName(stored.entry.name);
  if (stored.entry.files[name] === undefined) {
    throw new Error(
      `input \`rebuild\`: ${folder} has no ${name} (deployed before build records, or from a build that could not write one); there is nothing to rebuild from`,
    );
  }
  const text = await readFolderFile(join(stored.folder, name), BUILDINFO_MAX_BYTES, `${folder}/${name}`);
  const problem = buildInfoProblem(text, Buffer.byteLength(text), stored.entry.sha256);
  if (problem !== undefined) throw new Error(`input \`rebuild\`: ${folder}/${name} cannot be rebuilt from: ${problem}`);
  const lockName = stored.entry.sbom?.lockFile;
  const lock =
    lockName === undefined
      ? undefined
      : await readFolderFile(join(stored.folder, lockName), BUILDINFO_MAX_BYTES, `${folder}/${lockName}`);
  return { stored, info: JSON.parse(text) as BuildInfo, folder, ...(lock === undefined ? {} : { lock }) };
}

/** Every reason not to build, at once, before anything is built: the checkout, the inputs, the repositories. */
async function refuseMismatches(config: Config, ctx: RunContext, recorded: Recorded): Promise<void> {
  const { build, setup } = config;
  const checkout = checkoutProblem(
    recorded.folder,
    recorded.stored.sha,
    await checkoutCommit(ctx, build.workingDirectory),
  );
  const given = {
    target: build.target,
    configureArgs: build.configureArgs,
    configFile: build.configFile,
    workingDirectory: relative(ctx.workspace, build.workingDirectory) || '.',
    buildCommand: build.buildCommand,
    compiler: setup.ocamlCompilerInput,
    mirageVersion: setup.mirageVersion,
  };
  const problems = [
    ...(checkout === undefined ? [] : [checkout]),
    ...inputMismatches(recorded.info.inputs, given),
    ...repositoryMismatches(recorded.info.repositories, setup.opamRepositories),
  ];
  if (problems.length === 0) return;
  for (const p of problems) core.error(p, { title: 'rebuild refused' });
  throw new Error(
    `input \`rebuild\`: not rebuilding ${recorded.folder}, nothing was built: ${problems.join('; ')}. ` +
      "A rebuild takes its inputs from the workflow: give the recorded ones (the workflow's inputs at that commit)",
  );
}

/** This runner's build record and lock, compared with the recorded ones: the facts that differ. */
async function differingFacts(recorded: Recorded, image: BuiltImage): Promise<string[]> {
  if (image.buildInfo === undefined) return ['this runner wrote no build record to compare (see the warning)'];
  const mine = JSON.parse(await readFile(image.buildInfo, 'utf8')) as BuildInfo;
  const lock = image.sbom === undefined ? undefined : await readFile(image.sbom.lockFile, 'utf8');
  return factDifferences(recorded.info, mine, { recorded: recorded.lock, rebuilt: lock });
}

/**
 * Reads `rebuild`'s folder, refuses a mismatch, builds with `build` (given the configuration with
 * the recorded repository commits) and compares. Sets output `rebuild`; throws on `different`.
 */
export async function rebuildDeployed(
  config: Config,
  ctx: RunContext,
  rebuild: RebuildConfig,
  cleared: Cleared | undefined,
  build: (pinned: Config, lock: string | undefined) => Promise<BuiltImage>,
): Promise<void> {
  const recorded = await timedGroup(`Rebuild: read ${rebuild.directory}/${rebuild.sha}`, async () => {
    const read = await readRecorded(config, ctx, rebuild, cleared);
    core.info(`${read.folder}: image sha256 ${read.info.image.sha256}, built with action ${read.info.action.version}`);
    await refuseMismatches(config, ctx, read);
    return read;
  });
  summaryRow('rebuild of', { code: recorded.folder });
  const opamRepositories = pinnedRepositories(recorded.info.repositories, config.setup.opamRepositories);
  if (recorded.lock === undefined) core.warning(`${recorded.folder} holds no lock file: \`make lock\` locks again`);
  const image = await build({ ...config, setup: { ...config.setup, opamRepositories } }, recorded.lock);
  const verdict = await timedGroup('Rebuild: compare', async () => {
    const facts = await differingFacts(recorded, image);
    const same = image.sha256 === recorded.stored.entry.sha256;
    const offset = same ? undefined : firstDifference(await readFile(recorded.stored.path), await readFile(image.path));
    const judged = judgeRebuild(recorded.folder, recorded.stored.entry, image, offset, facts);
    summaryRow('rebuild facts', facts.length === 0 ? "the recorded facts are this runner's" : facts.join('; '));
    return judged;
  });
  core.setOutput('rebuild', verdict.identical ? 'identical' : 'different');
  summaryRow('rebuild', verdict.row);
  if (verdict.problem !== undefined) throw new Error(verdict.problem);
  core.info(verdict.row);
}
