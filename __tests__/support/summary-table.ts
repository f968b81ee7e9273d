/**
 * Reads the job summary's tables back (they are HTML, written by `core.summary.addTable`): every
 * row as its cells' text, tags removed and entities decoded, so tests compare what a reader sees.
 */
export function htmlText(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

export function summaryTableRows(summary: string): string[][] {
  return [...summary.matchAll(/<tr>(.*?)<\/tr>/g)].map((row) =>
    [...(row[1] ?? '').matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((cell) => htmlText(cell[1] ?? '')),
  );
}

/** The body rows as name → value (the first of a name wins; main's rows come before post's). */
export function summaryValues(summary: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of summaryTableRows(summary)) {
    if (name !== undefined && value !== undefined && !(name in values)) values[name] = value;
  }
  return values;
}
