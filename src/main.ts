import * as core from '@actions/core';
import { ConfigError, parseConfig, redactUrl, type AlbatrossConfig, type Config } from './config.js';
import { readContext, type RunContext } from './context.js';
import { preflight } from './deploy/credentials/preflight.js';
import { decideDeploy, type GateDecision } from './deploy/plan.js';
import { deployImage, promote, rollback } from './deploy/index.js';
import { readSourceFacts, type SourceFacts } from './deploy/source.js';
import { buildUnikernel } from './mirage/index.js';
import { bootTestDeployOnly } from './mirage/boot-test-run.js';
import { DEFAULT_TARGET, checkTargetRunnable } from './mirage/targets.js';
import { opamRoot, setupOpam } from './opam/index.js';
import { duneCacheRoot } from './mirage/plan.js';
import { prepareBuildRunner, type BuildRunner } from './sandbox/index.js';
import { pinTools, untrustedFolders } from './sandbox/tools.js';
import { homedir } from 'node:os';
import { sealEnvironment, sweepLeftovers } from './isolation.js';
import { handleCancelSignals } from './cancel.js';
import { STATE } from './state.js';
import { formatSeconds } from './log.js';
import { summaryRow, summaryTitle, writeSummary } from './summary.js';
import { loadPrebuilt, type BuildVersions } from './mirage/prebuilt.js';
import { writeSbom } from './sbom/index.js';
import { checkAttestation } from './attestation/index.js';
import { submitDependencies } from './dependency-graph/index.js';
import { dirname, relative } from 'node:path';
import { defined } from './defined.js';
import type { BuiltImage, DeployOutcome } from './types.js';
import { preflightAlbatross, type AlbatrossCleared } from './albatross/preflight.js';
import type { Cleared } from './deploy/credentials/plan.js';
import { rollbackAlbatross, runAlbatross } from './albatross/run.js';
import { commentFromFile, previewWanted, readPreviewBase, reportPreview } from './preview/index.js';
import { rebuildDeployed } from './rebuild/index.js';

function describe(config: Config, ctx: RunContext): string {
  const { build, setup, deploy } = config;
  return [
    `event: ${ctx.eventName || '(none)'} on ${ctx.ref || '(no ref)'} at ${ctx.sha || '(no sha)'}`,
    `target: ${build.target}`,
    `unikernel: ${build.workingDirectory}/${build.configFile}`,
    `configure arguments: ${build.configureArgs.length ? build.configureArgs.join(' ') : '(none)'}`,
    `OCaml: ${setup.ocamlCompilerInput}; opam: ${setup.opamVersion}; mirage: ${setup.mirageVersion}`,
    `opam repositories: ${setup.opamRepositories.map((r) => `${r.name}=${r.url}`).join(', ')}`,
    `cache: ${setup.cache ? `on (prefix ${setup.cachePrefix})` : 'off'}`,
    `deploy: ${deploy.enabled ? `to ${deploy.repository}` : 'off'}${deploy.dryRun ? ' (dry run)' : ''}`,
    ...(config.albatross ? [`albatross: ${config.albatross.endpoints.join(', ')}`] : []),
    ...(config.rebuild ? [`rebuild: ${config.rebuild.directory}/${config.rebuild.sha} (no cache)`] : []),
  ]
    .map(redactUrl)
    .join('\n');
}

function reportFailure(error: unknown): void {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) {
      core.error(`input \`${problem.input}\`: ${problem.message}`, { title: `Invalid input: ${problem.input}` });
    }
    core.setFailed(
      error.problems.length === 1
        ? 'one input is invalid; nothing was done'
        : `${error.problems.length} inputs are invalid; nothing was done`,
    );
    summaryRow(
      'result',
      'failed: invalid ',
      ...error.problems.flatMap((p, i) => [...(i ? [', '] : []), { code: p.input }]),
    );
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  core.setFailed(message);
  summaryRow('result', `failed: ${message.split('\n')[0] ?? ''}`);
}

function setDeployOutputs(outcome: DeployOutcome): void {
  core.setOutput('deployed', String(outcome.deployed));
  core.setOutput('deploy-commit', outcome.commit ?? '');
  core.setOutput('deploy-path', outcome.path ?? '');
  core.setOutput('deploy-url', outcome.url ?? '');
  summaryRow('deploy', outcome.url ? { text: outcome.message, href: outcome.url } : outcome.message);
  const host = outcome.host;
  if (host === undefined) return;
  core.setOutput('host-status', host.status);
  core.setOutput('host-running', String(host.status === 'success'));
  summaryRow('host', host.message);
  // A workflow run goes red when the new kernel did not come up on the host.
  if (host.status !== 'success') throw new Error(host.message);
  core.info(host.message);
}

/** The deploy's own time (compressing, fetching the tip, pushing), which the build's times leave out. */
async function timedDeploy(deploy: () => Promise<DeployOutcome>): Promise<DeployOutcome> {
  const started = Date.now();
  try {
    return await deploy();
  } finally {
    summaryRow('deploy time', formatSeconds((Date.now() - started) / 1000));
  }
}

