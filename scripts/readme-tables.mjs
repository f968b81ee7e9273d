// Generates the README's inputs and outputs tables from action.yml, so the two cannot drift.
// `--write` rewrites the README between its markers; `--check` fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const cell = (text) =>
  String(text ?? '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\|/g, '\\|');

const code = (text) => (text === '' ? '' : `\`${text.replace(/`/g, '')}\``);

/** @param {string} actionYml */
export function renderTables(actionYml) {
  const action = parse(actionYml);
  const inputs = Object.entries(action.inputs).map(
    ([name, spec]) => `| \`${name}\` | ${cell(spec.description)} | ${code(cell(spec.default))} |`,
  );
  const outputs = Object.entries(action.outputs).map(([name, spec]) => `| \`${name}\` | ${cell(spec.description)} |`);
  return {
    inputs: ['| input | description | default |', '|---|---|---|', ...inputs].join('\n'),
    outputs: ['| output | description |', '|---|---|', ...outputs].join('\n'),
  };
}

/** @param {string} readme @param {string} actionYml */
export function updateReadme(readme, actionYml) {
  const tables = renderTables(actionYml);
  let text = readme;
  for (const [name, table] of Object.entries(tables)) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from === -1 || to === -1) throw new Error(`README.md lacks the ${start} … ${end} markers`);
    text = `${text.slice(0, from + start.length)}\n${table}\n${text.slice(to)}`;
  }
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const updated = updateReadme(readme, readFileSync(join(root, 'action.yml'), 'utf8'));
  if (process.argv.includes('--check')) {
    if (updated !== readme) {
      console.error("README.md's tables differ from action.yml: run 'npm run docs' and commit README.md.");
      process.exit(1);
    }
  } else {
    writeFileSync(readmePath, updated);
  }
}
