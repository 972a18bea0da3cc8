import { base } from './jest.preset.js';

/** Unit tests: `packages/<pkg>/src/**\/*.test.ts`, fast, no servers. */
export default {
  ...base,
  testMatch: ['<rootDir>/packages/*/src/**/*.test.ts'],
  // Workers, never one process for all 76 files: memory held by one file's tests is freed with its worker.
  maxWorkers: 2,
  workerIdleMemoryLimit: '1GB',
};
