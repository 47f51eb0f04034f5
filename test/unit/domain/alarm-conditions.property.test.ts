import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CHANGE_WINDOW_CAP } from '../../../lambdas/domain/alarm-conditions.js';
import { applyReadings, applySilence, lastSeenWriteBoundMs } from '../../../lambdas/domain/alarm-engine.js';
import type { DeviceAlarmState } from '../../../lambdas/domain/alarm-engine.js';
import type { AlarmEvent, Reading } from '../../../lambdas/domain/model.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';

const T0 = 1_764_028_800_000;
const SEED = 20_261_206;
const WITHIN_MS = 60_000;

/** Readings one device sends in order: distinct (ts, seq), some without the watched metric. */
function readingsOf(steps: readonly { dt: number; value: number | undefined }[]): Reading[] {
  let ts = T0;
  return steps.map(({ dt, value }, seq): Reading => {
    ts += dt;
    const metrics: Record<string, number> = value === undefined ? { other: 0 } : { m: value };
    return { deviceId: 'd1', ts, seq, metrics, receivedAt: ts };
  });
}

const steps = (maxLength: number, values: fc.Arbitrary<number>) =>
  fc.array(fc.record({ dt: fc.integer({ min: 0, max: 30_000 }), value: fc.option(values, { nil: undefined, freq: 6 }) }), { minLength: 1, maxLength, size: 'max' });

/** Each reading applied alone, in order: the state after it and the events it decided. */
function oneByOne(rules: ReturnType<typeof parseThresholds>, readings: readonly Reading[]) {
  let state: unknown;
  return readings.map((reading) => {
    const result = applyReadings({ deviceId: 'd1', state, readings: [reading], rules });
    state = JSON.parse(JSON.stringify(result.state));
    return { state: state as DeviceAlarmState, events: result.events };
  });
}

const inAlarm = (state: DeviceAlarmState) => state.rules.some((rule) => rule.status === 'ALARM');
const round12 = (x: number) => Number(x.toPrecision(12));

/** The exact change of reading i: against the lowest (risesBy) or highest (fallsBy) value carried in the preceding window. */
function bruteChange(readings: readonly Reading[], i: number, sign: 1 | -1): number | undefined {
  const current = readings[i] as Reading;
  const earlier = readings.slice(0, i).filter((r) => r.ts >= current.ts - WITHIN_MS && r.metrics.m !== undefined).map((r) => sign * (r.metrics.m as number));
  if (earlier.length === 0) return undefined;
  return round12(sign * (current.metrics.m as number) - Math.min(...earlier));
}

