/**
 * `rebuild`: the pure decisions of building a deployed commit again. What a rebuild builds comes
 * from the workflow, never from the deployment repository (untrusted): the recorded buildinfo is
 * only compared with it. Before anything is built: the checkout must be the recorded commit, the
 * workflow's build inputs and opam repositories the recorded ones. After the build: the verdict,
 * and which recorded facts differ from this runner's.
 */
import type { OpamRepository } from '../config.js';
import { redactUrl } from '../config.js';
import type { BuildInfo, BuildInputs, RepositoryState } from '../buildinfo/plan.js';
import { isGitUrl } from '../buildinfo/plan.js';

/** The recorded inputs a rebuild compares, by input name: those that change the image. */
export type GivenInputs = Omit<BuildInputs, 'bootArgs' | 'ocamlVersion'>;

const show = (value: string | readonly string[]): string =>
  typeof value === 'string' ? `\`${value}\`` : value.length === 0 ? '(none)' : `\`${value.join(' ')}\``;

/**
 * Every build input whose workflow value is not the recorded one, as `input: recorded …, given …`.
 * `boot-args` are not compared: they do not change the image. The OCaml version the switch holds
 * is a result, compared with the other facts after the build.
 */
export function inputMismatches(recorded: BuildInputs, given: GivenInputs): string[] {
  const pairs: Array<[string, string | readonly string[], string | readonly string[]]> = [
    ['target', recorded.target, given.target],
    ['configure-args', recorded.configureArgs, given.configureArgs],
    ['config-file', recorded.configFile, given.configFile],
    ['working-directory', recorded.workingDirectory, given.workingDirectory],
    ['build-command', recorded.buildCommand, given.buildCommand],
    ['ocaml-compiler', recorded.compiler, given.compiler],
    ['mirage-version', recorded.mirageVersion, given.mirageVersion],
  ];
  return pairs
    .filter(([, a, b]) => show(a) !== show(b))
    .map(([input, a, b]) => `input \`${input}\`: recorded ${show(a)}, the workflow gives ${show(b)}`);
}

/**
 * The workflow's `opam-repositories` against the recorded ones, by name and URL in order: a
 * rebuild never takes a URL from the record, so any difference is refused. A recorded URL had its
 * credentials replaced by `***`, so the workflow's is compared the same way.
 */
export function repositoryMismatches(recorded: readonly RepositoryState[], given: readonly OpamRepository[]): string[] {
  const problems: string[] = [];
  const length = Math.max(recorded.length, given.length);
  for (let i = 0; i < length; i++) {
    const r = recorded[i];
    const g = given[i];
    const mine = g === undefined ? undefined : { name: g.name, url: redactUrl(g.url) };
    if (r?.name === mine?.name && r?.url === mine?.url) continue;
    const said = (x?: { name: string; url: string }) => (x === undefined ? '(none)' : `\`${x.name}: ${x.url}\``);
    problems.push(
      `input \`opam-repositories\`: repository ${i + 1} is recorded as ${said(r)}, the workflow gives ${said(mine)}`,
    );
  }
  return problems;
}

/**
 * The workflow's repositories, each git one at its recorded commit (`url#commit`, which opam
 * fetches as that commit); the others as given, their content compared after the build.
 */
export function pinnedRepositories(
  recorded: readonly RepositoryState[],
  given: readonly OpamRepository[],
): OpamRepository[] {
  return given.map((g, i) => {
    const r = recorded[i];
    if (r === undefined || !('commit' in r) || !isGitUrl(g.url)) return g;
    return { name: g.name, url: `${g.url.replace(/#.*$/, '')}#${r.commit}` };
  });
}

/** Why the checkout cannot be rebuilt: it is not the recorded commit. Undefined when it is. */
export function checkoutProblem(folder: string, recorded: string, checkout: string): string | undefined {
  if (checkout.toLowerCase() === recorded) return undefined;
  return (
    `the checkout is at ${checkout}, but ${folder} was built from ${recorded}; check that commit out ` +
    `(\`actions/checkout\` with \`ref: ${recorded}\`) before the rebuild`
  );
}

