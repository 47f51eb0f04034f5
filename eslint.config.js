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
 * The size rules: a source file over 500 lines of code, or a function over 80 (blank lines and
 * comments not counted), is split along its seams, or says at its top, in a one-line
 * `/* eslint-disable <rule> -- <why> *\/`, why it is not. That comment is the only way out: the
 * `size/disable-at-top` rule below reports any other directive that names a size rule.
 * test/unit/lint/file-size.test.ts and function-size.test.ts show them firing.
 */
const MAX_SOURCE_LINES = 500;
const MAX_FUNCTION_LINES = 80;
const SIZE_RULES = ['max-lines', 'max-lines-per-function'];
/** `eslint-disable`, `-line`, `-next-line` or an inline `eslint` config comment, and what follows. */
const DIRECTIVE = /^\s*(eslint-disable-next-line|eslint-disable-line|eslint-disable|eslint)(?:\s+([^]*?))?\s*$/;

/**
 * Reports a directive that names a size rule unless it is a one-line block `eslint-disable` with a
 * reason (after ` -- `) above the file's first line of code, and a blanket `eslint-disable` (it
 * turns the size rules off too). A directive that turns this rule off silences it as any other, and
 * so does a blanket one at the very top: the repository scan in test/unit/lint/function-size.test.ts
 * covers those.
 * @type {import('eslint').Rule.RuleModule}
 */
const disableAtTop = {
  meta: {
    type: 'problem',
    docs: { description: 'The size rules are turned off only by a one-line reasoned eslint-disable at the top of a file.' },
    schema: [],
    messages: {
      escape: 'Split it along its seams; if it must stay long, say why in one line above the code: /* eslint-disable {{rules}} -- <why> */',
      blanket: 'The blanket eslint-disable on line {{line}} turns the size rules off too: name the rules it is for.',
    },
  },
  create(context) {
    const sourceCode = context.sourceCode;
    return {
      Program() {
        const firstToken = sourceCode.ast.tokens[0];
        for (const comment of sourceCode.getAllComments()) {
          const match = DIRECTIVE.exec(comment.value);
          if (match === null) continue;
          const [, kind = '', rest = ''] = match;
          const [ruleList = '', reason = ''] = ` ${rest} `.split(/\s--\s/, 2);
          const names = ruleList.split(/[\s,]+/).map((name) => name.split(':')[0] ?? '').filter((name) => name !== '');
          if (kind.startsWith('eslint-disable') && names.length === 0) {
            // Reported at the top: at the comment itself, the blanket disable would silence it.
            context.report({ loc: { line: 1, column: 0 }, messageId: 'blanket', data: { line: String(comment.loc.start.line) } });
            continue;
          }
          const sized = names.filter((name) => SIZE_RULES.includes(name));
          if (sized.length === 0) continue;
          const accepted =
            kind === 'eslint-disable' &&
            comment.type === 'Block' &&
            comment.loc.start.line === comment.loc.end.line &&
            reason.trim() !== '' &&
            (firstToken === undefined || comment.range[1] <= firstToken.range[0]);
          if (!accepted) context.report({ loc: comment.loc, messageId: 'escape', data: { rules: sized.join(', ') } });
        }
      },
    };
  },
};

const sizeRules = {
  files: ['lambdas/**/*.ts', 'infra/**/*.ts', 'simulator/**/*.ts', 'bench/**/*.ts'],
  ignores: ['**/*.test.ts'],
  plugins: { size: { rules: { 'disable-at-top': disableAtTop } } },
  rules: {
    'max-lines': ['error', { max: MAX_SOURCE_LINES, skipBlankLines: true, skipComments: true }],
    'max-lines-per-function': ['error', { max: MAX_FUNCTION_LINES, skipBlankLines: true, skipComments: true }],
    'size/disable-at-top': 'error',
  },
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
  sizeRules,
);
