// @ts-check
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import { boundaryRules } from './tools/lint/boundaries.js';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'test-results/**', '.data/**', '**/*.d.ts', '**/lint-scratch-*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  // Type-aware rules (docs/adr/0010-type-aware-lint.md): a promise is awaited, returned, or marked
  // `void` on purpose; a `void` on something that is not a promise is an error too. projectService
  // reuses the tsconfig the editor uses, so one program serves every file.
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['packages/web/vite.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-meaningless-void-operator': 'error',
    },
  },
  // Package boundaries and import direction (docs/adr/0009-package-boundaries.md).
  {
    plugins: { 'import-x': importX },
    settings: {
      // Without these, import-x reads .ts dependencies as unknown and no-cycle sees no edges.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json', conditionNames: ['development', 'types', 'import', 'default'] })],
    },
    rules: {
      // No relative path into another workspace (each tools/*, packages/*, services/* and monitoring has a package.json).
      'import-x/no-relative-packages': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  // Files stay small enough to read whole (architecture issue); a longer one says why at its top: /* eslint-disable max-lines -- <reason> */
  {
    files: ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts', 'services/*/src/**/*.ts', 'services/*/test/**/*.ts'],
    ignores: ['**/*.generated.ts'],
    rules: { 'max-lines': ['error', { max: 250, skipBlankLines: true, skipComments: true }] },
  },
  ...boundaryRules,
);
