import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { summaryTitle } from '../src/summary.js';
import { summaryTableRows } from './support/summary-table.js';

describe('summaryTitle', () => {
  const build = { target: 'unix', workingDirectory: '/ws', configureArgs: [] as string[] };

  it.each([
    [build, 'mirage-deploy: unix'],
    [{ ...build, workingDirectory: '/ws/src' }, 'mirage-deploy: unix (src)'],
    [{ ...build, configureArgs: ['--net=socket'] }, 'mirage-deploy: unix (--net=socket)'],
    [
      { ...build, workingDirectory: '/ws/src', imageName: 'www', configureArgs: ['--net=direct', '--no-dhcp'] },
      'mirage-deploy: unix (src; image www; --net=direct --no-dhcp)',
    ],
    [{ ...build, prebuilt: { path: '/ws/dist' } }, 'mirage-deploy: unix (deploying dist)'],
  ])('%o → %s', (b, title) => {
    expect(summaryTitle(b, '/ws')).toBe(title);
  });

  it('tells apart the two unix jobs of the 2013 matrix (socket and direct networking)', () => {
    const socket = summaryTitle({ ...build, configureArgs: ['--net=socket'] }, '/ws');
    const direct = summaryTitle({ ...build, configureArgs: ['--net=direct'] }, '/ws');
    expect(socket).not.toBe(direct);
  });
});

describe('writeSummary', () => {
  let dir: string;
  let file: string;

  // One file for all: the toolkit's summary keeps the path it first resolved, across module resets.
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'summary-test-'));
    file = join(dir, 'summary.md');
  });

  beforeEach(() => {
    writeFileSync(file, '');
    vi.stubEnv('GITHUB_STEP_SUMMARY', file);
    vi.resetModules();
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a header row, then one row per value, code and links as HTML with the text escaped', async () => {
    const summary = await import('../src/summary.js');
    summary.summaryRow('image', { code: 'src/dist/a<b>.xen' });
    summary.summaryRow('deploy', { text: 'deployed xen/abc & more', href: 'https://example.invalid/t?a=1&b="2"' });
    summary.summaryRow('result', 'failed: invalid ', { code: 'target' }, ', ', { code: 'keep' });
    summary.summarySection('**Dry run**: nothing pushed');
    await summary.writeSummary('mirage-deploy: xen (src)', ['what', 'this run']);
    const written = readFileSync(file, 'utf8');
    expect(written).toContain('<h3>mirage-deploy: xen (src)</h3>');
    expect(written).toContain('<tr><th>what</th><th>this run</th></tr>');
    expect(written).toContain('<td><code>src/dist/a&lt;b&gt;.xen</code></td>');
    expect(written).toContain(
      '<a href="https://example.invalid/t?a=1&amp;b=&quot;2&quot;">deployed xen/abc &amp; more</a>',
    );
    expect(summaryTableRows(written)).toEqual([
      ['what', 'this run'],
      ['image', 'src/dist/a<b>.xen'],
      ['deploy', 'deployed xen/abc & more'],
      ['result', 'failed: invalid target, keep'],
    ]);
    expect(written.indexOf('**Dry run**')).toBeGreaterThan(written.indexOf('</table>'));
  });

  it('writes nothing when nothing was gathered', async () => {
    const summary = await import('../src/summary.js');
    await summary.writeSummary('mirage-deploy: unix', ['what', 'this run']);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('starts afresh after writing: a second step in the same process repeats nothing of the first', async () => {
    const summary = await import('../src/summary.js');
    summary.summaryRow('target', 'unix');
    await summary.writeSummary('main', ['what', 'this run']);
    summary.summaryRow('cache opam', 'saved');
    await summary.writeSummary('post', ['cache', 'saved?']);
    const [, post] = readFileSync(file, 'utf8').split('<h3>post</h3>');
    expect(post).toContain('<td>cache opam</td>');
    expect(post).not.toContain('<td>target</td>');
  });
});
