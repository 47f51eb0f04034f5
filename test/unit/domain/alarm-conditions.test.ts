import { describe, it, expect } from 'vitest';
import { alarmStateChanged, applyCommand, applyReadings, applySilence, describeAlarms, lastSeenWriteBoundMs, nextWakeAt } from '../../../lambdas/domain/alarm-engine.js';
import type { DeviceAlarmState } from '../../../lambdas/domain/alarm-engine.js';
import type { AlarmCommand } from '../../../lambdas/domain/alarm-command.js';
import type { AlarmEvent, Reading } from '../../../lambdas/domain/model.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';

const T0 = 1_764_028_800_000;
const S = 1000;

function reading(ts: number, metrics: Record<string, number>, type?: string): Reading {
  return { deviceId: 'd1', ts, metrics, receivedAt: ts, ...(type === undefined ? {} : { type }) };
}

function rulesOf(...rules: object[]): ThresholdRules {
  return parseThresholds({ rules });
}

/** Applies each batch in turn, carrying the state through JSON as a store would. */
function run(rules: ThresholdRules, batches: Reading[][], state?: unknown) {
  let current: unknown = state;
  const events: AlarmEvent[] = [];
  for (const readings of batches) {
    const result = applyReadings({ deviceId: 'd1', state: current, readings, rules });
    events.push(...result.events);
    current = JSON.parse(JSON.stringify(result.state));
  }
  return { events, state: current as DeviceAlarmState };
}

const series = (values: readonly (number | undefined)[], everyMs = 10 * S) =>
  values.map((value, i) => reading(T0 + i * everyMs, value === undefined ? { other: 1 } : { m: value }));
const shown = (events: readonly AlarmEvent[]) => events.map((e) => [e.state, e.value, e.threshold, (e.ts - T0) / S]);

function command(state: unknown, rules: ThresholdRules, at: number, action: AlarmCommand['action'], seconds?: number) {
  const result = applyCommand({ deviceId: 'd1', state, rules, command: { action, ruleId: 'r', ...(seconds === undefined ? {} : { seconds }) }, by: 'op', at });
  if (result.outcome !== 'accepted') throw new Error(result.reason);
  return result;
}

describe('risesBy and fallsBy', () => {
  const rises = { id: 'r', metric: 'm', when: { risesBy: { amount: 5, withinSeconds: 60 } }, severity: 'major' };
  const falls = { ...rises, when: { fallsBy: { amount: 5, withinSeconds: 60 } } };

  it('raises when the value is at least amount above the lowest of the preceding window; value is the rise, threshold the amount', () => {
    const { events } = run(rulesOf(rises), [series([20, 18, 21, 23, 22.9, 30])]);

    expect(shown(events)).toEqual([
      ['ALARM', 5, 5, 30],
      ['OK', 4.9, 5, 40],
      ['ALARM', 12, 5, 50],
    ]);
  });

  it('counts only readings within withinSeconds before the reading (the start of the window included)', () => {
    const rules = rulesOf(rises);

    expect(run(rules, [[reading(T0, { m: 10 }), reading(T0 + 60 * S, { m: 15 })]]).events).toHaveLength(1);
    expect(run(rules, [[reading(T0, { m: 10 }), reading(T0 + 60 * S + 1, { m: 15 })]]).events).toEqual([]);
  });

  it('does not raise on the first reading, nor clear an alarm on a reading whose window is empty without saying so', () => {
    const rules = rulesOf(rises);
    const raised = run(rules, [[reading(T0, { m: 10 }), reading(T0 + S, { m: 20 })]]);

    const cleared = run(rules, [[reading(T0 + 10 * 60 * S, { m: 20 })]], raised.state);

    expect(run(rules, [[reading(T0, { m: 99 })]]).events).toEqual([]);
    expect(shown(cleared.events)).toEqual([['OK', null, 5, 600]]);
  });

  it('mirrors for fallsBy: the highest of the window minus the value', () => {
    const { events } = run(rulesOf(falls), [series([50, 52, 47, 46.9, 48, 60, 54])]);

    expect(shown(events)).toEqual([
      ['ALARM', 5, 5, 20],
      ['OK', 4, 5, 40],
      ['ALARM', 6, 5, 60],
    ]);
  });

  it('judges the change to 12 significant digits, so 23.3 - 20.1 is a rise of 3.2', () => {
    const rules = rulesOf({ ...rises, when: { risesBy: { amount: 3.2, withinSeconds: 60 } } });

    expect(shown(run(rules, [series([20.1, 23.3])]).events)).toEqual([['ALARM', 3.2, 3.2, 10]]);
  });

  it('is debounced by for.samples, and a latch rule clears to LATCHED', () => {
    const rules = rulesOf({ ...rises, for: { samples: 2 }, latch: true });

    expect(shown(run(rules, [series([10, 16, 17, 11])]).events)).toEqual([
      ['ALARM', 7, 5, 20],
      ['LATCHED', 1, 5, 30],
    ]);
  });

  it('leaves the window untouched by readings without the metric or of another type', () => {
    const rules = rulesOf({ ...rises, match: { type: 'vehicle' } });
    const first = run(rules, [[reading(T0, { m: 10 }, 'vehicle')]]);

    const skipped = run(rules, [[reading(T0 + S, { other: 0 }, 'vehicle'), reading(T0 + 2 * S, { m: 0 }, 'truck')]], first.state);
    const later = run(rules, [[reading(T0 + 3 * S, { m: 15 }, 'vehicle')]], skipped.state);

    expect(skipped.state.rules).toEqual(first.state.rules);
    expect(first.state.rules).toEqual([{ rule: 'r', kind: 'risesBy', status: 'OK', window: [[T0, 10]] }]);
    expect(shown(later.events)).toEqual([['ALARM', 5, 5, 3]]);
  });

  it('ignores a late reading: it neither enters the window nor decides anything', () => {
    const rules = rulesOf(rises);
    const { state } = run(rules, [[reading(T0, { m: 10 }), reading(T0 + 2 * S, { m: 11 })]]);

    const late = run(rules, [[reading(T0 + S, { m: 0 })]], state);

    expect(late.events).toEqual([]);
    expect(late.state).toEqual(state);
  });

  it('drops the window when the rule changes kind from risesBy to fallsBy', () => {
    const { state } = run(rulesOf(rises), [series([10, 20])]);

    const after = run(rulesOf(falls), [[reading(T0 + 30 * S, { m: 14 })]], state);

    expect(after.events).toEqual([]);
    expect(after.state.rules).toEqual([{ rule: 'r', kind: 'fallsBy', status: 'OK', window: [[T0 + 30 * S, 14]] }]);
  });
});

