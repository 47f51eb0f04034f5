import { describe, it, expect } from 'vitest';
import {
  ALARM_STATE_VERSION,
  applyReadings,
  applySilence,
  emptyAlarmState,
  shortestSilenceMs,
} from '../../../lambdas/domain/alarm-engine.js';
import type { DeviceAlarmState } from '../../../lambdas/domain/alarm-engine.js';
import type { AlarmEvent, Reading } from '../../../lambdas/domain/model.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';

const T0 = 1_764_028_800_000;

function reading(ts: number, metrics: Record<string, number>, extra: { seq?: number; type?: string; deviceId?: string } = {}): Reading {
  const { deviceId = 'd1', ...rest } = extra;
  return { deviceId, ts, metrics, receivedAt: ts, ...rest };
}

function rulesOf(...rules: object[]): ThresholdRules {
  return parseThresholds({ rules });
}

/** Applies readings one batch after another, carrying the state; returns every event and the last state. */
function run(rules: ThresholdRules, batches: Reading[][], options: { deviceId?: string; state?: unknown } = {}) {
  let state: unknown = options.state;
  const events: AlarmEvent[] = [];
  for (const readings of batches) {
    const result = applyReadings({ deviceId: options.deviceId ?? 'd1', state, readings, rules });
    events.push(...result.events);
    state = JSON.parse(JSON.stringify(result.state));
  }
  return { events, state: state as DeviceAlarmState };
}

const hot = { id: 'hot', metric: 'temperature', when: { above: 80 }, severity: 'critical' };
const low = { id: 'low', metric: 'battery', when: { below: 3.3 }, severity: 'warning' };
const silent = { id: 'silent', when: { silentFor: { seconds: 300 } }, severity: 'major' };

