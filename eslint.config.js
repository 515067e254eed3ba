import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '__tests__/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', Buffer: 'readonly' }
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }]
    }
  },
  {
    // The pure core decides from data: it imports nothing that does I/O (shell, orchestration, runner, node I/O).
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../*', '!../core/*'], message: 'src/core is pure: import only from src/core.' },
            { group: ['@actions/*', 'node:fs', 'node:fs/*', 'node:child_process', 'node:net', 'node:http', 'node:https', 'node:os', 'node:process', 'fs', 'child_process', 'os'], message: 'src/core is pure: I/O belongs in src/shell.' }
          ]
        }
      ],
      'no-restricted-globals': ['error', { name: 'fetch', message: 'src/core is pure: the network belongs in src/shell.' }]
    }
  },
  {
    // A folder inside the core (src/core/report/) is still the core: `../x` is a sibling core module.
    files: ['src/core/*/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../../*', '!../../core/*'], message: 'src/core is pure: import only from src/core.' },
            { group: ['@actions/*', 'node:fs', 'node:fs/*', 'node:child_process', 'node:net', 'node:http', 'node:https', 'node:os', 'node:process', 'fs', 'child_process', 'os'], message: 'src/core is pure: I/O belongs in src/shell.' }
          ]
        }
      ]
    }
  }
)
