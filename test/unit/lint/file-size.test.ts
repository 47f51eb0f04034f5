/** The file-size rule (eslint.config.js): a source file over 500 lines of code fails `npm run lint`. */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

/** `count` distinct lines of code, each a statement of its own. */
function codeLines(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `export const line${i} = ${i};`);
}

async function fileSizeMessages(filePath: string, lines: readonly string[]): Promise<string[]> {
  const [result] = await eslint.lintText(`${lines.join('\n')}\n`, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'max-lines').map((m) => m.message);
}

describe('file-size rule', () => {
  it.each(['lambdas/domain/fixture.ts', 'infra/local/fixture.ts', 'simulator/fixture.ts', 'bench/fixture.ts'])(
    'refuses a source file of 501 lines of code: %s',
    async (filePath) => {
      expect(await fileSizeMessages(filePath, codeLines(501))).toEqual([expect.stringContaining('Maximum allowed is 500') as string]);
    },
  );

  it('accepts a source file of exactly 500 lines of code', async () => {
    expect(await fileSizeMessages('infra/local/fixture.ts', codeLines(500))).toEqual([]);
  });

  it('counts neither blank lines nor comments', async () => {
    const padded = codeLines(500).flatMap((line, i) => [`// why line ${i} is here`, line, '']);

    expect(padded.length).toBeGreaterThan(1000);
    expect(await fileSizeMessages('infra/local/fixture.ts', padded)).toEqual([]);
  });

  it('leaves test files alone', async () => {
    expect(await fileSizeMessages('test/unit/fixture.test.ts', codeLines(501))).toEqual([]);
  });

  it('takes a one-line reason at the top of a file that stays long', async () => {
    const reasoned = ['/* eslint-disable max-lines -- one state machine whose seams are its steps */', ...codeLines(501)];

    expect(await fileSizeMessages('infra/local/fixture.ts', reasoned)).toEqual([]);
  });
});
