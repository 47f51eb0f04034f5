import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { applyCommand, applyReadings, applySilence } from '../../../lambdas/domain/alarm-engine.js';
import type { DeviceAlarmState } from '../../../lambdas/domain/alarm-engine.js';
import type { Reading } from '../../../lambdas/domain/model.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';

const T0 = 1_764_028_800_000;

function reading(ts: number, metrics: Record<string, number>, seq?: number): Reading {
  return { deviceId: 'd1', ts, metrics, receivedAt: ts, ...(seq === undefined ? {} : { seq }) };
}

function rulesOf(...rules: object[]): ThresholdRules {
  return parseThresholds({ rules });
}

function run(rules: ThresholdRules, readings: Reading[], state?: unknown) {
  const result = applyReadings({ deviceId: 'd1', state, readings, rules });
  return { events: result.events, state: JSON.parse(JSON.stringify(result.state)) as DeviceAlarmState };
}

/** The states a sequence of values passes through, one reading each: what each reading decided. */
function transitionsOf(rule: object, values: readonly number[]): string[] {
  const readings = values.map((value, i) => reading(T0 + i * 1000, { m: value }));
  return run(rulesOf(rule), readings).events.map((event) => `${event.value}:${event.state}`);
}

describe('the six comparisons', () => {
  it.each([
    ['above', 10, [9, 10, 11, 10], ['11:ALARM', '10:OK']],
    ['below', 10, [11, 10, 9, 10], ['9:ALARM', '10:OK']],
    ['atOrAbove', 10, [9, 10, 11, 9], ['10:ALARM', '9:OK']],
    ['atOrBelow', 10, [11, 10, 9, 11], ['10:ALARM', '11:OK']],
    ['equals', 10, [9, 10, 10, 10.0001], ['10:ALARM', '10.0001:OK']],
    ['notEquals', 10, [10, 9, 11, 10], ['9:ALARM', '10:OK']],
  ])('%s %d raises and clears exactly where the comparison starts and stops holding', (kind, bound, values, expected) => {
    expect(transitionsOf({ id: 'r', metric: 'm', when: { [kind]: bound }, severity: 'info' }, values)).toEqual(expected);
  });

  it.each([
    ['atOrAbove', { below: 8 }, [10, 9, 8, 7.9], ['10:ALARM', '7.9:OK']],
    ['atOrBelow', { above: 12 }, [10, 11, 12, 12.1], ['10:ALARM', '12.1:OK']],
  ])('%s with clear %j clears only strictly past the clear bound, naming it', (kind, clear, values, expected) => {
    const rule = { id: 'r', metric: 'm', when: { [kind]: 10 }, clear, severity: 'info' };

    expect(transitionsOf(rule, values)).toEqual(expected);
    const cleared = run(rulesOf(rule), values.map((value, i) => reading(T0 + i, { m: value }))).events[1];
    expect(cleared?.threshold).toBe(Object.values(clear)[0]);
  });

  it.each([
    ['equals', [10, 10, 10, 11], { samples: 3 }, ['10:ALARM', '11:OK']],
    ['notEquals', [11, 12, 10, 13, 14], { samples: 2 }, ['12:ALARM', '10:OK', '14:ALARM']],
  ])('%s is debounced by for.samples like the other comparisons', (kind, values, debounce, expected) => {
    expect(transitionsOf({ id: 'r', metric: 'm', when: { [kind]: 10 }, for: debounce, severity: 'info' }, values)).toEqual(expected);
  });

  it('debounces atOrBelow by for.seconds of event time in breach', () => {
    const rule = { id: 'r', metric: 'm', when: { atOrBelow: 0 }, for: { seconds: 5 }, severity: 'info' };

    expect(transitionsOf(rule, [0, -1, 0, 0, 0, 0, 0])).toEqual(['0:ALARM']);
    const { events } = run(rulesOf(rule), [0, -1, 0, 0, 0, 0, 0].map((value, i) => reading(T0 + i * 1000, { m: value })));
    expect(events[0]?.ts).toBe(T0 + 5000);
  });
});

