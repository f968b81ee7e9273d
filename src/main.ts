import * as core from '@actions/core';
import { ConfigError, parseConfig, type Config } from './config.js';
import { readContext, type RunContext } from './context.js';
import { maskSecret } from './secrets.js';
import { STATE } from './state.js';

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
  ].join('\n');
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
    return;
  }
  core.setFailed(error instanceof Error ? error.message : String(error));
}

export async function run(): Promise<void> {
  // Masked before anything else runs, so that no later message can print them.
  maskSecret(core.getInput('deploy-key'));
  maskSecret(core.getInput('deploy-token'));
  try {
    const ctx = readContext();
    const config = parseConfig((name) => core.getInput(name), ctx);
    core.startGroup('Inputs');
    core.info(describe(config, ctx));
    core.endGroup();
    core.saveState(STATE.mainSucceeded, 'true');
  } catch (error) {
    reportFailure(error);
  }
}
