import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.venv/**', '.venv-mlserver/**', '.tools/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['js-yaml'], importNames: ['default'], message: 'js-yaml 5 has no default export.' }] }
      ]
    }
  },
  {
    // The core library stays free of the Actions toolkit: only the adapters in src/actions and the GitHub client use it.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/github/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@actions/*'], message: 'src/core must not import the Actions toolkit.' }] }
      ]
    }
  }
)