describe('applyReadings', () => {
  it('raises an above rule on a value strictly above the bound, with the event the contract describes', () => {
    const { events } = run(rulesOf(hot), [[reading(T0, { temperature: 80 }), reading(T0 + 1, { temperature: 83.1 })]]);

    expect(events).toEqual([
      {
        alarmId: 'd1/hot',
        deviceId: 'd1',
        ruleId: 'hot',
        metric: 'temperature',
        state: 'ALARM',
        previousState: 'OK',
        severity: 'critical',
        value: 83.1,
        threshold: 80,
        ts: T0 + 1,
        action: null,
        by: null,
        note: null,
      },
    ]);
  });

  it('clears without a clear bound as soon as the value no longer breaches', () => {
    const { events } = run(rulesOf(hot), [[reading(T0, { temperature: 81 }), reading(T0 + 1, { temperature: 90 }), reading(T0 + 2, { temperature: 80 })]]);

    expect(events.map((e) => [e.state, e.previousState, e.value, e.threshold, e.ts])).toEqual([
      ['ALARM', 'OK', 81, 80, T0],
      ['OK', 'ALARM', 80, 80, T0 + 2],
    ]);
  });

  it('raises a below rule strictly below the bound and clears it when it no longer breaches', () => {
    const { events } = run(rulesOf(low), [[reading(T0, { battery: 3.3 }), reading(T0 + 1, { battery: 3.2 }), reading(T0 + 2, { battery: 3.3 })]]);

    expect(events.map((e) => [e.state, e.value, e.threshold])).toEqual([
      ['ALARM', 3.2, 3.3],
      ['OK', 3.3, 3.3],
    ]);
  });

  it('keeps an above alarm inside the hysteresis band and clears strictly below clear.below', () => {
    const rules = rulesOf({ ...hot, clear: { below: 75 } });

    const { events } = run(rules, [[81, 79, 75, 74.9].map((t, i) => reading(T0 + i, { temperature: t }))]);

    expect(events.map((e) => [e.state, e.value, e.threshold])).toEqual([
      ['ALARM', 81, 80],
      ['OK', 74.9, 75],
    ]);
  });

  it('keeps a below alarm inside the hysteresis band and clears strictly above clear.above', () => {
    const rules = rulesOf({ ...low, clear: { above: 3.5 } });

    const { events } = run(rules, [[3.2, 3.4, 3.5, 3.51].map((b, i) => reading(T0 + i, { battery: b }))]);

    expect(events.map((e) => [e.state, e.value, e.threshold])).toEqual([
      ['ALARM', 3.2, 3.3],
      ['OK', 3.51, 3.5],
    ]);
  });

  it('raises a samples-debounced rule on the Nth consecutive breach, and a non-breach resets the run', () => {
    const rules = rulesOf({ ...hot, for: { samples: 3 } });
    const values = [81, 82, 70, 81, 82, 83, 84];

    const { events } = run(rules, [values.map((t, i) => reading(T0 + i, { temperature: t }))]);

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ state: 'ALARM', value: 83, ts: T0 + 5 });
  });

  it('counts a debounce run across batches', () => {
    const rules = rulesOf({ ...hot, for: { samples: 3 } });

    const { events, state } = run(rules, [[reading(T0, { temperature: 81 })], [reading(T0 + 1, { temperature: 82 })], [reading(T0 + 2, { temperature: 83 })]]);

    expect(events.map((e) => e.ts)).toEqual([T0 + 2]);
    expect(state.rules).toEqual([{ rule: 'hot', kind: 'above', status: 'ALARM', since: T0 + 2, value: 83 }]);
  });

  it('raises a seconds-debounced rule on the first breach at least S seconds after the run began', () => {
    const rules = rulesOf({ ...hot, for: { seconds: 300 } });
    const samples = [
      [0, 81],
      [100_000, 90],
      [299_999, 85],
      [300_000, 82],
      [400_000, 95],
    ] as const;

    const { events } = run(rules, [samples.map(([dt, t]) => reading(T0 + dt, { temperature: t }))]);

    expect(events.map((e) => [e.state, e.value, e.ts])).toEqual([['ALARM', 82, T0 + 300_000]]);
  });

  it('restarts a seconds-debounce run after a non-breaching sample', () => {
    const rules = rulesOf({ ...hot, for: { seconds: 60 } });
    const samples = [
      [0, 81],
      [50_000, 70],
      [70_000, 81],
      [120_000, 81],
      [130_000, 81],
    ] as const;

    const { events } = run(rules, [samples.map(([dt, t]) => reading(T0 + dt, { temperature: t }))]);

    expect(events.map((e) => e.ts)).toEqual([T0 + 130_000]);
  });

  it('clears a debounced alarm immediately', () => {
    const rules = rulesOf({ ...hot, for: { samples: 2 } });

    const { events } = run(rules, [[81, 81, 79].map((t, i) => reading(T0 + i, { temperature: t }))]);

    expect(events.map((e) => [e.state, e.ts])).toEqual([
      ['ALARM', T0 + 1],
      ['OK', T0 + 2],
    ]);
  });

  it('orders a batch by ts then seq, a missing seq first', () => {
    const rules = rulesOf(hot);
    const batch = [
      reading(T0 + 1, { temperature: 70 }, { seq: 2 }),
      reading(T0 + 1, { temperature: 90 }, { seq: 1 }),
      reading(T0 + 1, { temperature: 95 }),
      reading(T0, { temperature: 70 }, { seq: 9 }),
    ];

    const { events } = run(rules, [batch]);

    expect(events.map((e) => [e.state, e.value])).toEqual([
      ['ALARM', 95],
      ['OK', 70],
    ]);
  });

  it('ignores a late reading: it neither flips a newer state nor emits', () => {
    const rules = rulesOf(hot);

    const { events, state } = run(rules, [[reading(T0 + 10, { temperature: 90 })], [reading(T0 + 5, { temperature: 70 })]]);

    expect(events.map((e) => e.state)).toEqual(['ALARM']);
    expect(state.rules).toEqual([{ rule: 'hot', kind: 'above', status: 'ALARM', since: T0 + 10, value: 90 }]);
  });

  it('ignores a reading equal to the newest applied, and one with the same ts and a lower seq', () => {
    const rules = rulesOf(hot);
    const first = applyReadings({ deviceId: 'd1', state: undefined, readings: [reading(T0, { temperature: 70 }, { seq: 5 })], rules });

    const again = applyReadings({
      deviceId: 'd1',
      state: first.state,
      readings: [reading(T0, { temperature: 90 }, { seq: 5 }), reading(T0, { temperature: 90 }, { seq: 4 }), reading(T0, { temperature: 90 })],
      rules,
    });

    expect(again).toMatchObject({ events: [], applied: 0, lastSeen: T0 });
  });

  it('applies a reading with the same ts and a higher seq', () => {
    const rules = rulesOf(hot);
    const first = applyReadings({ deviceId: 'd1', state: undefined, readings: [reading(T0, { temperature: 70 }, { seq: 5 })], rules });

    const next = applyReadings({ deviceId: 'd1', state: first.state, readings: [reading(T0, { temperature: 90 }, { seq: 6 })], rules });

    expect(next.applied).toBe(1);
    expect(next.events.map((e) => e.state)).toEqual(['ALARM']);
  });

  it('emits nothing when a batch is replayed', () => {
    const rules = rulesOf(hot, low);
    const batch = [reading(T0, { temperature: 90, battery: 3 }), reading(T0 + 1, { temperature: 70, battery: 3.6 })];
    const first = applyReadings({ deviceId: 'd1', state: undefined, readings: batch, rules });

    const replay = applyReadings({ deviceId: 'd1', state: first.state, readings: batch, rules });

    expect(first.events).toHaveLength(4);
    expect(replay).toMatchObject({ events: [], applied: 0 });
    expect(replay.state).toEqual(first.state);
  });

  it('reports how many readings it applied and the newest event time', () => {
    const result = applyReadings({ deviceId: 'd1', state: undefined, readings: [reading(T0 + 3, { a: 1 }), reading(T0 + 1, { a: 1 })], rules: rulesOf(hot) });

    expect(result).toMatchObject({ applied: 2, lastSeen: T0 + 3, reset: false });
    expect(result.state).toEqual({ v: ALARM_STATE_VERSION, newest: { ts: T0 + 3, seq: -1 }, rules: [] });
  });

  it('returns an empty state and no lastSeen for a device with no readings', () => {
    const result = applyReadings({ deviceId: 'd1', state: undefined, readings: [], rules: rulesOf(hot) });

    expect(result).toEqual({ state: emptyAlarmState(), events: [], applied: 0, lastSeen: undefined, reset: false });
  });

  it('applies a rule scoped by type only to readings of that type', () => {
    const rules = rulesOf({ ...hot, match: { type: 'env-sensor' } });

    const { events } = run(rules, [[
      reading(T0, { temperature: 90 }),
      reading(T0 + 1, { temperature: 90 }, { type: 'cold-chain' }),
      reading(T0 + 2, { temperature: 90 }, { type: 'env-sensor' }),
    ]]);

    expect(events.map((e) => e.ts)).toEqual([T0 + 2]);
  });

  it('applies a rule scoped by device only to that device', () => {
    const rules = rulesOf({ ...hot, match: { deviceId: 'd2' } });

    expect(run(rules, [[reading(T0, { temperature: 90 })]], { deviceId: 'd1' }).events).toEqual([]);
    expect(run(rules, [[reading(T0, { temperature: 90 }, { deviceId: 'd2' })]], { deviceId: 'd2' }).events).toHaveLength(1);
  });

  it('leaves a rule and its debounce run untouched by readings without its metric', () => {
    const rules = rulesOf({ ...hot, for: { samples: 2 } });

    const { events } = run(rules, [[reading(T0, { temperature: 90 }), reading(T0 + 1, { humidity: 10 }), reading(T0 + 2, { temperature: 90 })]]);

    expect(events.map((e) => e.ts)).toEqual([T0 + 2]);
  });

  it('does not read a metric named like an Object.prototype member from the prototype', () => {
    const rules = rulesOf({ ...hot, metric: 'constructor' }, { ...hot, id: 'proto', metric: '__proto__' });

    expect(run(rules, [[reading(T0, { temperature: 90 })]]).events).toEqual([]);
  });

  it('emits the transitions of one reading in rule-file order', () => {
    const rules = rulesOf(low, hot);

    const { events } = run(rules, [[reading(T0, { temperature: 90, battery: 3 })]]);

    expect(events.map((e) => e.ruleId)).toEqual(['low', 'hot']);
  });

  it('clears a silence alarm on the next newer reading, whatever its type', () => {
    const rules = rulesOf({ ...silent, match: { type: 'env-sensor' } });
    const seen = applyReadings({ deviceId: 'd1', state: undefined, readings: [reading(T0, { a: 1 }, { type: 'env-sensor' })], rules });
    const silenced = applySilence({ deviceId: 'd1', state: seen.state, now: T0 + 400_000, rules });

    const back = applyReadings({ deviceId: 'd1', state: silenced.state, readings: [reading(T0 + 500_000, { a: 1 }, { type: 'other' })], rules });

    expect(back.events).toEqual([
      { alarmId: 'd1/silent', deviceId: 'd1', ruleId: 'silent', metric: null, state: 'OK', previousState: 'ALARM', severity: 'major', value: null, threshold: 300, ts: T0 + 500_000, action: null, by: null, note: null },
    ]);
    expect(back.state).toEqual({ v: 1, newest: { ts: T0 + 500_000, seq: -1 }, type: 'other', rules: [] });
  });

  it('raises nothing for a gap between readings of one batch (silence is judged by the offline check)', () => {
    const { events } = run(rulesOf(silent), [[reading(T0, { a: 1 }), reading(T0 + 3_600_000, { a: 1 })]]);

    expect(events).toEqual([]);
  });

  it('keeps the type of the newest reading that had one', () => {
    const { state } = run(rulesOf(hot), [[reading(T0, { a: 1 }, { type: 'x' }), reading(T0 + 1, { a: 1 })]]);

    expect(state.type).toBe('x');
  });

  it('drops the state of rules no longer in the rule set', () => {
    const before = run(rulesOf(hot, low), [[reading(T0, { temperature: 90, battery: 3 })]]).state;

    const after = applyReadings({ deviceId: 'd1', state: before, readings: [reading(T0 + 1, { temperature: 90 })], rules: rulesOf(hot) });

    expect(after.state.rules).toEqual([{ rule: 'hot', kind: 'above', status: 'ALARM', since: T0, value: 90 }]);
    expect(after.events).toEqual([]);
  });

  it.each([
    ['a string', 'old'],
    ['null', null],
    ['another version', { v: 0, rules: [] }],
    ['rules that are not an array', { v: 1, rules: {} }],
    ['a newest without ts', { v: 1, newest: { seq: 1 }, rules: [] }],
    ['a newest with a fractional seq', { v: 1, newest: { ts: 1, seq: 0.5 }, rules: [] }],
    ['a newest that is not an object', { v: 1, newest: 5, rules: [] }],
    ['a type that is not a string', { v: 1, type: 5, rules: [] }],
    ['a rule state that is not an object', { v: 1, rules: [5] }],
    ['a rule state without rule id', { v: 1, rules: [{ status: 'OK' }] }],
    ['an unknown status', { v: 1, rules: [{ rule: 'hot', status: 'MAYBE' }] }],
    ['a run without count', { v: 1, rules: [{ rule: 'hot', status: 'OK', run: { since: 1 } }] }],
    ['a run with a non-finite since', { v: 1, rules: [{ rule: 'hot', status: 'OK', run: { count: 1, since: 'x' } }] }],
    ['a kind that is not a string', { v: 1, rules: [{ rule: 'hot', kind: 1, status: 'OK' }] }],
    ['a remembered threshold that is not a number', { v: 1, rules: [{ rule: 'hot', status: 'ALARM', threshold: '80' }] }],
    ['a window that is not an array', { v: 1, rules: [{ rule: 'hot', status: 'OK', window: {} }] }],
    ['a window entry that is not a pair of numbers', { v: 1, rules: [{ rule: 'hot', status: 'OK', window: [[1, 'x']] }] }],
    ['a held value without since', { v: 1, rules: [{ rule: 'hot', status: 'OK', held: { value: 1 } }] }],
    ['a held value that is not an object', { v: 1, rules: [{ rule: 'hot', status: 'OK', held: 1 }] }],
    ['a sighting that is not a number', { v: 1, rules: [{ rule: 'hot', status: 'OK', seen: 'yesterday' }] }],
    ['an array', []],
  ])('treats a stored state with %s as empty and says so', (_what, stored) => {
    const result = applyReadings({ deviceId: 'd1', state: stored, readings: [reading(T0, { temperature: 90 })], rules: rulesOf(hot) });

    expect(result.reset).toBe(true);
    expect(result.events.map((e) => e.state)).toEqual(['ALARM']);
  });

  it('reads back a stored state with a debounce run', () => {
    const stored = { v: 1, newest: { ts: T0, seq: -1 }, type: 't', rules: [{ rule: 'hot', status: 'OK', run: { count: 2, since: T0 - 1 } }] };

    const result = applyReadings({ deviceId: 'd1', state: stored, readings: [reading(T0 + 1, { temperature: 90 })], rules: rulesOf({ ...hot, for: { samples: 3 } }) });

    expect(result.reset).toBe(false);
    expect(result.events.map((e) => e.ts)).toEqual([T0 + 1]);
  });

  it('produces state that survives a JSON round trip unchanged', () => {
    const rules = rulesOf({ ...hot, for: { samples: 5 } }, low, silent);
    const result = applyReadings({ deviceId: 'd1', state: undefined, readings: [reading(T0, { temperature: 90, battery: 3 }, { seq: 1, type: 't' })], rules });

    expect(JSON.parse(JSON.stringify(result.state))).toStrictEqual(result.state);
  });
});

