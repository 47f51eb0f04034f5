import { describe, expect, it } from 'vitest';
import type { AlarmCommand } from '../../../lambdas/domain/alarm-command.js';
import { alarmStateChanged, applyCommand, applyReadings, applySilence, describeAlarms, lastSeenWriteBoundMs, nextWakeAt } from '../../../lambdas/domain/alarm-engine.js';
import type { DeviceAlarmState } from '../../../lambdas/domain/alarm-engine.js';
import type { AlarmEvent } from '../../../lambdas/domain/model.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';

const T0 = 1_764_028_800_000;
const hot = { id: 'hot', metric: 'temperature', when: { above: 80 }, clear: { below: 75 }, severity: 'critical' };
const silent = { id: 'silent', when: { silentFor: { seconds: 300 } }, severity: 'major' };

/** A device driven step by step: readings, commands and checks, keeping the state and every event. */
function device(ruleList: object[]) {
  const rules = parseThresholds({ rules: ruleList });
  let state: unknown;
  const events: AlarmEvent[] = [];
  return {
    rules,
    get state() {
      return state as DeviceAlarmState;
    },
    events,
    read(ts: number, temperature: number) {
      const result = applyReadings({ deviceId: 'd1', state, readings: [{ deviceId: 'd1', ts, metrics: { temperature }, receivedAt: ts }], rules });
      state = result.state;
      events.push(...result.events);
      return result.events;
    },
    command(at: number, command: AlarmCommand, by = 'operator-1') {
      const result = applyCommand({ deviceId: 'd1', state, rules, command, by, at });
      if (result.outcome === 'accepted') {
        state = result.state;
        events.push(...result.events);
      }
      return result;
    },
    check(now: number) {
      const result = applySilence({ deviceId: 'd1', state, now, rules });
      state = result.state;
      events.push(...result.events);
      return result.events;
    },
  };
}

const transitions = (events: readonly AlarmEvent[]) => events.map((e) => `${e.previousState}->${e.state}${e.reminder === true ? ' (reminder)' : ''}`);