const sameText = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function packageDifferences(recorded: BuildInfo, rebuilt: BuildInfo): string[] {
  const mine = new Map(rebuilt.systemPackages.map((p) => [p.name, p.version]));
  const theirs = new Map(recorded.systemPackages.map((p) => [p.name, p.version]));
  const names = [...new Set([...theirs.keys(), ...mine.keys()])].sort();
  return names
    .filter((n) => theirs.get(n) !== mine.get(n))
    .map((n) => `system package ${n}: recorded ${theirs.get(n) ?? '(none)'}, this runner ${mine.get(n) ?? '(none)'}`);
}

function repositoryDifferences(recorded: BuildInfo, rebuilt: BuildInfo): string[] {
  const state = (r?: RepositoryState) => (r === undefined ? '(none)' : 'commit' in r ? r.commit : `sha256 ${r.sha256}`);
  return recorded.repositories
    .map((r) => [r, rebuilt.repositories.find((m) => m.name === r.name)] as const)
    .filter(([r, m]) => state(r) !== state(m))
    .map(([r, m]) => `opam repository ${r.name}: recorded ${state(r)}, this runner ${state(m)}`);
}

/**
 * The recorded facts this runner's rebuild does not share, one line each: the environment (OS,
 * distribution, version, architecture, variables), system packages, the compiler and mirage, the
 * opam repositories' state, the switch and the lock file.
 */
export function factDifferences(
  recorded: BuildInfo,
  rebuilt: BuildInfo,
  locks: { readonly recorded: string | undefined; readonly rebuilt: string | undefined },
): string[] {
  const env = (['os', 'distribution', 'version', 'architecture'] as const)
    .filter((k) => recorded.environment[k] !== rebuilt.environment[k])
    .map((k) => `environment ${k}: recorded ${recorded.environment[k]}, this runner ${rebuilt.environment[k]}`);
  const variables = !sameText(recorded.environment.variables, rebuilt.environment.variables)
    ? [
        `environment variables: recorded ${JSON.stringify(recorded.environment.variables)}, this runner ${JSON.stringify(rebuilt.environment.variables)}`,
      ]
    : [];
  const versions = (['ocamlVersion', 'mirageVersion'] as const)
    .filter((k) => recorded.inputs[k] !== rebuilt.inputs[k])
    .map(
      (k) =>
        `${k === 'ocamlVersion' ? 'OCaml' : 'mirage'}: recorded ${recorded.inputs[k]}, this runner ${rebuilt.inputs[k]}`,
    );
  return [
    ...env,
    ...variables,
    ...packageDifferences(recorded, rebuilt),
    ...versions,
    ...repositoryDifferences(recorded, rebuilt),
    ...(recorded.opamSwitch === rebuilt.opamSwitch ? [] : ['the switch export (opamSwitch) differs']),
    ...(locks.recorded === locks.rebuilt ? [] : ['the lock file differs']),
  ];
}

export interface RebuildVerdict {
  readonly identical: boolean;
  /** The summary row. */
  readonly row: string;
  /** The step's error, for a different image. */
  readonly problem?: string;
}

/** What the rebuild found: the same sha256, or where the images first differ and what differs around them. */
export function judgeRebuild(
  folder: string,
  recorded: { readonly sha256: string; readonly size: number },
  rebuilt: { readonly sha256: string; readonly size: number },
  offset: number | undefined,
  facts: readonly string[],
): RebuildVerdict {
  if (recorded.sha256 === rebuilt.sha256) {
    return { identical: true, row: `identical: sha256 ${rebuilt.sha256}, as recorded in ${folder}` };
  }
  const where =
    offset === undefined
      ? 'the bytes are the same but the sha256 differ'
      : `first difference at byte offset ${offset} (sizes ${recorded.size} recorded, ${rebuilt.size} rebuilt)`;
  const differ =
    facts.length === 0 ? 'no recorded fact differs from this runner' : `differing facts: ${facts.join('; ')}`;
  return {
    identical: false,
    row: `different: ${where}`,
    problem: `the rebuild of ${folder} gave sha256 ${rebuilt.sha256}, the recorded image is ${recorded.sha256}; ${where}; ${differ}`,
  };
}
