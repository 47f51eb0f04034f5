import { describe, expect, it } from 'vitest';
import { alarmStateChanged, readState } from '../../../lambdas/domain/alarm-state.js';
import type { DeviceAlarmState } from '../../../lambdas/domain/alarm-state.js';
import { ALARM_STATES } from '../../../lambdas/domain/model.js';

const { OK, ALARM } = ALARM_STATES;
const stored = (rule: Record<string, unknown>): unknown => ({ v: 1, rules: [{ rule: 'hot', status: OK, ...rule }] });
const current = (rule: Record<string, unknown>): DeviceAlarmState => ({ v: 1, rules: [{ rule: 'hot', status: OK, ...rule }] }) as DeviceAlarmState;

describe('readState: a stored rule state this version cannot read starts afresh', () => {
  it.each([
    ['a run whose count is not whole', { run: { count: 1.5, since: 0 } }],
    ['a run that is not an object', { run: 3 }],
    ['a since that is not a finite number', { status: ALARM, since: 'yesterday' }],
    ['an until that is not a finite number', { until: Number.NaN }],
    ['a reminder count that is not whole', { status: ALARM, since: 10, reminded: 1.5 }],
  ])('%s', (_name, rule) => {
    expect(readState(stored(rule))).toEqual({ state: { v: 1, rules: [] }, reset: true });
  });

  it('keeps a stored state whose every rule state is readable', () => {
    const state = stored({ status: ALARM, since: 10, run: { count: 2, since: 5 }, reminded: 1 });

    expect(readState(state)).toEqual({ state, reset: false });
  });
});

describe('alarmStateChanged compares stored rule states by value', () => {
  it('counts a field the stored state has and the new one lacks as a change', () => {
    expect(alarmStateChanged(stored({ note: 'window open' }), current({}))).toBe(true);
  });

  it('counts a field that turned from a list into an object as a change, even with the same entries', () => {
    expect(alarmStateChanged(stored({ extra: ['x'] }), current({ extra: { 0: 'x' } }))).toBe(true);
  });

  it('sees no change when only the order of keys differs', () => {
    expect(alarmStateChanged(stored({ since: 1, by: 'op' }), current({ by: 'op', since: 1 }))).toBe(false);
  });
});