describe('unchangedFor', () => {
  const stuck = { id: 'r', metric: 'm', when: { unchangedFor: { seconds: 60 } }, severity: 'minor' };

  it('raises on the reading that shows the same value held for the window; the first other value clears', () => {
    const { events } = run(rulesOf(stuck), [series([1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3])]);

    expect(shown(events)).toEqual([
      ['ALARM', 60, 60, 70],
      ['OK', null, 60, 90],
    ]);
  });

  it('does not raise while the value changes within the window, and counts event time across batches', () => {
    const rules = rulesOf(stuck);
    const moving = run(rules, [series([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2])]);

    const later = run(rules, [[reading(T0 + 60 * S + 60 * S, { m: 2 })]], moving.state);

    expect(moving.events).toEqual([]);
    expect(shown(later.events)).toEqual([['ALARM', 60, 60, 120]]);
  });

  it('writes its state only when the value changes: a stuck value leaves the state as it was', () => {
    const rules = rulesOf(stuck);
    const first = run(rules, [[reading(T0, { m: 7 })]]);

    const again = applyReadings({ deviceId: 'd1', state: first.state, readings: [reading(T0 + 10 * S, { m: 7 })], rules });
    const changed = applyReadings({ deviceId: 'd1', state: first.state, readings: [reading(T0 + 10 * S, { m: 8 })], rules });

    expect(alarmStateChanged(first.state, again.state)).toBe(false);
    expect(alarmStateChanged(first.state, changed.state)).toBe(true);
  });

  it('stays ACKNOWLEDGED while stuck and clears on a change', () => {
    const rules = rulesOf(stuck);
    const raised = run(rules, [series([5, 5, 5, 5, 5, 5, 5])]);
    const acknowledged = command(raised.state, rules, T0 + 61 * S, 'acknowledge').state;

    const after = run(rules, [[reading(T0 + 70 * S, { m: 5 }), reading(T0 + 80 * S, { m: 6 })]], acknowledged);

    expect(shown(after.events)).toEqual([['OK', null, 60, 80]]);
  });
});

