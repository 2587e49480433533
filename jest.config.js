const { availableParallelism } = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  // Jest's default is one worker less than the cores: on CI's 2 cores that is 1, and the suite ran in band on one
  // core. The test files are independent (each synthesizes its own stacks, runs its own in-memory AWS or local
  // servers on free ports), so they run on every core.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  // Node's, plus the CloudFormation Validate engines kept for the whole worker (test/support/environment.ts).
  testEnvironment: '<rootDir>/test/support/environment.ts',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The cfn-lint tier (11 configurations, both stacks, one cfn-lint run: about 90 s of CPU) runs on its own:
  // `npm run test:cfn-lint`, which `.ci/run` calls after `npm test`.
  testPathIgnorePatterns: ['/node_modules/', '/test/cfn-lint\\.test\\.ts$'],
  // Transpile-only (swc): fast. Types are checked once by `npm run typecheck` (tsc --noEmit).
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  // The run's cache (test/support/run-cache.ts): made before the first file, removed after the last.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['<rootDir>/test/support/setup.ts'],
  snapshotSerializers: ['<rootDir>/test/support/asset-hash-serializer.js'],
};
