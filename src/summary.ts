import * as core from '@actions/core';

/**
 * The job summary, gathered as the phases go and written once at the end (also after a failure),
 * so that a failed run still says what it did.
 */
const rows: Array<[string, string]> = [];
const sections: string[] = [];

export function summaryRow(name: string, value: string): void {
  rows.push([name, value]);
}

/** A block of markdown written after the table. */
export function summarySection(markdown: string): void {
  sections.push(markdown);
}

export async function writeSummary(title: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY || (rows.length === 0 && sections.length === 0)) return;
  const table = rows.length
    ? ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`)].join('\n')
    : '';
  await core.summary
    .addHeading(title, 3)
    .addRaw(`${table}\n\n${sections.join('\n\n')}\n`)
    .write();
}
