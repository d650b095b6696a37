// GraphQL Code Generator config for the schema-consumer check (run.sh).
// Paths are relative to clients/, which run.sh and the npm scripts make the cwd.
//
// typescript-operations 6 emits enums and input types itself, so putting the
// `typescript` plugin in the same file would declare them twice. Instead:
//   generated/schema.ts      every schema type (plugin `typescript`)
//   generated/operations.ts  one result and one variables type per example
//                            operation (plugin `typescript-operations`),
//                            taking enums from ./schema
// Both are regenerated on every run and git-ignored.
import type { CodegenConfig } from '@graphql-codegen/cli';

// Every custom scalar must be mapped here: strictScalars turns an unmapped one
// into a codegen error instead of a silent `any`.
const scalars = {
  DateTime: 'string', // ISO 8601, as the server serializes it
};

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: '../examples/*.graphql',
  overwrite: true,
  // Error out when ../examples holds no operation at all.
  ignoreNoDocuments: false,
  generates: {
    'generated/schema.ts': {
      plugins: ['typescript'],
      config: {
        scalars,
        strictScalars: true,
        // String unions instead of TypeScript `enum`s (no runtime code, and
        // `verbatimModuleSyntax`-friendly).
        enumsAsTypes: true,
        // Enums read from the server may grow: make clients handle values
        // they do not know yet (adding one is a "dangerous" change).
        futureProofEnums: true,
        // Object fields are never `?`: nullable ones are `T | null`.
        // Input fields and arguments stay optional, as GraphQL allows.
        avoidOptionals: { field: true, object: true, inputValue: false, defaultValue: false },
      },
    },
    'generated/operations.ts': {
      plugins: ['typescript-operations'],
      config: {
        scalars,
        strictScalars: true,
        importSchemaTypesFrom: './generated/schema.ts',
        // Query results are data, not state: readonly fields and arrays.
        immutableTypes: true,
      },
    },
  },
};

export default config;
