import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const phases = ['remote', 'nodes', 'agent', 'target', 'provision', 'run', 'gather', 'analyze', 'snapshot'];

/** A phase may import @e3/model (and @e3/remote where it reaches nodes), never another phase. */
const phaseRules = phases.map((phase) => ({
  files: [`packages/${phase}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: phases
              .filter((p) => p !== phase && p !== 'remote')
              .flatMap((p) => [`@e3/${p}`, `@e3/${p}/*`])
              .concat(['@e3/cli', '@e3/cli/*']),
            message: 'Phase packages never import each other: share data through @e3/model and the run directory.',
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '**/*.cjs', 'e3-home/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', fetch: 'readonly', setImmediate: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', performance: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  { files: ['*.config.js', 'jest.preset.js', 'eslint.config.js'], rules: { 'no-restricted-syntax': 'off' } },
  {
    // Functions short enough to read at once (tests excluded).
    files: ['packages/*/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 150, skipBlankLines: true, skipComments: true }] },
  },
  ...phaseRules,
);
