import { defineConfig } from 'vitest/config';

/**
 * Two groups (scripts/test.mjs picks one): the suite (`npm test`) and the slow group
 * (`npm run test:slow`, files named `*.slow.test.ts`): tests that load the machine on purpose
 * (eight builds or jobs at once, sixteen deploys racing) or walk a whole workflow, one file at a
 * time so that each has the machine to itself.
 */
const slow = process.env.MIRAGE_DEPLOY_TEST_GROUP === 'slow';

export default defineConfig({
  test: {
    include: [slow ? '__tests__/**/*.slow.test.ts' : '__tests__/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(slow ? [] : ['__tests__/**/*.slow.test.ts'])],
    // Integration tests mostly wait on real processes (opam, git, ssh, the bundle's own steps): on
    // two cores, four files in flight keep both busy (the whole suite used a third of two cores
    // with two).
    maxWorkers: slow ? 1 : 4,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
