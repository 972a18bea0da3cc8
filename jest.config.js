import { base } from './jest.preset.js';

/** Unit tests: `packages/<pkg>/src/**\/*.test.ts`, fast, no servers. */
export default {
  ...base,
  testMatch: ['<rootDir>/packages/*/src/**/*.test.ts'],
};
