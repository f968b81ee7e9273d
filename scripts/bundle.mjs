// Bundles the two entry points the runner executes into dist/ as ESM for Node 20+ (the action
// runs on node24; the tests also run it on Node 20). Deterministic, so that CI can diff it.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } } });

await rm(values.outdir, { recursive: true, force: true });
await build({
  entryPoints: { index: 'src/index.ts', post: 'src/post.ts' },
  outdir: values.outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
  // Several CommonJS dependencies call require() on Node built-ins; ESM output has no require.
  banner: {
    js: "import { createRequire as __mdCreateRequire } from 'node:module'; const require = __mdCreateRequire(import.meta.url);",
  },
});
