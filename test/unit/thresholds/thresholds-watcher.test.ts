import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import { ThresholdsWatcher } from '../../../infra/local/thresholds/thresholds-watcher.js';
import type { ThresholdsFileOutcome } from '../../../infra/local/thresholds/thresholds-watcher.js';
import { watchFileChanges } from '../../../infra/local/thresholds/file-changes.js';
import type { FileChanges } from '../../../infra/local/thresholds/file-changes.js';
import { eventually } from '../../helpers/wait.js';

const overheat = { id: 'overheat', metric: 'temperature', when: { above: 80 }, clear: { below: 75 }, severity: 'critical' };
const silent = { id: 'silent', when: { silentFor: { seconds: 300 } }, severity: 'major' };
const ORIGINAL = { rules: [overheat, silent] };
const text = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

describe('ThresholdsWatcher', () => {
  let dir: string;
  let file: string;
  let outcomes: ThresholdsFileOutcome[];
  let watcher: ThresholdsWatcher;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ft-thresholds-'));
    file = join(dir, 'thresholds.json');
    writeFileSync(file, text(ORIGINAL));
    outcomes = [];
    watcher = new ThresholdsWatcher({ file, rules: parseThresholds(ORIGINAL), onOutcome: (o) => void outcomes.push(o), pollIntervalMs: 50, debounceMs: 20 });
  });

  afterEach(async () => {
    await watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says nothing when the file holds the rules in force, nor when the same content is written again', async () => {
    await watcher.check();
    writeFileSync(file, text(ORIGINAL));
    await watcher.check();

    expect(outcomes).toEqual([]);
  });

  it('hands on the new rules with the rules added, changed and removed', async () => {
    await watcher.check();
    writeFileSync(file, text({ rules: [{ ...overheat, when: { above: 90 } }, { id: 'battery-low', metric: 'battery', when: { below: 3.3 }, severity: 'warning' }] }));
    await watcher.check();

    expect(outcomes).toHaveLength(1);
    const [outcome] = outcomes;
    expect(outcome).toMatchObject({ kind: 'changed', diff: { added: ['battery-low'], changed: ['overheat'], removed: ['silent'], kindChanged: [] } });
    expect(outcome?.kind === 'changed' && outcome.rules.rules.map((r) => r.id)).toEqual(['overheat', 'battery-low']);
  });

  it('refuses an invalid file naming the rule and field, and compares the next valid one with the rules still in force', async () => {
    writeFileSync(file, text({ rules: [{ ...overheat, clear: { below: 85 } }, silent] }));
    await watcher.check();
    writeFileSync(file, text({ rules: [silent] }));
    await watcher.check();

    expect(outcomes[0]).toEqual({ kind: 'refused', reason: `thresholds file ${file}: rule "overheat": clear.below must be at or below when.above (80)` });
    // Against the rules in force (overheat and silent), not against the refused file.
    expect(outcomes[1]).toMatchObject({ kind: 'changed', diff: { added: [], changed: [], removed: ['overheat'] } });
  });

  it('refuses a file that is not JSON, and says the rules are unchanged when the file is valid again', async () => {
    writeFileSync(file, '{ "rules": [');
    await watcher.check();
    writeFileSync(file, text(ORIGINAL));
    await watcher.check();

    expect(outcomes.map((o) => o.kind)).toEqual(['refused', 'unchanged']);
    expect(outcomes[0]).toMatchObject({ reason: expect.stringMatching(new RegExp(`^thresholds file ${file}: not valid JSON`)) });
  });

  it('refuses a missing file and reads it again when it comes back with the same content', async () => {
    await watcher.check();
    unlinkSync(file);
    await watcher.check();
    writeFileSync(file, text(ORIGINAL));
    await watcher.check();

    expect(outcomes).toEqual([{ kind: 'refused', reason: `thresholds file ${file}: not found` }, { kind: 'unchanged', diff: { added: [], changed: [], kindChanged: [], removed: [] } }]);
  });

  it('calls a reordered file with the same rules unchanged', async () => {
    await watcher.check();
    writeFileSync(file, text({ rules: [silent, overheat] }));
    await watcher.check();

    expect(outcomes.map((o) => o.kind)).toEqual(['unchanged']);
  });

  it('once started, sees a write in place and a file renamed over it, as editors save', async () => {
    watcher.start();
    writeFileSync(file, text({ rules: [{ ...overheat, when: { above: 85 } }, silent] }));
    await eventually(() => (outcomes.length === 1 ? true : undefined), 5_000, 'the in-place write to be seen');

    const saved = join(dir, '.thresholds.json.swp');
    writeFileSync(saved, text({ rules: [{ ...overheat, when: { above: 85 } }] }));
    renameSync(saved, file);
    await eventually(() => (outcomes.length === 2 ? true : undefined), 5_000, 'the rename over the file to be seen');

    expect(outcomes.map((o) => o.kind === 'changed' && o.diff)).toEqual([
      { added: [], changed: ['overheat'], kindChanged: [], removed: [] },
      { added: [], changed: [], kindChanged: [], removed: ['silent'] },
    ]);
  });
});

describe('watchFileChanges', () => {
  let dir: string;
  let changes: FileChanges | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ft-file-changes-'));
  });
  afterEach(() => {
    changes?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sees a change by its poll alone, where fs.watch would tell nothing', async () => {
    const file = join(dir, 'watched.json');
    writeFileSync(file, '{}');
    let calls = 0;
    changes = watchFileChanges(file, () => calls++, { fsEvents: false, pollIntervalMs: 30, debounceMs: 10 });
    writeFileSync(file, '{"rules": []}');

    await eventually(() => (calls > 0 ? true : undefined), 2_000, 'the poll to see the write');
    unlinkSync(file);
    const before = calls;
    await eventually(() => (calls > before ? true : undefined), 2_000, 'the poll to see the file go');
    expect(calls).toBeGreaterThan(before);
  });
});
