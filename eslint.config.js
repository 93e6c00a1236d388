// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'test/artifacts/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports (CONVENTIONS §6).' },
      ],
    },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/*/src/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
    },
  },
  {
    // The emulator carries a test-only override of WhatsApp's noise root: production code
    // (the daemon and the worker, tests beside the code included) must never reach it.
    files: ['packages/daemon/src/**/*.ts', 'packages/worker/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@stickerbot/wa-sim', '@stickerbot/wa-sim/*', '**/wa-sim/**'],
              message: 'wa-sim is test-only (it can override WhatsApp server trust); use it from test/ or packages/*/test only.',
            },
          ],
        },
      ],
    },
  },
  {
    // What a demo, a dev loop or a benchmark runs is product: it never imports test code
    // (tests may import scripts/support/ and the packages' src/test-kit/ instead).
    files: ['scripts/**/*.ts', 'scripts/**/*.mjs', 'packages/*/bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/test/**', '**/test'], message: 'product code never imports test code: move what it needs to scripts/support/ or a package\'s src/test-kit/.' }] },
      ],
    },
  },
  {
    // Config files are loaded by their tools through a default export.
    files: ['*.config.ts', '*.config.js', 'packages/*/*.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