describe('the alarm lifecycle', () => {
  it('acknowledges an ALARM with who and why, raises nothing while it stays in breach, and returns to OK when it clears', () => {
    const d = device([hot]);
    d.read(T0, 85);

    const ack = d.command(T0 + 1_000, { action: 'acknowledge', ruleId: 'hot', note: 'fan replaced' });
    d.read(T0 + 2_000, 90);
    d.read(T0 + 3_000, 70);

    expect(ack).toMatchObject({ outcome: 'accepted', status: 'ACKNOWLEDGED', duplicate: false });
    expect(transitions(d.events)).toEqual(['OK->ALARM', 'ALARM->ACKNOWLEDGED', 'ACKNOWLEDGED->OK']);
    expect(d.events[1]).toMatchObject({ action: 'acknowledge', by: 'operator-1', note: 'fan replaced', ts: T0 + 1_000, value: null, threshold: 80 });
    expect(d.events[2]).toMatchObject({ action: null, by: null, note: null, value: 70, threshold: 75 });
  });

  it('latches an ALARM that clears unacknowledged until it is acknowledged (then OK) or breached again (then ALARM)', () => {
    const d = device([{ ...hot, latch: true }]);
    d.read(T0, 85);
    d.read(T0 + 1_000, 70);
    d.read(T0 + 2_000, 86);
    d.read(T0 + 3_000, 70);
    d.command(T0 + 4_000, { action: 'acknowledge', ruleId: 'hot' });

    expect(transitions(d.events)).toEqual(['OK->ALARM', 'ALARM->LATCHED', 'LATCHED->ALARM', 'ALARM->LATCHED', 'LATCHED->OK']);
  });

  it('does not latch an acknowledged alarm: it clears to OK', () => {
    const d = device([{ ...hot, latch: true }]);
    d.read(T0, 85);
    d.command(T0 + 1, { action: 'acknowledge', ruleId: 'hot' });
    d.read(T0 + 2, 70);

    expect(transitions(d.events)).toEqual(['OK->ALARM', 'ALARM->ACKNOWLEDGED', 'ACKNOWLEDGED->OK']);
  });

  it('swallows a breach while snoozed and raises it again from the first reading after the snooze ends', () => {
    const d = device([hot]);
    d.command(T0, { action: 'snooze', ruleId: 'hot', seconds: 60 });
    d.read(T0 + 10_000, 90);
    d.read(T0 + 59_999, 91);
    d.read(T0 + 60_000, 92);

    expect(transitions(d.events)).toEqual(['OK->SNOOZED', 'SNOOZED->ALARM']);
    expect(d.events[1]).toMatchObject({ value: 92, ts: T0 + 60_000, action: null });
  });

  it('ends a snooze by the scheduled check at its end time, once, and evaluates afresh from the next reading', () => {
    const d = device([hot]);
    d.read(T0, 85);
    d.command(T0 + 1, { action: 'snooze', ruleId: 'hot', seconds: 60 });

    expect(nextWakeAt(d.state, d.rules)).toBe(T0 + 60_001);
    expect(d.check(T0 + 60_000)).toEqual([]);
    expect(d.check(T0 + 90_000).map((e) => [e.previousState, e.state, e.ts])).toEqual([['SNOOZED', 'OK', T0 + 60_001]]);
    expect(d.check(T0 + 90_000)).toEqual([]);
    d.read(T0 + 100_000, 85);
    expect(transitions(d.events)).toEqual(['OK->ALARM', 'ALARM->SNOOZED', 'SNOOZED->OK', 'OK->ALARM']);
  });

  it('raises a silence that outlasted a snooze when the check ends it, at the later of the two times', () => {
    const d = device([silent]);
    d.read(T0, 20);
    d.command(T0 + 1_000, { action: 'snooze', ruleId: 'silent', seconds: 600 });

    expect(d.check(T0 + 400_000)).toEqual([]);
    expect(d.check(T0 + 700_000).map((e) => [e.previousState, e.state, e.ts])).toEqual([['SNOOZED', 'ALARM', T0 + 601_000]]);
  });

  it('evaluates nothing while DISABLED; enable returns to OK and evaluates afresh', () => {
    const d = device([hot, silent]);
    d.read(T0, 20);
    d.command(T0 + 1, { action: 'disable', ruleId: 'hot', note: 'maintenance' });
    d.command(T0 + 2, { action: 'disable', ruleId: 'silent' });
    d.read(T0 + 10, 99);
    d.check(T0 + 10_000_000);
    d.command(T0 + 10_000_001, { action: 'enable', ruleId: 'hot' });
    d.read(T0 + 10_000_002, 99);

    expect(transitions(d.events)).toEqual(['OK->DISABLED', 'OK->DISABLED', 'DISABLED->OK', 'OK->ALARM']);
  });

  it('resets to OK at once, dropping the debounce run', () => {
    const d = device([{ ...hot, for: { samples: 3 } }]);
    d.read(T0, 90);
    d.read(T0 + 1, 90);
    const reset = d.command(T0 + 2, { action: 'reset', ruleId: 'hot' });
    d.read(T0 + 3, 90);

    expect(reset).toMatchObject({ outcome: 'accepted', status: 'OK', events: [] });
    expect(d.events).toEqual([]);
    d.read(T0 + 4, 90);
    d.read(T0 + 5, 90);
    expect(transitions(d.events)).toEqual(['OK->ALARM']);
    d.command(T0 + 6, { action: 'reset', ruleId: 'hot' });
    expect(transitions(d.events)).toEqual(['OK->ALARM', 'ALARM->OK']);
  });

  it.each([
    ['acknowledge', 'OK', 'cannot acknowledge hot: it is OK (only an ALARM or a LATCHED alarm can be acknowledged)'],
    ['enable', 'OK', 'cannot enable hot: it is OK, not DISABLED'],
    ['reset', 'OK', 'cannot reset hot: it is already OK with nothing to reset'],
  ] as const)('refuses %s of a %s alarm with a reason and changes nothing', (action, status, reason) => {
    const d = device([hot]);
    d.read(T0, 20);
    const before = structuredClone(d.state);

    expect(d.command(T0 + 1, { action, ruleId: 'hot' })).toEqual({ outcome: 'rejected', reason, status, reset: false });
    expect(d.state).toEqual(before);
  });

  it('refuses an unknown rule, and a rule scoped to another device, naming it', () => {
    const d = device([hot, { ...silent, match: { deviceId: 'other' } }]);
    d.read(T0, 20);

    expect(d.command(T0 + 1, { action: 'disable', ruleId: 'nope' })).toMatchObject({ outcome: 'rejected', reason: 'unknown rule "nope"' });
    expect(d.command(T0 + 1, { action: 'disable', ruleId: 'silent' })).toMatchObject({ outcome: 'rejected', reason: 'rule "silent" does not apply to device d1' });
  });

  it('accepts a replayed command again without a second event, by receive time or by clientToken, and refuses an older one', () => {
    const d = device([hot]);
    d.read(T0, 90);
    d.command(T0 + 1_000, { action: 'snooze', ruleId: 'hot', seconds: 60, clientToken: 'tok-1' });

    expect(d.command(T0 + 1_000, { action: 'snooze', ruleId: 'hot', seconds: 60 })).toMatchObject({ outcome: 'accepted', duplicate: true, events: [] });
    expect(d.command(T0 + 5_000, { action: 'snooze', ruleId: 'hot', seconds: 60, clientToken: 'tok-1' })).toMatchObject({ outcome: 'accepted', duplicate: true, events: [] });
    expect(d.command(T0 + 500, { action: 'disable', ruleId: 'hot' })).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/^a newer command \(snooze at /) as unknown });
    expect(transitions(d.events)).toEqual(['OK->ALARM', 'ALARM->SNOOZED']);
  });

  it('reminds an unacknowledged ALARM once per interval from the check, however often or late it runs, and stops on acknowledge', () => {
    const d = device([{ ...hot, remindEvery: { seconds: 60 } }]);
    d.read(T0, 85);

    expect(d.check(T0 + 59_999)).toEqual([]);
    expect(d.check(T0 + 60_000).map((e) => [e.ts, e.action, e.reminder, e.state, e.previousState])).toEqual([[T0 + 60_000, 'reminder', true, 'ALARM', 'ALARM']]);
    expect(d.check(T0 + 61_000)).toEqual([]);
    // Late by two intervals: only the newest boundary is reminded.
    expect(d.check(T0 + 200_000).map((e) => e.ts)).toEqual([T0 + 180_000]);
    d.command(T0 + 200_001, { action: 'acknowledge', ruleId: 'hot' });
    expect(d.check(T0 + 1_000_000)).toEqual([]);
    expect(nextWakeAt(d.state, d.rules)).toBeUndefined();
  });

  it('clears a silence only with a reading from after the silence began, not a replay of an older one', () => {
    const d = device([silent]);
    d.read(T0, 20);
    d.check(T0 + 400_000);
    const state = d.state;

    const old = applyReadings({ deviceId: 'd1', state: { ...state, newest: { ts: T0 - 10, seq: -1 } }, readings: [{ deviceId: 'd1', ts: T0 - 5, metrics: {}, receivedAt: 0 }], rules: d.rules });

    expect(old.events).toEqual([]);
    expect(d.read(T0 + 400_001, 20).map((e) => e.state)).toEqual(['OK']);
  });

  it('lists the alarms not at rest with who put them there', () => {
    const d = device([hot, silent]);
    d.read(T0, 90);
    d.command(T0 + 1, { action: 'acknowledge', ruleId: 'hot', note: 'on it' }, 'alice');
    d.command(T0 + 2, { action: 'snooze', ruleId: 'silent', seconds: 10 }, 'bob');

    expect(describeAlarms('d1', d.state, d.rules)).toEqual([
      { alarmId: 'd1/hot', deviceId: 'd1', ruleId: 'hot', severity: 'critical', state: 'ACKNOWLEDGED', since: T0, by: 'alice', note: 'on it', snoozedUntil: null },
      { alarmId: 'd1/silent', deviceId: 'd1', ruleId: 'silent', severity: 'major', state: 'SNOOZED', since: T0 + 2, by: 'bob', note: null, snoozedUntil: T0 + 10_002 },
    ]);
  });

  it('sees no change in a state read back with its keys in another order, and a change in a debounce run', () => {
    const d = device([{ ...hot, for: { samples: 3 } }]);
    d.read(T0, 90);
    const reordered = JSON.parse(JSON.stringify(d.state, (_key, value: unknown) =>
      value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse()) : value,
    )) as unknown;

    const same = applyReadings({ deviceId: 'd1', state: reordered, readings: [{ deviceId: 'd1', ts: T0 + 1, metrics: { humidity: 1 }, receivedAt: 0 }], rules: d.rules });
    const moved = applyReadings({ deviceId: 'd1', state: reordered, readings: [{ deviceId: 'd1', ts: T0 + 1, metrics: { temperature: 90 }, receivedAt: 0 }], rules: d.rules });

    expect(alarmStateChanged(reordered, d.state)).toBe(false);
    expect(alarmStateChanged(reordered, same.state)).toBe(false);
    expect(alarmStateChanged(reordered, moved.state)).toBe(true);
    expect(alarmStateChanged(undefined, same.state)).toBe(true);
  });

  it('bounds the lastSeen lag at a quarter of the shortest silence window, at least 60 s', () => {
    expect(lastSeenWriteBoundMs(parseThresholds({ rules: [silent] }))).toBe(150_000);
    expect(lastSeenWriteBoundMs(parseThresholds({ rules: [{ ...silent, when: { silentFor: { seconds: 120 } } }] }))).toBe(60_000);
    expect(lastSeenWriteBoundMs(parseThresholds({ rules: [hot] }))).toBe(60_000);
  });
});
