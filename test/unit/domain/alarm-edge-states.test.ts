import { describe, expect, it } from 'vitest';
import { applyCommand, applyReadings, applySilence, describeAlarms, nextWakeAt } from '../../../lambdas/domain/alarm-engine.js';
import { rulesFor } from '../../../lambdas/domain/alarm-transitions.js';
import { ALARM_STATES } from '../../../lambdas/domain/model.js';
import { parseThresholds, type ThresholdRule } from '../../../lambdas/domain/thresholds.js';

const { ALARM, DISABLED, LATCHED, OK, SNOOZED } = ALARM_STATES;
const T0 = 1_764_028_800_000;
const reading = (ts: number, temperature: number) => ({ deviceId: 'd1', ts, metrics: { temperature }, receivedAt: ts });

describe('a latched silentFor rule', () => {
  it('latches when the silent device speaks again before anyone acknowledged it', () => {
    const rules = parseThresholds({ rules: [{ id: 'quiet', when: { silentFor: { seconds: 300 } }, latch: true, severity: 'major' }] });
    const first = applyReadings({ deviceId: 'd1', state: undefined, readings: [reading(T0, 20)], rules });
    const silent = applySilence({ deviceId: 'd1', state: first.state, now: T0 + 301_000, rules });
    expect(silent.events.map((event) => event.state)).toEqual([ALARM]);

    const back = applyReadings({ deviceId: 'd1', state: silent.state, readings: [reading(T0 + 400_000, 20)], rules });

    expect(back.events.map((event) => [event.previousState, event.state])).toEqual([[ALARM, LATCHED]]);
  });
});

describe('a stored SNOOZED rule state without its end time', () => {
  const rules = parseThresholds({ rules: [{ id: 'hot', metric: 'temperature', when: { above: 80 }, severity: 'critical' }] });
  const snoozedWithoutEnd = { v: 1, newest: { ts: T0, seq: -1 }, rules: [{ rule: 'hot', status: SNOOZED }] };

  it('counts as ended: the next reading is evaluated afresh and the rule leaves SNOOZED', () => {
    const result = applyReadings({ deviceId: 'd1', state: snoozedWithoutEnd, readings: [reading(T0 + 1_000, 20)], rules });

    expect(result.reset).toBe(false);
    expect(result.events.map((event) => [event.previousState, event.state])).toEqual([[SNOOZED, OK]]);
    expect(result.state.rules.find((state) => state.rule === 'hot')?.status ?? OK).toBe(OK);
  });

  it('counts as ended when a command comes: the snooze ends, then the command applies', () => {
    const result = applyCommand({ deviceId: 'd1', state: snoozedWithoutEnd, rules, command: { action: 'disable', ruleId: 'hot' }, by: 'operator-1', at: T0 + 1_000 });

    expect(result).toMatchObject({ outcome: 'accepted', status: DISABLED });
    expect(result.outcome === 'accepted' && result.events.map((event) => [event.previousState, event.state])).toEqual([
      [SNOOZED, OK],
      [OK, DISABLED],
    ]);
  });

  it('is listed as snoozed with no end time', () => {
    expect(describeAlarms('d1', snoozedWithoutEnd, rules)).toMatchObject([{ alarmId: 'd1/hot', state: SNOOZED, snoozedUntil: null }]);
  });

  it('counts as ended at the offline check too', () => {
    const result = applySilence({ deviceId: 'd1', state: snoozedWithoutEnd, now: T0 + 1_000, rules });

    expect(result.events.map((event) => [event.previousState, event.state])).toEqual([[SNOOZED, OK]]);
  });
});

describe('rulesFor', () => {
  const everywhere: ThresholdRule = parseThresholds({ rules: [{ id: 'hot', metric: 'temperature', when: { above: 80 }, severity: 'critical' }] }).rules[0]!;
  const onlyD2: ThresholdRule = parseThresholds({
    rules: [{ id: 'd2-hot', metric: 'temperature', when: { above: 70 }, severity: 'major', match: { deviceId: 'd2' } }],
  }).rules[0]!;

  it('reads a rule set that was not frozen afresh on each call, so a rule added later is seen', () => {
    const list: ThresholdRule[] = [everywhere];
    const rules = { rules: list };
    expect(rulesFor(rules, 'd1').map((rule) => rule.id)).toEqual(['hot']);

    list.push(onlyD2);

    expect(rulesFor(rules, 'd1').map((rule) => rule.id)).toEqual(['hot']);
    expect(rulesFor(rules, 'd2').map((rule) => rule.id)).toEqual(['hot', 'd2-hot']);
  });
});

describe('stored states the current rule file no longer matches exactly', () => {
  const reminding = parseThresholds({
    rules: [{ id: 'hot', metric: 'temperature', when: { above: 80 }, severity: 'critical', remindEvery: { seconds: 60 } }],
  });

  it('wakes for no rule that was removed from the file', () => {
    const state = { v: 1, rules: [{ rule: 'gone', status: SNOOZED, until: T0 + 60_000 }] };

    expect(nextWakeAt(state, reminding)).toBeUndefined();
  });

  it('reminds of an ALARM stored without its raising value with a null value', () => {
    const state = { v: 1, newest: { ts: T0, seq: -1 }, rules: [{ rule: 'hot', status: ALARM, since: T0 }] };

    const result = applySilence({ deviceId: 'd1', state, now: T0 + 61_000, rules: reminding });

    expect(result.events).toMatchObject([{ state: ALARM, previousState: ALARM, reminder: true, value: null, ts: T0 + 60_000 }]);
  });
});
