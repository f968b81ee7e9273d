/**
 * The README's first quick-start command, as written: `bash example/run.sh`. Its first line names
 * the stand-ins; then each run shows the action's log folded as a runner shows it, the job summary,
 * and at the end the deployment repository's tree.
 */
import { describe, expect, it } from 'vitest';
import { runProcess } from '../support/bare-repo.js';
import { PROJECT_ROOT } from '../support/harness.js';

describe('bash example/run.sh', () => {
  it('says it runs offline with stand-ins, then shows groups, summary and the deployed tree', async () => {
    const result = await runProcess('bash', ['example/run.sh'], { cwd: PROJECT_ROOT, timeoutMs: 280_000 });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^Offline run with stand-ins: .*instead of opam-repository, a stand-in mirage CLI/);
    expect(lines[0]).toContain('on GitHub the action uses opam-repository, the real mirage, opam 2.4.1, OCaml 5.4.1');
    // cold and warm runs, each folded into group headings with their times
    expect(result.stdout.match(/^▶ Run mirage\/mirage-deploy@v1 \(target: xen\)$/gm)).toHaveLength(2);
    expect(result.stdout).toMatch(/^ {2}▸ opam switch +\d+\.\ds$/m);
    expect(result.stdout).toMatch(/^ {2}▸ make -j\d+ build +\d+\.\ds$/m);
    expect(result.stdout).toMatch(/^ {2}▸ Save caches +\d+\.\ds$/m);
    expect(result.stdout).not.toMatch(/^::/m);
    expect(result.stdout.match(/^### mirage-deploy: xen \(hello\)$/gm)).toHaveLength(2);
    expect(result.stdout).toMatch(/^ {2}compressed +\d+\.\d KiB \(\d+ bytes\) as hello\.xen\.bz2$/m);
    expect(result.stdout).toMatch(/^ {2}cache opam +restored \(exact\): v1-opam-/m);
    const tree = result.stdout.slice(result.stdout.indexOf('=== the deployment repository'));
    expect(tree).toMatch(/^ +\d+ {2}xen\/[0-9a-f]{40}\/hello\.xen\.bz2$/m);
    expect(tree).toMatch(/^ +41 {2}xen\/latest$/m);
  }, 300_000);
});