describe('risesBy and fallsBy against a brute-force window (seeded)', () => {
  it.each([
    ['risesBy', 1],
    ['fallsBy', -1],
  ] as const)('%s is in ALARM after each reading exactly when the exact window says so (fewer readings than the cap)', (kind, sign) => {
    const rules = parseThresholds({ rules: [{ id: 'r', metric: 'm', when: { [kind]: { amount: 3, withinSeconds: 60 } }, severity: 'info' }] });
    fc.assert(
      fc.property(steps(CHANGE_WINDOW_CAP, fc.integer({ min: 0, max: 8 })), (generated) => {
        const readings = readingsOf(generated);
        let expected = false;
        oneByOne(rules, readings).forEach(({ state, events }, i) => {
          if ((readings[i] as Reading).metrics.m !== undefined) {
            const change = bruteChange(readings, i, sign);
            expected = change !== undefined && change >= 3;
            for (const event of events) expect(event.value).toBe(change ?? null);
          }
          expect(inAlarm(state)).toBe(expected);
        });
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('keeps at most CHANGE_WINDOW_CAP candidates and, beyond them, never raises where the exact window would not', () => {
    const rules = parseThresholds({ rules: [{ id: 'r', metric: 'm', when: { risesBy: { amount: 20, withinSeconds: 60 } }, severity: 'info' }] });
    // Mostly rising values a second apart: the window fills with candidates far beyond the cap.
    const rising = fc.array(fc.record({ dt: fc.integer({ min: 0, max: 2_000 }), value: fc.integer({ min: -2, max: 6 }) }), { minLength: 1, maxLength: 150, size: 'max' });
    let fullWindows = 0;
    fc.assert(
      fc.property(rising, (generated) => {
        let level = 0;
        const readings = readingsOf(generated.map(({ dt, value }) => ({ dt, value: (level += value) })));
        oneByOne(rules, readings).forEach(({ state, events }, i) => {
          expect(state.rules.every((rule) => (rule.window?.length ?? 0) <= CHANGE_WINDOW_CAP)).toBe(true);
          if (state.rules.some((rule) => rule.window?.length === CHANGE_WINDOW_CAP)) fullWindows += 1;
          const exact = bruteChange(readings, i, 1);
          if (inAlarm(state)) expect(exact !== undefined && exact >= 20).toBe(true);
          for (const event of events.filter((e: AlarmEvent) => e.state === 'ALARM')) expect(event.value as number).toBeLessThanOrEqual(exact as number);
        });
      }),
      { seed: SEED, numRuns: 200 },
    );
    // The generated runs did reach the cap, so the property above is about the capped window.
    expect(fullWindows).toBeGreaterThan(100);
  });
});

describe('unchangedFor against a brute-force hold (seeded)', () => {
  it('is in ALARM after each reading exactly when the current value has been held for the window', () => {
    const rules = parseThresholds({ rules: [{ id: 'r', metric: 'm', when: { unchangedFor: { seconds: 60 } }, severity: 'info' }] });
    fc.assert(
      fc.property(steps(40, fc.integer({ min: 0, max: 2 })), (generated) => {
        const readings = readingsOf(generated);
        let holdSince: number | undefined;
        let heldValue: number | undefined;
        let expected = false;
        oneByOne(rules, readings).forEach(({ state }, i) => {
          const { ts, metrics } = readings[i] as Reading;
          // Only a reading that carries the metric evaluates the rule.
          if (metrics.m !== undefined) {
            if (metrics.m !== heldValue) {
              heldValue = metrics.m;
              holdSince = ts;
            }
            expected = ts - (holdSince as number) >= 60_000;
          }
          expect(inAlarm(state)).toBe(expected);
          expect(state.rules.length).toBeLessThanOrEqual(1);
        });
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});

describe('metricSilentFor by the scheduled check (seeded)', () => {
  const rules = parseThresholds({ rules: [{ id: 'r', metric: 'm', when: { metricSilentFor: { seconds: 300 } }, severity: 'info' }] });
  const boundMs = lastSeenWriteBoundMs(rules);

  it('never raises before the metric was unseen for its window, and raises by window + bound at the latest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 200_000 }), value: fc.option(fc.constant(1), { nil: undefined }) }), { minLength: 1, maxLength: 30, size: 'max' }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (generated, after) => {
          const readings = readingsOf(generated);
          const state = oneByOne(rules, readings).at(-1)?.state;
          const lastSighting = readings.filter((r) => r.metrics.m !== undefined).at(-1)?.ts;
          const now = (readings.at(-1) as Reading).ts + after;
          const raisedNow = applySilence({ deviceId: 'd1', state, now, rules, lastSeenLagMs: boundMs }).events.some((e) => e.state === 'ALARM');

          if (lastSighting === undefined) expect(raisedNow).toBe(false);
          else {
            if (raisedNow) expect(now - lastSighting).toBeGreaterThanOrEqual(300_000);
            if (now - lastSighting >= 300_000 + boundMs) expect(raisedNow).toBe(true);
          }
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });
});

describe('replays (seeded)', () => {
  it('a batch applied again decides nothing and leaves the state as it was, for every new kind', () => {
    const rules = parseThresholds({
      rules: [
        { id: 'a', metric: 'm', when: { risesBy: { amount: 2, withinSeconds: 60 } }, for: { samples: 2 }, severity: 'info' },
        { id: 'b', metric: 'm', when: { fallsBy: { amount: 2, withinSeconds: 60 } }, severity: 'info' },
        { id: 'c', metric: 'm', when: { unchangedFor: { seconds: 30 } }, latch: true, severity: 'info' },
        { id: 'd', metric: 'm', when: { metricSilentFor: { seconds: 120 } }, severity: 'info' },
        { id: 'e', metric: 'm', when: { notEquals: { metric: 'other' } }, severity: 'info' },
      ],
    });
    fc.assert(
      fc.property(steps(30, fc.integer({ min: 0, max: 4 })), fc.integer({ min: 1, max: 30 }), (generated, cut) => {
        const readings = readingsOf(generated);
        const first = applyReadings({ deviceId: 'd1', state: undefined, readings, rules });
        const replay = applyReadings({ deviceId: 'd1', state: JSON.parse(JSON.stringify(first.state)), readings: readings.slice(0, cut), rules });

        expect(replay.events).toEqual([]);
        expect(replay.applied).toBe(0);
        expect(replay.state).toEqual(JSON.parse(JSON.stringify(first.state)));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
