/** The dependency rules of docs/architecture.md, as lint rules (eslint.config.js): each one fires. */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { allowedImports, wrongImports } from '../../fixtures/boundaries.js';

const eslint = new ESLint({ cwd: process.cwd() });
/** The dependency rules and the index rule (docs/architecture.md, "Layout"). */
const LAYOUT_RULES = new Set(['no-restricted-imports', 'layout/index-is-the-way-in']);

async function boundaryMessages(filePath: string, code: string): Promise<{ line: number; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId !== null && LAYOUT_RULES.has(m.ruleId)).map((m) => ({ line: m.line, message: m.message }));
}

describe('dependency rules', () => {
  it.each(wrongImports.map((c) => [c.rule, c] as const))('refuses a wrong import: %s', async (_rule, fixture) => {
    const messages = await boundaryMessages(fixture.filePath, fixture.code);

    expect(messages).toEqual([{ line: fixture.forbiddenLine, message: expect.stringContaining(fixture.says!) as string }]);
  });

  it.each(allowedImports.map((c) => [c.rule, c] as const))('lets %s import what it may', async (_rule, fixture) => {
    expect(await boundaryMessages(fixture.filePath, fixture.code)).toEqual([]);
  });
});