describe('metricSilentFor', () => {
  const quiet = { id: 'r', metric: 'm', when: { metricSilentFor: { seconds: 300 } }, severity: 'major' };
  const rules = rulesOf(quiet);
  const B = lastSeenWriteBoundMs(rules);

  it('has a write bound of half its window (at least 60 s), like silentFor', () => {
    expect(B).toBe(150 * S);
    expect(lastSeenWriteBoundMs(rulesOf({ ...quiet, when: { metricSilentFor: { seconds: 60 } } }))).toBe(60 * S);
  });

  it('takes a lower floor for the bound from a rule set that sets one (the demo\'s short windows)', () => {
    const short = rulesOf({ ...quiet, when: { metricSilentFor: { seconds: 20 } } });
    expect(lastSeenWriteBoundMs(short)).toBe(60 * S);
    expect(lastSeenWriteBoundMs({ ...short, lastSeenBoundFloorMs: 2 * S })).toBe(10 * S);
    expect(lastSeenWriteBoundMs({ rules: [], lastSeenBoundFloorMs: 2 * S })).toBe(2 * S);
  });

  it('moves the stored sighting only when a reading carrying the metric is more than the bound newer', () => {
    const first = run(rules, [[reading(T0, { m: 1 })]]);
    const within = run(rules, [[reading(T0 + B, { m: 1 })]], first.state);
    const beyond = run(rules, [[reading(T0 + B + 1, { m: 1 })]], first.state);

    expect(first.state.rules).toEqual([{ rule: 'r', kind: 'metricSilentFor', status: 'OK', seen: T0 }]);
    expect(within.state.rules).toEqual(first.state.rules);
    expect(beyond.state.rules).toEqual([{ rule: 'r', kind: 'metricSilentFor', status: 'OK', seen: T0 + B + 1 }]);
  });

  it('is raised by the scheduled check at sighting + window + bound while the device keeps reporting other metrics', () => {
    const { state } = run(rules, [[reading(T0, { m: 1 }), reading(T0 + 60 * S, { other: 1 }), reading(T0 + 400 * S, { other: 1 })]]);
    const due = T0 + 300 * S + B;

    const early = applySilence({ deviceId: 'd1', state, now: due - 1, rules, lastSeenLagMs: B });
    const onTime = applySilence({ deviceId: 'd1', state, now: due + 5 * S, rules, lastSeenLagMs: B });
    const again = applySilence({ deviceId: 'd1', state: onTime.state, now: due + 65 * S, rules, lastSeenLagMs: B });

    expect(nextWakeAt(state, rules)).toBe(due);
    expect(early.events).toEqual([]);
    expect(shown(onTime.events)).toEqual([['ALARM', 455, 300, 450]]);
    expect(onTime.events[0]?.metric).toBe('m');
    expect(again.events).toEqual([]);
    expect(nextWakeAt(onTime.state, rules)).toBeUndefined();
  });

  it('is cleared by the next reading carrying the metric, not by others nor by a reading from before the silence', () => {
    const { state } = run(rules, [[reading(T0, { m: 1 })]]);
    const raised = applySilence({ deviceId: 'd1', state, now: T0 + 500 * S, rules, lastSeenLagMs: B }).state;

    const others = run(rules, [[reading(T0 + 501 * S, { other: 1 })]], raised);
    const back = run(rules, [[reading(T0 + 502 * S, { m: 2 })]], others.state);

    expect(others.events).toEqual([]);
    expect(shown(back.events)).toEqual([['OK', null, 300, 502]]);
    expect(back.state.rules).toEqual([{ rule: 'r', kind: 'metricSilentFor', status: 'OK', seen: T0 + 502 * S }]);
    expect(nextWakeAt(back.state, rules)).toBe(T0 + 502 * S + 300 * S + B);
  });

  it('ignores a sighting from before the silence began while raised', () => {
    const raised = applySilence({ deviceId: 'd1', state: run(rules, [[reading(T0, { m: 1 })]]).state, now: T0 + 500 * S, rules, lastSeenLagMs: B }).state;
    // Newer than the device's newest reading, but at or before the sighting the raise counted from plus the bound.
    const replayed = { ...raised, newest: { ts: T0, seq: -1 } };

    expect(run(rules, [[reading(T0 + B, { m: 1 })]], replayed).events).toEqual([]);
  });

  it('never raises for a metric never seen, nor for readings of another type than the rule names', () => {
    const typed = rulesOf({ ...quiet, match: { type: 'vehicle' } });
    const { state } = run(typed, [[reading(T0, { m: 1 }, 'truck')]]);

    expect(applySilence({ deviceId: 'd1', state, now: T0 + 10_000 * S, rules: typed }).events).toEqual([]);
    expect(nextWakeAt(state, typed)).toBeUndefined();
  });

  it('tracks sightings while snoozed: a metric back during the snooze is not raised at its end; one still silent is', () => {
    const { state } = run(rules, [[reading(T0, { m: 1 })]]);
    const raised = applySilence({ deviceId: 'd1', state, now: T0 + 500 * S, rules, lastSeenLagMs: B }).state;
    const snoozed = command(raised, rules, T0 + 501 * S, 'snooze', 3600).state;
    const snoozeEnd = T0 + 501 * S + 3600 * S;

    const back = run(rules, [[reading(snoozeEnd - 10 * S, { m: 1 })]], snoozed);
    const fed = applySilence({ deviceId: 'd1', state: back.state, now: snoozeEnd, rules, lastSeenLagMs: B });
    const starved = applySilence({ deviceId: 'd1', state: snoozed, now: snoozeEnd, rules, lastSeenLagMs: B });

    expect(back.events).toEqual([]);
    expect(fed.events.map((e) => [e.previousState, e.state])).toEqual([['SNOOZED', 'OK']]);
    expect(starved.events.map((e) => [e.previousState, e.state, e.ts])).toEqual([['SNOOZED', 'ALARM', snoozeEnd]]);
  });

  it('tracks sightings while disabled, so enabling it raises nothing for a metric that kept reporting', () => {
    const { state } = run(rules, [[reading(T0, { m: 1 })]]);
    const disabled = command(state, rules, T0 + S, 'disable').state;
    const reporting = run(rules, [[reading(T0 + 400 * S, { m: 1 }), reading(T0 + 800 * S, { m: 1 })]], disabled).state;
    const enabled = command(reporting, rules, T0 + 900 * S, 'enable').state;

    expect(applySilence({ deviceId: 'd1', state: enabled, now: T0 + 901 * S, rules, lastSeenLagMs: B }).events).toEqual([]);
    expect(nextWakeAt(enabled, rules)).toBe(T0 + 800 * S + 300 * S + B);
  });

  it('reminds while raised and unacknowledged, naming its seconds', () => {
    const reminding = rulesOf({ ...quiet, remindEvery: { seconds: 600 } });
    const raised = applySilence({ deviceId: 'd1', state: run(reminding, [[reading(T0, { m: 1 })]]).state, now: T0 + 450 * S, rules: reminding, lastSeenLagMs: B });

    const reminder = applySilence({ deviceId: 'd1', state: raised.state, now: T0 + 1050 * S, rules: reminding, lastSeenLagMs: B });

    expect(reminder.events.map((e) => [e.action, e.value, e.threshold])).toEqual([['reminder', 450, 300]]);
  });
});