/** Like a rollback, a promote builds nothing: the bytes tested in one folder are copied to another. */
async function promoteOnly(config: Config, ctx: RunContext, gate: GateDecision, secrets: Secrets): Promise<void> {
  if (!gate.deploy || secrets.cleared === undefined) {
    core.notice(`promote-from: not promoting: ${gate.reason}`);
    setDeployOutputs({ deployed: false, message: gate.reason });
    return;
  }
  const { cleared } = secrets;
  setDeployOutputs(await timedDeploy(() => promote(config, ctx, cleared)));
}

/** `rollback-to`: `latest` (and albatross, with `deploy-to: albatross`) moved back; nothing built. */
async function rollbackOnly(
  config: Config,
  ctx: RunContext,
  gate: ReturnType<typeof decideDeploy>,
  secrets: Secrets,
  rollbackTo: string,
): Promise<void> {
  if (!gate.deploy) {
    core.notice(`rollback-to: not moving anything: ${gate.reason}`);
    setDeployOutputs({ deployed: false, message: gate.reason });
    return;
  }
  const { cleared, albatross } = secrets;
  if (albatross) await rollbackAlbatross(config, albatross.config, ctx, rollbackTo, albatross.cleared);
  if (cleared && (config.albatross?.repository ?? true)) {
    setDeployOutputs(await timedDeploy(() => rollback(config, ctx, rollbackTo, cleared)));
  } else {
    setDeployOutputs({ deployed: false, message: `rolled albatross back to ${rollbackTo}; no repository` });
  }
}

/** The built (or prebuilt) image's outputs and summary rows. */
function setImageOutputs(ctx: RunContext, image: BuiltImage, versions: BuildVersions): void {
  core.setOutput('ocaml-version', versions.ocamlVersion);
  core.setOutput('opam-version', versions.opamVersion);
  core.setOutput('image', image.path);
  core.setOutput('image-sha256', image.sha256);
  core.setOutput('image-size', String(image.size));
  core.setOutput('sbom', image.sbom?.cyclonedx ?? '');
  core.setOutput('packages', image.sbom === undefined ? '' : String(image.sbom.packages.length));
  if (image.reproducible !== undefined) core.setOutput('reproducible', String(image.reproducible));
  if (image.sbom === undefined) summaryRow('SBOM', 'none (no lock file)');
  else
    summaryRow(
      'SBOM',
      { code: relative(ctx.workspace, image.sbom.cyclonedx) },
      ` (${image.sbom.packages.length} packages)`,
    );
}

async function runPhases(config: Config, ctx: RunContext): Promise<void> {
  // Comment-only mode (`pr-comment-from`): nothing is built or deployed.
  if (config.preview.from !== undefined) return commentFromFile(config, ctx);
  // Everything that can refuse the run is decided before anything is downloaded or built.
  const gate = decideDeploy(config.deploy, ctx);
  const { rollbackTo } = config.deploy;
  const promoting = config.deploy.promote !== undefined;
  const builds = rollbackTo === undefined && !promoting && config.build.prebuilt === undefined;
  if (builds) checkTargetRunnable(config.build.target, ctx.runnerOs);
  // What the deploy (or a rebuild's read) needs of the secrets, checked now; empty when this run does neither.
  const secrets = gate.deploy ? await preflights(config) : await rebuildSecrets(config);
  // Where the build runs; a job holding a secret where no sandbox can be made stops here.
  const paths = { opamRoot: opamRoot(), duneCacheRoot: duneCacheRoot(process.env, homedir()) };
  const runner = await prepareBuildRunner(config, ctx, paths, builds);

  if (rollbackTo !== undefined) return rollbackOnly(config, ctx, gate, secrets, rollbackTo);

  if (promoting) return promoteOnly(config, ctx, gate, secrets);

  if (config.rebuild !== undefined && runner) {
    return rebuildDeployed(config, ctx, config.rebuild, secrets.cleared, async (pinned, lock) => {
      const built = await build(pinned, ctx, runner, lock);
      setImageOutputs(ctx, built.image, built.versions);
      return built.image;
    });
  }

  // Read before any build code runs: after that, git never runs in the checkout the build could change.
  const source = gate.deploy ? await readSourceFacts(ctx, config.build.workingDirectory) : undefined;
  // The preview's `latest` too, without the write secret, before the pull request's code runs.
  const base = previewWanted(config, ctx) ? await readPreviewBase(config, ctx) : undefined;
  const { image, versions } = runner ? await build(config, ctx, runner) : await takePrebuilt(config);
  if (!runner) await bootTestDeployOnly(config, ctx, image);
  setImageOutputs(ctx, image, versions);
  if (base) await reportPreview(config, ctx, image, versions, base);

  if (!gate.deploy || source === undefined) {
    core.notice(`Not deploying: ${gate.reason}`);
    setDeployOutputs({ deployed: false, message: `not deployed: ${gate.reason}` });
    return;
  }
  if (builds) {
    // Nothing the build started may watch the deploy: git's environment holds the token, RUNNER_TEMP the key.
    const killed = await sweepLeftovers();
    core.info(killed ? `killed ${killed} processes the build left running` : 'the build left no process running');
  }
  await deployEverywhere(config, ctx, image, versions, secrets, source);
}

