import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runEntry, type EntryRun } from '../helpers/run-entry.js';
import { loadThresholdsFile } from '../../lambdas/config/load-thresholds.js';

const CLI = 'infra/cli/import-iot-events.ts';
const FIXTURES = 'test/fixtures/iot-events';

/** Runs `npm run import-iot-events -- ...` the way npm does (tsx), as a real child process. */
function runImport(args: readonly string[]): Promise<EntryRun> {
  return runEntry(CLI, args, { timeoutMs: 20_000 });
}

describe('npm run import-iot-events', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'import-iot-events-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 when every model converted, writing a thresholds file our loader accepts and the report on stdout', async () => {
    const out = join(dir, 'thresholds.json');
    const files = ['boiler-overheat.json', 'cold-room-too-warm.json', 'low-battery.json', 'vehicle-models.json'].map((name) => `${FIXTURES}/${name}`);
    const run = await runImport([...files, '--out', out]);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Converted 6 of 6 alarm models');
    expect(run.stdout).toContain(`Wrote 6 rules to ${out}.`);
    const rules = loadThresholdsFile(out);
    expect(rules.rules.map((rule) => [rule.id, rule.kind, rule.severity, rule.latch ?? false])).toEqual([
      ['boiler-overheat', 'above', 'critical', true],
      ['cold-room-too-warm', 'atOrAbove', 'major', false],
      ['LowBattery', 'below', 'minor', false],
      ['fuel-reserve', 'atOrBelow', 'warning', true],
      ['door-open-in-transit', 'equals', 'critical', true],
      ['engine-mode-not-normal', 'notEquals', 'info', false],
    ]);
  });

  it('without --out prints the thresholds file on stdout and the report on stderr', async () => {
    const run = await runImport([`${FIXTURES}/low-battery.json`]);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ rules: [{ id: 'LowBattery', metric: 'battery', when: { below: 3.3 }, severity: 'minor' }] });
    expect(run.stderr).toContain('converted      LowBattery');
  });

  it('exits 1 when some models did not convert, keeping the others and naming the ones left out', async () => {
    const out = join(dir, 'thresholds.json');
    const run = await runImport([`${FIXTURES}/low-battery.json`, `${FIXTURES}/not-convertible.json`, '--out', out]);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Not converted: pressure-over-setpoint, first-bearing-hot.');
    expect(JSON.parse(readFileSync(out, 'utf8')).rules.map((rule: { id: string }) => rule.id)).toEqual(['LowBattery']);
  });

  it('writes no file when nothing converted', async () => {
    const out = join(dir, 'thresholds.json');
    const run = await runImport([`${FIXTURES}/not-convertible.json`, '--out', out]);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Nothing converted: no thresholds file written.');
    expect(existsSync(out)).toBe(false);
  });

  it('--json prints one object with the rules and every model', async () => {
    const run = await runImport([`${FIXTURES}/low-battery.json`, `${FIXTURES}/not-convertible.json`, '--json', '--severity-map', '0-2=critical,3+=warning']);

    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ converted: 1, total: 3, severityMap: '0-2=critical,3+=warning', out: null });
    expect(report.thresholds.rules).toEqual([{ id: 'LowBattery', metric: 'battery', when: { below: 3.3 }, severity: 'warning' }]);
    expect(report.models.map((model: { status: string }) => model.status)).toEqual(['converted', 'not-converted', 'not-converted']);
  });

  it.each([
    [[`${FIXTURES}/detector-model.json`], `error: ${FIXTURES}/detector-model.json: a detector model, not an alarm model; detector models are not converted (see docs/migrating-from-iot-events.md, "Detector models")\n`],
    [[`${FIXTURES}/low-battery.json`, '--severity-map', '2=urgent'], `error: option '--severity-map <map>' argument '2=urgent' is invalid. severity map entry "2=urgent": "urgent" is not one of critical, major, minor, warning, info\n`],
    [[], "error: missing required argument 'files'\n"],
  ])('exits 2 with one line on bad input (%j)', async (args, stderr) => {
    const run = await runImport(args);

    expect(run).toEqual({ code: 2, stdout: '', stderr });
  });

  it('exits 2 on a file that is not JSON, naming it', async () => {
    const path = join(dir, 'model.json');
    writeFileSync(path, 'alarmModelName: boiler');

    const run = await runImport([path]);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^error: ${path}: not valid JSON \\(.+\\)\\n$`));
  });
});