describe('applySilence', () => {
  const rules = rulesOf(silent);
  const seenAt = (ts: number, type?: string) =>
    applyReadings({ deviceId: 'd1', state: undefined, readings: [reading(ts, { a: 1 }, type === undefined ? {} : { type })], rules: rulesOf(silent, { ...silent, id: 'typed', match: { type: 'x' } }) }).state;

  it('raises once the device has been silent for the window, with a deterministic event time', () => {
    const result = applySilence({ deviceId: 'd1', state: seenAt(T0), now: T0 + 300_000, rules });

    expect(result.events).toEqual([
      { alarmId: 'd1/silent', deviceId: 'd1', ruleId: 'silent', metric: null, state: 'ALARM', previousState: 'OK', severity: 'major', value: 300, threshold: 300, ts: T0 + 300_000, action: null, by: null, note: null },
    ]);
    expect(result.state.rules).toEqual([{ rule: 'silent', kind: 'silentFor', status: 'ALARM', since: T0 + 300_000, value: 300 }]);
  });

  it('reports the whole seconds of silence at the check and the same event time on a later check', () => {
    const result = applySilence({ deviceId: 'd1', state: seenAt(T0), now: T0 + 451_999, rules });

    expect(result.events[0]).toMatchObject({ value: 451, ts: T0 + 300_000 });
  });

  it('raises nothing a millisecond before the window ends', () => {
    expect(applySilence({ deviceId: 'd1', state: seenAt(T0), now: T0 + 299_999, rules }).events).toEqual([]);
  });

  it('emits nothing when re-run on a device already in silence alarm', () => {
    const first = applySilence({ deviceId: 'd1', state: seenAt(T0), now: T0 + 300_000, rules });

    const again = applySilence({ deviceId: 'd1', state: JSON.parse(JSON.stringify(first.state)), now: T0 + 900_000, rules });

    expect(again.events).toEqual([]);
    expect(again.state).toEqual(first.state);
  });

  it('raises nothing for a device never seen', () => {
    expect(applySilence({ deviceId: 'd1', state: undefined, now: T0, rules })).toEqual({ state: emptyAlarmState(), events: [], reset: false });
  });

  it('ignores metric rules and silence rules for another device or type', () => {
    const scoped = rulesOf(hot, { ...silent, id: 'other-device', match: { deviceId: 'd2' } }, { ...silent, id: 'typed', match: { type: 'x' } });

    expect(applySilence({ deviceId: 'd1', state: seenAt(T0, 'y'), now: T0 + 1_000_000, rules: scoped }).events).toEqual([]);
    expect(applySilence({ deviceId: 'd1', state: seenAt(T0), now: T0 + 1_000_000, rules: scoped }).events).toEqual([]);
    expect(applySilence({ deviceId: 'd1', state: seenAt(T0, 'x'), now: T0 + 1_000_000, rules: scoped }).events.map((e) => e.ruleId)).toEqual(['typed']);
  });

  it('treats an unreadable state as empty and says so', () => {
    expect(applySilence({ deviceId: 'd1', state: { v: 99 }, now: T0, rules })).toEqual({ state: emptyAlarmState(), events: [], reset: true });
  });

  it('rounds a fractional window up to whole milliseconds', () => {
    const fractional = rulesOf({ ...silent, when: { silentFor: { seconds: 0.0005 } } });

    expect(applySilence({ deviceId: 'd1', state: seenAt(T0), now: T0 + 1, rules: fractional }).events[0]).toMatchObject({ ts: T0 + 1, value: 0, threshold: 0.0005 });
  });
});

describe('shortestSilenceMs', () => {
  it('is the shortest silentFor window in ms, or undefined without one', () => {
    expect(shortestSilenceMs(rulesOf(hot, silent, { ...silent, id: 's2', when: { silentFor: { seconds: 60 } } }, { ...silent, id: 's3', when: { silentFor: { seconds: 120 } } }))).toBe(60_000);
    expect(shortestSilenceMs(rulesOf(hot))).toBeUndefined();
  });
});
