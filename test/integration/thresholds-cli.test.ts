import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEntry, type EntryRun } from '../helpers/run-entry.js';

/** What `npm run thresholds -- ...args` runs, minus npm. */
function thresholds(...args: string[]): Promise<EntryRun> {
  return runEntry('infra/cli/thresholds.ts', args);
}

// Child processes start slowly on a shared 2-core machine: a longer timeout than the default.
describe('npm run thresholds (the entry, as a child process)', { timeout: 90_000 }, () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ft-thresholds-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('validate: exits 0 with a one-line summary of config/thresholds.json, by kind', async () => {
    const run = await thresholds('validate', 'config/thresholds.json');

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^config\/thresholds\.json: \d+ rules \([a-zA-Z]+ \d+(, [a-zA-Z]+ \d+)*\): valid\n$/);
  });

  it('validate: exits 2 with one line naming the rule and the field of a bad file, and nothing on stdout', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ rules: [{ id: 'battery-low', metric: 'battery', when: { below: 3.3 }, clear: { above: 3.1 }, severity: 'warning' }] }));

    const run = await thresholds('validate', file);

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`error: thresholds file ${file}: rule "battery-low": clear.above must be at or above when.below (3.3)\n`);
  });

  it('deploy: refuses to run without --target, in one line, exit 2, before touching AWS', async () => {
    const run = await thresholds('deploy', 'config/thresholds.json');

    expect(run.code).toBe(2);
    expect(run.stderr).toBe("error: required option '--target <target>' not specified\n");
  });

  it('validate: a missing file is one line and exit 2', async () => {
    const run = await thresholds('validate', join(dir, 'missing.json'), '--json');

    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: thresholds file ${join(dir, 'missing.json')}: not found\n`);
  });
});
