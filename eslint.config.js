// Type-aware rules stay off to keep lint fast; tsc checks types. Two architecture rules matter:
// the grant domain imports no framework or infrastructure package, and no module imports itself
// back through a cycle.
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.run/**', 'coverage/**', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['libs/grant-domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*'], message: 'The grant domain is pure: no Nest imports.' },
            { group: ['typeorm', 'typeorm/*', 'pg'], message: 'The grant domain is pure: no database imports.' },
            { group: ['kafkajs'], message: 'The grant domain is pure: no Kafka imports.' },
            { group: ['jose'], message: 'The grant domain is pure: no JOSE imports.' },
            { group: ['#*', '!#grant-domain/*'], message: 'The grant domain imports only itself.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'The grant domain reads no environment.' }],
    },
  },
);
