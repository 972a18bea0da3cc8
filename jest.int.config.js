import { base } from './jest.preset.js';

/** Integration and e2e tests: real servers and processes, one file at a time. */
export default {
  ...base,
  testMatch: ['<rootDir>/packages/*/test/**/*.int.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
  maxWorkers: 1,
  testTimeout: 120_000,
};
