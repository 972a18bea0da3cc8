// Shared jest settings: TypeScript through @swc/jest in native ESM, workspace packages resolved to
// their sources through the "source" export condition (no build needed for tests).
export const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironmentOptions: { customExportConditions: ['source', 'node', 'node-addons'] },
  modulePathIgnorePatterns: ['<rootDir>/packages/.*/dist/'],
  // Property and fuzz tests do real file I/O: a busy 2-core CI must not turn them into timeouts.
  testTimeout: 30_000,
};