describe('commands on the new kinds', () => {
  it.each([
    ['risesBy', { risesBy: { amount: 5, withinSeconds: 60 } }, [10, 16], 5],
    ['fallsBy', { fallsBy: { amount: 2, withinSeconds: 60 } }, [10, 7], 2],
    ['unchangedFor', { unchangedFor: { seconds: 10 } }, [3, 3], 10],
  ])('name the amount or the seconds of a %s rule as the threshold of an acknowledge and a snooze', (_kind, when, values, threshold) => {
    const rules = rulesOf({ id: 'r', metric: 'm', when, severity: 'info' });
    const { state } = run(rules, [series(values)]);

    const acknowledged = command(state, rules, T0 + 60 * S, 'acknowledge');
    const snoozed = command(acknowledged.state, rules, T0 + 61 * S, 'snooze', 60);

    expect([...acknowledged.events, ...snoozed.events].map((e) => [e.previousState, e.state, e.threshold])).toEqual([
      ['ALARM', 'ACKNOWLEDGED', threshold],
      ['ACKNOWLEDGED', 'SNOOZED', threshold],
    ]);
  });

  it('refuses a snooze without seconds (parseAlarmCommand never makes one; a direct caller might)', () => {
    const rules = rulesOf({ id: 'r', metric: 'm', when: { above: 1 }, severity: 'info' });
    const { state } = run(rules, [[reading(T0, { m: 2 })]]);

    const result = applyCommand({ deviceId: 'd1', state, rules, command: { action: 'snooze', ruleId: 'r' }, by: 'op', at: T0 + S });

    expect(result).toMatchObject({ outcome: 'rejected', reason: 'cannot snooze r: a snooze needs seconds', status: 'ALARM' });
  });

  it('lists no alarm for a rule that only remembers a window, a held value or a sighting', () => {
    const rules = rulesOf(
      { id: 'a', metric: 'm', when: { risesBy: { amount: 5, withinSeconds: 60 } }, severity: 'info' },
      { id: 'b', metric: 'm', when: { unchangedFor: { seconds: 60 } }, severity: 'info' },
      { id: 'c', metric: 'm', when: { metricSilentFor: { seconds: 60 } }, severity: 'info' },
    );
    const { state } = run(rules, [[reading(T0, { m: 1 })]]);

    expect(state.rules.map((r) => r.rule)).toEqual(['a', 'b', 'c']);
    expect(describeAlarms('d1', state, rules)).toEqual([]);
  });
});
