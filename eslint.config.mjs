import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'build/**', 'dist/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Layering (DESIGN §2): core is framework-neutral; the runtime never reaches into the front ends.
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['lib/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['cdk8s', 'cdk8s-plus-*', '@pulumi/*', '../cdk8s/*', '../pulumi/*'] },
      ],
    },
  },
  {
    files: ['runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['cdk8s', 'cdk8s-plus-*', '@pulumi/*', '**/lib/cdk8s/**', '**/lib/pulumi/**'] },
      ],
    },
  },
);
