// The esbuild options every bundle of the project's TypeScript for Node shares (the action in
// dist/, the deploy phase the tests and the deploy benchmark run): one ESM file for Node 20+.
export const NODE_ESM_BUNDLE = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // Optional peers of @cyclonedx/cyclonedx-library's XML plug-ins, which it loads in a try and the
  // action never uses (it writes JSON): left to a require() that fails and is caught.
  external: ['xmlbuilder2', 'libxmljs2'],
  // Several CommonJS dependencies call require() on Node built-ins; ESM output has no require.
  banner: {
    js: "import { createRequire as __mdCreateRequire } from 'node:module'; const require = __mdCreateRequire(import.meta.url);",
  },
};

/**
 * The deploy phase and the tests' servers and scenarios as one module, for the deploy benchmarks:
 * bundled into `.tmp/<name>/bench.mjs` and imported. `extra`: more support modules to export.
 */
export async function loadDeployBench(root, name, extra = []) {
  const { build } = await import('esbuild');
  const { mkdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { pathToFileURL } = await import('node:url');
  const out = join(root, '.tmp', name);
  mkdirSync(out, { recursive: true });
  await build({
    stdin: {
      contents: [
        "export { deployImage } from './src/deploy/index.ts';",
        "export { preflight } from './src/deploy/credentials/preflight.ts';",
        "export { readSourceFacts } from './src/deploy/source.ts';",
        "export * from './__tests__/support/bare-repo.ts';",
        "export * from './__tests__/support/sshd.ts';",
        "export * from './__tests__/support/deploy-scenario.ts';",
        ...extra.map((module) => `export * from '${module}';`),
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    outfile: join(out, 'bench.mjs'),
    ...NODE_ESM_BUNDLE,
  });
  return { m: await import(pathToFileURL(join(out, 'bench.mjs')).href) };
}