interface Secrets {
  /** The deploy secret, for the repository (or, with `deploy-to: albatross` alone, to read the previous image). */
  readonly cleared?: Cleared;
  readonly albatross?: {
    readonly config: AlbatrossConfig;
    readonly cleared: { readonly albatross: AlbatrossCleared; readonly repository?: Cleared };
  };
}

/** Every secret this run deploys with, checked before anything is downloaded or built. */
async function preflights(config: Config): Promise<Secrets> {
  const { albatross, deploy } = config;
  const toRepository = albatross?.repository ?? true;
  const cleared =
    toRepository || deploy.key !== undefined || deploy.token !== undefined ? await preflight(deploy) : undefined;
  if (albatross === undefined) return { ...(cleared ? { cleared } : {}) };
  const withKey = { albatross: await preflightAlbatross(albatross), ...(cleared ? { repository: cleared } : {}) };
  return { ...(cleared ? { cleared } : {}), albatross: { config: albatross, cleared: withKey } };
}

/** A rebuild reads the deployment repository with the deploy secret when one is given, else anonymously. */
async function rebuildSecrets(config: Config): Promise<Secrets> {
  const { deploy } = config;
  if (config.rebuild === undefined || (deploy.key === undefined && deploy.token === undefined)) return {};
  return { cleared: await preflight(deploy) };
}

/** Albatross first: the folder is written and `latest` moved only once every endpoint runs the image. */
async function deployEverywhere(
  config: Config,
  ctx: RunContext,
  image: BuiltImage,
  versions: BuildVersions,
  { cleared, albatross }: Secrets,
  source: SourceFacts,
): Promise<void> {
  if (albatross) await runAlbatross(config, albatross.config, ctx, image, albatross.cleared);
  if (cleared && (config.albatross?.repository ?? true)) {
    const outcome = await timedDeploy(() => deployImage(config, ctx, image, versions, cleared, source));
    setDeployOutputs(outcome);
    if (outcome.deployed && !config.deploy.dryRun) await submitDependencies(config, ctx, image, source.sha);
    return;
  }
  const what = config.deploy.dryRun ? 'dry run: nothing created on albatross' : 'deployed to albatross';
  setDeployOutputs({ deployed: false, message: `${what}; \`deploy-to\` names no repository` });
}

async function build(
  config: Config,
  ctx: RunContext,
  runner: BuildRunner,
  recordedLock?: string,
): Promise<{ image: BuiltImage; versions: BuildVersions }> {
  const setup = await setupOpam(config, ctx, runner);
  core.setOutput('cache-hit', setup.cacheHit);
  return { image: await buildUnikernel(config, ctx, setup, runner, recordedLock), versions: setup };
}

/** `image-path`: what a build job left, checked; no opam, no build. */
async function takePrebuilt(config: Config): Promise<{ image: BuiltImage; versions: BuildVersions }> {
  const prebuilt = config.build.prebuilt;
  if (prebuilt === undefined) throw new Error('takePrebuilt: no `image-path`');
  core.startGroup(`Prebuilt image: ${prebuilt.path}`);
  try {
    const taken = await loadPrebuilt(prebuilt.path, prebuilt.isFolder, config.build.target);
    core.info(`image ${taken.image.path}: ${taken.image.size} bytes, sha256 ${taken.image.sha256} (as built)`);
    summaryRow('image', { code: taken.image.path }, ' (prebuilt)');
    // Made again from the build's lock file and switch export, for the image just verified.
    const sources = taken.sbomSources;
    const sbom =
      sources && (await writeSbom(taken.image, taken.versions.opamVersion, sources, dirname(sources.lockFile)));
    const bundle = config.build.attestationBundle;
    const attestation = bundle === undefined ? undefined : await checkAttestation(bundle, taken.image.sha256);
    return { image: { ...taken.image, ...defined({ sbom, attestation }) }, versions: taken.versions };
  } finally {
    core.endGroup();
  }
}

export async function run(): Promise<void> {
  const started = Date.now();
  let title = `mirage-deploy: ${core.getInput('target') || DEFAULT_TARGET}`;
  handleCancelSignals();
  try {
    const ctx = readContext();
    const config = parseConfig((name) => core.getInput(name), ctx);
    // From here on the inputs live only in `config`: no process this run starts can read them.
    sealEnvironment();
    // Before any cache call or program run by name: git, ssh, tar, zstd only from folders no build writes.
    pinTools(untrustedFolders());
    title = summaryTitle(config.build, ctx.workspace);
    core.startGroup('Inputs');
    core.info(describe(config, ctx));
    core.endGroup();
    await runPhases(config, ctx);
    core.saveState(STATE.mainSucceeded, 'true');
  } catch (error) {
    reportFailure(error);
  } finally {
    core.saveState(STATE.summaryTitle, title);
    summaryRow('total time', `${formatSeconds((Date.now() - started) / 1000)} (the main step)`);
    await writeSummary(title, ['what', 'this run']);
  }
}
