// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The dependency rules of docs/architecture.md ("Dependency rules"), checked on every import and
 * re-export. Each folder's rule is one `no-restricted-imports` setting; the file groups do not
 * overlap, because a later setting of a rule replaces an earlier one for the same file.
 * test/unit/lint/boundaries.test.ts shows each rule firing on a wrong import.
 */
const HANDLER_ROOTS = ['lambdas/*/handler.ts'];
const AWS_SDK = { regex: '^@aws-sdk/', message: 'Only lambdas/adapters/aws and the handler roots (lambdas/*/handler.ts) use the AWS SDK.' };
const LOCAL_RUNTIME = { regex: '(^|/)infra/local(/|$)', message: 'lambdas/ runs on Lambda: it never imports the local runtime (infra/local).' };

/**
 * The pipeline definition (topics, rule SQL) as a file in lambdas/domain or lambdas/app names it: the
 * one file outside lambdas/ they may import, since it is plain data that imports nothing.
 */
const PIPELINE_FROM_LAMBDAS = '\\.\\./\\.\\./infra/pipeline\\.js$';

/** @param {...{ regex: string, message: string }} patterns */
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

const boundaries = [
  {
    files: ['lambdas/domain/**/*.ts'],
    rules: restrict({ regex: `^(?!\\./|zod$|${PIPELINE_FROM_LAMBDAS})`, message: 'The domain imports only its own files, zod and infra/pipeline.ts.' }),
  },
  {
    files: ['lambdas/app/**/*.ts'],
    rules: restrict({ regex: `^(?!\\./|\\.\\./domain/|\\.\\./ports/|${PIPELINE_FROM_LAMBDAS})`, message: 'Use cases import only the domain, the ports and infra/pipeline.ts.' }),
  },
  {
    files: ['lambdas/adapters/aws/**/*.ts', ...HANDLER_ROOTS],
    rules: restrict(LOCAL_RUNTIME),
  },
  {
    files: ['lambdas/**/*.ts'],
    ignores: ['lambdas/domain/**', 'lambdas/app/**', 'lambdas/adapters/aws/**', ...HANDLER_ROOTS],
    rules: restrict(AWS_SDK, LOCAL_RUNTIME),
  },
  {
    files: ['infra/local/**/*.ts'],
    rules: restrict(
      { regex: '^@aws-sdk/', message: 'The local runtime never uses the AWS SDK (a command that reads a deployed stack goes through infra/aws).' },
      { regex: '(^|/)lambdas/adapters/aws/', message: 'The local runtime never imports lambdas/adapters/aws.' },
    ),
  },
  {
    files: ['infra/pipeline.ts'],
    rules: restrict({ regex: '.', message: 'infra/pipeline.ts is plain data read by both runtimes: it imports nothing.' }),
  },
];

/**
 * The file-size rule: a source file over 500 lines of code (blank lines and comments not counted) is
 * split along its seams, or says at its top, in a one-line eslint-disable, why it is not.
 * test/unit/lint/file-size.test.ts shows it firing.
 */
const MAX_SOURCE_LINES = 500;
const fileSize = {
  files: ['lambdas/**/*.ts', 'infra/**/*.ts', 'simulator/**/*.ts', 'bench/**/*.ts'],
  ignores: ['**/*.test.ts'],
  rules: { 'max-lines': ['error', { max: MAX_SOURCE_LINES, skipBlankLines: true, skipComments: true }] },
};

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', 'data/', 'dist/', '.bench/', 'test-artifacts/', '**/*.d.ts', 'infra/local/console/static/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  ...boundaries,
  fileSize,
);
