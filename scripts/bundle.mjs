// Bundles the two entry points the runner executes into dist/ as ESM for Node 20+ (the action
// runs on node24, as do the tests). Deterministic, so that CI can diff it.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { NODE_ESM_BUNDLE } from './esbuild-node.mjs';

const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } } });

await rm(values.outdir, { recursive: true, force: true });
await build({
  ...NODE_ESM_BUNDLE,
  entryPoints: { index: 'src/index.ts', post: 'src/post-index.ts' },
  outdir: values.outdir,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
});
