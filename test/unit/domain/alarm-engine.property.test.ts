import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { applyReadings, applySilence } from '../../../lambdas/domain/alarm-engine.js';
import type { AlarmEvent, Reading } from '../../../lambdas/domain/model.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';

const T0 = 1_764_028_800_000;
/** Fixed, so a run is reproducible: every CI run checks the same cases. */
const SEED = 1_764_028_801;

/** Every kind of rule and option, with bounds the generated values cross often. */
const rules = parseThresholds({
  rules: [
    { id: 'overheat', metric: 'temperature', match: { type: 'env-sensor' }, when: { above: 80 }, clear: { below: 75 }, for: { samples: 3 }, severity: 'critical' },
    { id: 'hot-for', metric: 'temperature', when: { above: 85 }, for: { seconds: 60 }, severity: 'major' },
    { id: 'hot', metric: 'temperature', when: { above: 90 }, severity: 'minor' },
    { id: 'battery-low', metric: 'battery', when: { below: 3.3 }, clear: { above: 3.5 }, severity: 'warning' },
    { id: 'battery-dead', metric: 'battery', when: { below: 3.1 }, for: { samples: 2 }, severity: 'critical' },
    { id: 'silent', when: { silentFor: { seconds: 120 } }, severity: 'major' },
  ],
});

const step = fc.record(
  {
    dt: fc.integer({ min: 0, max: 90_000 }),
    seq: fc.integer({ min: 0, max: 3 }),
    type: fc.constantFrom('env-sensor', 'other'),
    temperature: fc.integer({ min: 60, max: 100 }),
    battery: fc.constantFrom(3.0, 3.2, 3.3, 3.4, 3.5, 3.6),
  },
  { requiredKeys: ['dt'] },
);

/** A device's readings in event-time order (the order a device sends them in). */
const sortedReadings = fc.array(step, { minLength: 1, maxLength: 40 }).map((steps) => {
  let ts = T0;
  const readings = steps.map(({ dt, seq, type, temperature, battery }) => {
    ts += dt;
    const metrics: Record<string, number> = {};
    if (temperature !== undefined) metrics.temperature = temperature;
    if (battery !== undefined) metrics.battery = battery;
    return { deviceId: 'd1', ts, metrics, receivedAt: ts, ...(seq === undefined ? {} : { seq }), ...(type === undefined ? {} : { type }) } as Reading;
  });
  return readings.sort((a, b) => a.ts - b.ts || (a.seq ?? -1) - (b.seq ?? -1));
});

function applyInBatches(readings: readonly Reading[], cuts: readonly number[], initial?: unknown) {
  const bounds = [...new Set(cuts.map((cut) => cut % (readings.length + 1)))].sort((a, b) => a - b);
  let state: unknown = initial;
  const events: AlarmEvent[] = [];
  let start = 0;
  for (const end of [...bounds, readings.length]) {
    const result = applyReadings({ deviceId: 'd1', state, readings: readings.slice(start, end), rules });
    events.push(...result.events);
    state = JSON.parse(JSON.stringify(result.state));
    start = end;
  }
  return { events, state };
}

describe('applyReadings (properties)', () => {
  it('gives the same events and state however a sequence is split into batches', () => {
    fc.assert(
      fc.property(sortedReadings, fc.array(fc.nat(), { maxLength: 6 }), (readings, cuts) => {
        const whole = applyInBatches(readings, []);

        const split = applyInBatches(readings, cuts);

        expect(split.events).toEqual(whole.events);
        expect(split.state).toEqual(whole.state);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('emits nothing and changes nothing when any part of the applied readings is replayed, in any order', () => {
    fc.assert(
      fc.property(
        sortedReadings.chain((readings) =>
          fc.tuple(fc.constant(readings), fc.shuffledSubarray(readings, { minLength: 1 })),
        ),
        ([readings, replay]) => {
          const applied = applyReadings({ deviceId: 'd1', state: undefined, readings, rules });

          const again = applyReadings({ deviceId: 'd1', state: applied.state, readings: replay, rules });

          expect(again.events).toEqual([]);
          expect(again.applied).toBe(0);
          expect(again.state).toEqual(applied.state);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('never emits for a late reading, whatever its values', () => {
    fc.assert(
      fc.property(sortedReadings, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 120 }), fc.double({ min: 2.5, max: 4, noNaN: true }), (readings, at, temperature, battery) => {
        const applied = applyReadings({ deviceId: 'd1', state: undefined, readings, rules });
        const newest = readings[readings.length - 1] as Reading;
        const ts = Math.floor(T0 + at * (newest.ts - T0));
        // At or before the newest: an earlier ts, or the newest ts with a seq no higher.
        const late: Reading = { deviceId: 'd1', ts, metrics: { temperature, battery }, receivedAt: ts, type: 'env-sensor', ...(ts === newest.ts && newest.seq !== undefined ? { seq: newest.seq } : {}) };

        const result = applyReadings({ deviceId: 'd1', state: applied.state, readings: [late], rules });

        expect(result.events).toEqual([]);
        expect(result.state).toEqual(applied.state);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('alternates ALARM and OK per rule, starting with ALARM, in event-time order, through readings and silence checks', () => {
    const action = fc.oneof(
      sortedReadings.map((readings) => ({ kind: 'readings' as const, readings })),
      fc.integer({ min: 0, max: 600_000 }).map((after) => ({ kind: 'silence' as const, after })),
    );
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 8 }), (actions) => {
        let state: unknown;
        let clock = T0;
        const events: AlarmEvent[] = [];
        for (const act of actions) {
          if (act.kind === 'readings') {
            // Each batch continues after the previous one in event time, as a live device would.
            const shifted = act.readings.map((r) => ({ ...r, ts: r.ts - T0 + clock, receivedAt: r.ts - T0 + clock }));
            const result = applyReadings({ deviceId: 'd1', state, readings: shifted, rules });
            events.push(...result.events);
            state = result.state;
            clock = (shifted[shifted.length - 1] as Reading).ts + 1;
          } else {
            clock += act.after;
            const result = applySilence({ deviceId: 'd1', state, now: clock, rules });
            events.push(...result.events);
            state = result.state;
          }
        }

        const byRule = new Map<string, AlarmEvent[]>();
        for (const event of events) byRule.set(event.ruleId, [...(byRule.get(event.ruleId) ?? []), event]);
        for (const ruleEvents of byRule.values()) {
          ruleEvents.forEach((event, i) => {
            expect(event.state).toBe(i % 2 === 0 ? 'ALARM' : 'OK');
            expect(event.previousState).toBe(i % 2 === 0 ? 'OK' : 'ALARM');
            if (i > 0) expect(event.ts).toBeGreaterThanOrEqual((ruleEvents[i - 1] as AlarmEvent).ts);
          });
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
