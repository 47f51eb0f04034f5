/**
 * The function-size rule (eslint.config.js): a function over 80 lines of code fails `npm run lint`,
 * and a one-line reasoned eslint-disable at the top of the file is the only way out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });
const SIZE_RULE_IDS = ['max-lines-per-function', 'max-lines', 'size/disable-at-top'];
const REASON = 'one state machine whose seams are its steps';

/** A function of `count` lines of code, its header and closing brace included. */
function functionOf(count: number, name = 'long'): string[] {
  const additions = Array.from({ length: count - 4 }, (_, i) => `  total += ${i};`);
  return [`export function ${name}(): number {`, '  let total = 0;', ...additions, '  return total;', '}'];
}

async function sizeMessages(filePath: string, lines: readonly string[]): Promise<{ ruleId: string | null; line: number; message: string }[]> {
  const [result] = await eslint.lintText(`${lines.join('\n')}\n`, { filePath });
  return (result?.messages ?? [])
    .filter((m) => SIZE_RULE_IDS.includes(m.ruleId ?? '') || m.message.includes('eslint-disable'))
    .map((m) => ({ ruleId: m.ruleId, line: m.line, message: m.message }));
}

describe('function-size rule', () => {
  it.each(['lambdas/app/fixture.ts', 'infra/aws/fixture.ts', 'simulator/fixture.ts', 'bench/fixture.ts'])(
    'refuses a function of 81 lines of code: %s',
    async (filePath) => {
      expect(await sizeMessages(filePath, functionOf(81))).toEqual([
        { ruleId: 'max-lines-per-function', line: 1, message: expect.stringContaining('too many lines (81). Maximum allowed is 80') as string },
      ]);
    },
  );

  it('accepts a function of exactly 80 lines of code', async () => {
    expect(await sizeMessages('infra/local/fixture.ts', functionOf(80))).toEqual([]);
  });

  it('counts neither blank lines nor comments', async () => {
    const [header = '', ...body] = functionOf(80);
    const padded = [header, ...body.flatMap((line, i) => [`  // why line ${i} is here`, line, ''])];

    expect(padded.length).toBeGreaterThan(200);
    expect(await sizeMessages('infra/local/fixture.ts', padded)).toEqual([]);
  });

  it('measures constructors, methods and arrow functions too', async () => {
    const body = functionOf(81).slice(1, -1);
    const code = [
      'export class Holder {',
      '  constructor() {',
      ...body.slice(0, -1),
      '    void total;',
      '  }',
      '  method(): number {',
      ...body,
      '  }',
      '}',
      'export const arrow = (): number => {',
      ...body,
      '};',
    ];

    expect((await sizeMessages('infra/local/fixture.ts', code)).map((m) => m.message)).toEqual([
      expect.stringContaining('Constructor has too many lines (81)') as string,
      expect.stringContaining("Method 'method' has too many lines (81)") as string,
      expect.stringContaining('Arrow function has too many lines (81)') as string,
    ]);
  });

  it('leaves test files alone', async () => {
    expect(await sizeMessages('test/unit/fixture.test.ts', functionOf(200))).toEqual([]);
  });

  it('takes a one-line reason at the top of the file, above or below its doc comment', async () => {
    const disable = `/* eslint-disable max-lines-per-function -- ${REASON} */`;

    expect(await sizeMessages('infra/local/fixture.ts', [disable, ...functionOf(81)])).toEqual([]);
    expect(await sizeMessages('infra/local/fixture.ts', ['/** The fixture. */', disable, ...functionOf(81)])).toEqual([]);
  });

  it.each([
    ['without a reason', ['/* eslint-disable max-lines-per-function */', ...functionOf(81)], 1],
    ['on the next line only', ['export const before = 1;', `// eslint-disable-next-line max-lines-per-function -- ${REASON}`, ...functionOf(81)], 2],
    ['on its own line', [`${functionOf(81)[0]} // eslint-disable-line max-lines-per-function -- ${REASON}`, ...functionOf(81).slice(1)], 1],
    ['below the first line of code', ['export const before = 1;', `/* eslint-disable max-lines-per-function -- ${REASON} */`, ...functionOf(81)], 2],
    ['spread over several lines', ['/* eslint-disable max-lines-per-function --', `   ${REASON} */`, ...functionOf(81)], 1],
    ['as a line comment', [`// eslint-disable max-lines-per-function -- ${REASON}`, ...functionOf(81)], 1],
    ['as inline configuration', ['/* eslint max-lines-per-function: off */', ...functionOf(81)], 1],
    ['for the file-size rule without a reason', ['/* eslint-disable max-lines */', ...functionOf(20)], 1],
  ])('refuses any other way out: a disable %s', async (_how, lines, line) => {
    const messages = await sizeMessages('infra/local/fixture.ts', lines);

    expect(messages).toContainEqual({ ruleId: 'size/disable-at-top', line, message: expect.stringContaining('say why in one line above the code') as string });
  });

  it('refuses a blanket disable further down, which would turn the size rules off with everything else', async () => {
    const messages = await sizeMessages('infra/local/fixture.ts', ['export const before = 1;', `/* eslint-disable -- ${REASON} */`, ...functionOf(81)]);

    expect(messages).toContainEqual({ ruleId: 'size/disable-at-top', line: 1, message: expect.stringContaining('blanket eslint-disable on line 2') as string });
  });

  it('finds no source file that turns the size guard off or every rule at once (which the guard cannot see)', () => {
    const offenders = sourceFiles().filter((file) => /eslint-disable(?:-next-line|-line)?(?:\s+--|\s*\*\/|\s*$|[^\n]*size\/disable-at-top)/m.test(readFileSync(file, 'utf8')));

    expect(sourceFiles().length).toBeGreaterThan(100);
    expect(offenders).toEqual([]);
  });
});

function sourceFiles(): string[] {
  return ['lambdas', 'infra', 'simulator', 'bench']
    .flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((file) => join(dir, file)))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.endsWith('.test.ts'));
}
