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
