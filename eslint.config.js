// @ts-check
import path from 'node:path';
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
 * The index rule of docs/architecture.md ("Index files"): these folders, and only these, have an
 * index.ts, and every import from outside the folder goes through it; the folder's own unit tests
 * (the test/unit folder named here, if any) may import its inner files. test/unit/lint/boundaries.test.ts
 * shows it firing.
 */
const INDEXED_FOLDERS = {
  'infra/local/broker': 'test/unit/broker',
  'infra/local/registry': 'test/unit/registry',
  'infra/local/iot-sql': 'test/unit/iot-sql',
  'infra/local/stream': 'test/unit/stream',
  'infra/local/event-source': 'test/unit/event-source',
  'infra/local/console': 'test/unit/console',
  'lambdas/adapters/memory': null,
  'simulator/profiles': null,
};
const isWithin = (file, folder) => file.startsWith(`${folder}/`);

/** @type {import('eslint').Rule.RuleModule} */
const indexIsTheWayIn = {
  meta: { type: 'problem', schema: [] },
  create(context) {
    const file = path.relative(context.cwd, context.filename).split(path.sep).join('/');
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      const folder = path.posix.dirname(target);
      if (!(folder in INDEXED_FOLDERS) || path.posix.basename(target) === 'index.js') return;
      const ownTests = INDEXED_FOLDERS[folder];
      if (isWithin(file, folder) || (ownTests !== null && isWithin(file, ownTests))) return;
      const way = path.posix.relative(path.posix.dirname(file), `${folder}/index.js`);
      context.report({ node: node.source, message: `${folder} is entered through its index: import from '${way.startsWith('.') ? way : `./${way}`}'.` });
    };
    return {
      Program(node) {
        if (path.posix.basename(file) === 'index.ts' && !(path.posix.dirname(file) in INDEXED_FOLDERS)) {
          context.report({ node, message: 'Only the folders listed in eslint.config.js (INDEXED_FOLDERS) have an index.ts: import the files directly.' });
        }
      },
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
    };
  },
};
const indexFiles = {
  files: ['**/*.ts'],
  plugins: { layout: { rules: { 'index-is-the-way-in': indexIsTheWayIn } } },
  rules: { 'layout/index-is-the-way-in': 'error' },
};

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
  indexFiles,
  fileSize,
);
