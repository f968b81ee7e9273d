import * as core from '@actions/core';
import { relative } from 'node:path';

/**
 * The job summary, gathered as the phases go and written once at the end of a step (also after a
 * failure), so that a failed run still says what it did. The table is HTML (`core.summary.addTable`),
 * where markdown is not rendered: values are plain text, `{ code }` or `{ text, href }`, escaped here.
 */
export type SummaryPart = string | { readonly code: string } | { readonly text: string; readonly href: string };

const rows: Array<[string, string]> = [];
const sections: string[] = [];

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function render(part: SummaryPart): string {
  if (typeof part === 'string') return escapeHtml(part);
  if ('code' in part) return `<code>${escapeHtml(part.code)}</code>`;
  return `<a href="${escapeHtml(part.href)}">${escapeHtml(part.text)}</a>`;
}

export function summaryRow(name: string, ...value: SummaryPart[]): void {
  rows.push([escapeHtml(name), value.map(render).join('')]);
}

/** A block of markdown written after the table. */
export function summarySection(markdown: string): void {
  sections.push(markdown);
}

/**
 * What tells two jobs of one target apart in a workflow's summary page: the prebuilt image a
 * deploy-only job takes, the unikernel's folder, the image name and the configure arguments, each
 * only when it is not the default.
 */
export function summaryTitle(
  build: {
    readonly target: string;
    readonly workingDirectory: string;
    readonly imageName?: string | undefined;
    readonly configureArgs: readonly string[];
    readonly prebuilt?: { readonly path: string } | undefined;
  },
  workspace: string,
): string {
  const details = [
    build.prebuilt ? `deploying ${relative(workspace, build.prebuilt.path) || '.'}` : '',
    relative(workspace, build.workingDirectory),
    build.imageName ? `image ${build.imageName}` : '',
    build.configureArgs.join(' '),
  ].filter((d) => d !== '');
  return `mirage-deploy: ${build.target}${details.length ? ` (${details.join('; ')})` : ''}`;
}

/** Writes the heading, the table under `header`, then the sections. Nothing when nothing was gathered. */
export async function writeSummary(title: string, header: readonly [string, string]): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY || (rows.length === 0 && sections.length === 0)) return;
  const summary = core.summary.addHeading(escapeHtml(title), 3);
  if (rows.length) {
    summary.addTable([header.map((data) => ({ data: escapeHtml(data), header: true })), ...rows.map((r) => [...r])]);
  }
  if (sections.length) summary.addRaw(`\n${sections.join('\n\n')}\n`);
  // Written once: a later step in the same process (`npm run local` runs post there) starts afresh.
  rows.length = 0;
  sections.length = 0;
  await summary.write();
}
