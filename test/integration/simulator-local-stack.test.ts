/**
 * The simulator against the real local stack (issue "Fleet simulator"): its devices register
 * themselves, every acknowledged reading is stored once, and the scripted anomaly raises and clears
 * exactly the alarms it should.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runFleet } from '../../simulator/fleet.js';
import type { FleetOptions } from '../../simulator/options.js';
import { startTestStack, type TestStack } from '../helpers/local-stack.js';

const THRESHOLDS = {
  rules: [
    { id: 'overheat', metric: 'temperature', match: { type: 'env-sensor' }, when: { above: 80 }, clear: { below: 75 }, for: { samples: 3 }, severity: 'critical' },
    { id: 'battery-low', metric: 'battery', when: { below: 3.3 }, clear: { above: 3.5 }, severity: 'warning' },
  ],
};

describe('the simulator against the local stack', () => {
  const stacks: TestStack[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map((s) => s.close()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function simulate(seed: number, overrides: Partial<FleetOptions> = {}) {
    const dataDir = mkdtempSync(join(tmpdir(), 'ft-sim-'));
    dirs.push(dataDir);
    const t = await startTestStack(THRESHOLDS, { dataDir });
    stacks.push(t);
    const summary = await runFleet({
      devices: 50,
      rate: 2,
      durationS: 5,
      endpoint: t.url,
      dataDir,
      profile: 'env-sensor',
      seed: String(seed),
      rampPerS: 0,
      // 10% of the devices run at 90 °C from t = 1 s for 2 s: 4 readings above 80, then back to normal.
      scenario: { anomalies: [{ kind: 'overheat', share: 0.1, at: 1, for: 2 }] },
      verify: true,
      lingerS: 1.5,
      progress: { intervalMs: 60_000 },
      ...overrides,
    });
    await t.stack.whenIdle();
    return { summary, store: t.stack.store };
  }

  it('stores every acknowledged reading once and raises then clears the scripted overheat on exactly 10% of the devices', { timeout: 90_000 }, async () => {
    const { summary, store } = await simulate(42);

    expect(summary.connected).toBe(50);
    expect(summary.errors).toBe(0);
    expect(summary.acked).toBe(summary.sent);
    expect(summary.verify).toMatchObject({ ok: true, missing: 0, duplicates: 0, checked: summary.acked });
    expect(store.countReadings({})).toBe(summary.acked - summary.resent);

    const transitions = store.queryTransitions({ order: 'asc' });
    const byDevice = new Map<string, string[]>();
    for (const t of transitions) byDevice.set(t.deviceId, [...(byDevice.get(t.deviceId) ?? []), `${t.ruleId}:${t.state}`]);
    expect(byDevice.size).toBe(5);
    for (const states of byDevice.values()) expect(states).toEqual(['overheat:ALARM', 'overheat:OK']);
    expect(summary.alarmsRaised).toBe(5);
    expect(summary.alarmsCleared).toBe(5);
  });

  it('gives the same readings for the same seed', { timeout: 90_000 }, async () => {
    const shape = (rows: { deviceId: string; seq: number | null; metrics: Readonly<Record<string, number>> }[]) =>
      rows.map((row) => `${row.deviceId}#${row.seq} ${JSON.stringify(row.metrics)}`).sort();
    const first = await simulate(7, { devices: 10, durationS: 2, scenario: { anomalies: [] } });
    const second = await simulate(7, { devices: 10, durationS: 2, scenario: { anomalies: [] } });
    const third = await simulate(8, { devices: 10, durationS: 2, scenario: { anomalies: [] } });

    const rows = (s: typeof first) => shape(s.store.queryReadings({ order: 'asc' }));
    expect(rows(first).length).toBeGreaterThan(10);
    expect(rows(second)).toEqual(rows(first));
    expect(rows(third)).not.toEqual(rows(first));
  });
});
