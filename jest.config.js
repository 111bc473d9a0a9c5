// ts-jest in ESM mode (run with NODE_OPTIONS=--experimental-vm-modules, see package.json).
// Type checking is done once by `npm run typecheck`; jest only transpiles (isolatedModules).
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 120000,
  maxWorkers: 2,
  // on a clean clone (CI) the suites known to be long start first: test/sequencer.mjs
  testSequencer: '<rootDir>/test/sequencer.mjs',
};