describe('a threshold read from another metric of the same reading', () => {
  const hotter = { id: 'hotter', metric: 'temperature', when: { above: { metric: 'maxTemperature' } }, severity: 'major' };

  it('compares with that metric in each reading; the event names the value compared with as the threshold', () => {
    const { events } = run(rulesOf(hotter), [
      reading(T0, { temperature: 50, maxTemperature: 60 }),
      reading(T0 + 1, { temperature: 61, maxTemperature: 60 }),
      reading(T0 + 2, { temperature: 61, maxTemperature: 70 }),
    ]);

    expect(events.map((e) => [e.state, e.value, e.threshold, e.ts])).toEqual([
      ['ALARM', 61, 60, T0 + 1],
      ['OK', 61, 70, T0 + 2],
    ]);
  });

  it('does not evaluate a reading that lacks either metric: state and debounce run untouched', () => {
    const rules = rulesOf({ ...hotter, for: { samples: 2 } });
    const first = run(rules, [reading(T0, { temperature: 61, maxTemperature: 60 })]);

    const skipped = run(rules, [reading(T0 + 1, { temperature: 99 }), reading(T0 + 2, { maxTemperature: 0 })], first.state);
    const second = run(rules, [reading(T0 + 3, { temperature: 62, maxTemperature: 60 })], skipped.state);

    expect(skipped.events).toEqual([]);
    expect(skipped.state.rules).toEqual(first.state.rules);
    expect(second.events.map((e) => [e.state, e.ts])).toEqual([['ALARM', T0 + 3]]);
  });

  it('remembers the threshold of the raise, so a reminder and an acknowledge name it; a command with none remembered names null', () => {
    const rules = rulesOf({ ...hotter, remindEvery: { seconds: 60 } });
    const { state } = run(rules, [reading(T0, { temperature: 61, maxTemperature: 60 })]);

    const reminder = applySilence({ deviceId: 'd1', state, now: T0 + 60_000, rules });
    const ack = applyCommand({ deviceId: 'd1', state, rules, command: { action: 'acknowledge', ruleId: 'hotter' }, by: 'op', at: T0 + 1 });
    const rest = run(rules, [reading(T0 + 2, { temperature: 1, maxTemperature: 60 })], state).state;
    const snooze = applyCommand({ deviceId: 'd1', state: rest, rules, command: { action: 'snooze', ruleId: 'hotter', seconds: 60 }, by: 'op', at: T0 + 3 });

    expect(state.rules).toEqual([{ rule: 'hotter', kind: 'above', status: 'ALARM', since: T0, value: 61, threshold: 60 }]);
    expect(reminder.events.map((e) => [e.action, e.value, e.threshold])).toEqual([['reminder', 61, 60]]);
    expect(ack.outcome === 'accepted' ? ack.events.map((e) => [e.state, e.threshold]) : []).toEqual([['ACKNOWLEDGED', 60]]);
    expect(snooze.outcome === 'accepted' ? snooze.events.map((e) => [e.state, e.threshold]) : []).toEqual([['SNOOZED', null]]);
  });

  it('keeps a fixed threshold out of the stored state', () => {
    const { state } = run(rulesOf({ id: 'r', metric: 'm', when: { equals: 1 }, severity: 'info' }), [reading(T0, { m: 1 })]);

    expect(state.rules).toEqual([{ rule: 'r', kind: 'equals', status: 'ALARM', since: T0, value: 1 }]);
  });
});

describe('a rule whose kind changed (a thresholds reload)', () => {
  const asAbove = { id: 'r', metric: 'm', when: { above: 10 }, severity: 'info' };
  const asAtOrAbove = { ...asAbove, when: { atOrAbove: 10 } };

  it('starts afresh: its stored state is dropped', () => {
    const { state } = run(rulesOf(asAbove), [reading(T0, { m: 11 })]);

    const after = run(rulesOf(asAtOrAbove), [reading(T0 + 1, { m: 10 })], state);

    expect(after.events.map((e) => [e.previousState, e.state, e.value])).toEqual([['OK', 'ALARM', 10]]);
    expect(after.state.rules).toEqual([{ rule: 'r', kind: 'atOrAbove', status: 'ALARM', since: T0 + 1, value: 10 }]);
  });

  it('keeps its state when only its threshold changed, and keeps a state stored before kinds were recorded', () => {
    const { state } = run(rulesOf(asAbove), [reading(T0, { m: 11 })]);
    const legacy = { ...state, rules: state.rules.map(({ kind: _kind, ...rest }) => rest) };

    const changed = run(rulesOf({ ...asAbove, when: { above: 20 } }), [reading(T0 + 1, { m: 15 })], state);
    const fromLegacy = run(rulesOf(asAtOrAbove), [reading(T0 + 1, { m: 10.5 })], legacy);

    expect(changed.events.map((e) => [e.state, e.threshold])).toEqual([['OK', 20]]);
    expect(fromLegacy.events).toEqual([]);
    expect(fromLegacy.state.rules).toEqual([{ rule: 'r', kind: 'atOrAbove', status: 'ALARM', since: T0, value: 11 }]);
  });
});

describe('the comparisons against a brute-force oracle (seeded)', () => {
  const kinds = ['above', 'below', 'atOrAbove', 'atOrBelow', 'equals', 'notEquals'] as const;
  const oracle: Record<(typeof kinds)[number], (v: number, t: number) => boolean> = {
    above: (v, t) => v > t,
    below: (v, t) => v < t,
    atOrAbove: (v, t) => v >= t,
    atOrBelow: (v, t) => v <= t,
    equals: (v, t) => v === t,
    notEquals: (v, t) => v !== t,
  };

  it('is in ALARM after each reading exactly when the comparison holds for it (no debounce, no clear bound)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.boolean(),
        fc.array(fc.record({ m: fc.integer({ min: 0, max: 4 }), limit: fc.integer({ min: 0, max: 4 }) }), { minLength: 1, maxLength: 30 }),
        (kind, fromMetric, steps) => {
          const rules = rulesOf({ id: 'r', metric: 'm', when: { [kind]: fromMetric ? { metric: 'limit' } : 2 }, severity: 'info' });
          let state: unknown;
          steps.forEach((step, i) => {
            const result = applyReadings({ deviceId: 'd1', state, readings: [reading(T0 + i, step)], rules });
            state = result.state;
            const inAlarm = result.state.rules.some((r) => r.status === 'ALARM');
            expect(inAlarm).toBe(oracle[kind](step.m, fromMetric ? step.limit : 2));
            for (const event of result.events) expect(event.threshold).toBe(fromMetric ? step.limit : 2);
          });
        },
      ),
      { seed: 20_261_206, numRuns: 300 },
    );
  });
});
