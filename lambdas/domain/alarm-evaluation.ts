/**
 * Threshold evaluation: a device's readings applied in event-time order to its stored alarm state
 * (the semantics are listed in alarm-engine.ts).
 */
import type { AlarmEvent, Reading } from './model.js';
import { ALARM_STATES } from './model.js';
import type { DeviceAlarmState, RuleState } from './alarm-state.js';
import { buildState, readState, setRuleState, statesOf } from './alarm-state.js';
import type { Comparison } from './alarm-conditions.js';
import { clearing, compareReading } from './alarm-conditions.js';
import { afresh, endSnooze, raised, rulesFor, secondsToMs, settled, transition, withoutRun } from './alarm-transitions.js';
import type { ComparisonRule, SilenceRule, ThresholdRules } from './thresholds.js';
import { comparisonBound } from './thresholds.js';

export interface ApplyReadingsInput {
  readonly deviceId: string;
  /** The stored `DeviceAlarmRecord.state`, or undefined for a device never seen. */
  readonly state: unknown;
  /** Readings of this device only, in any order. */
  readonly readings: readonly Reading[];
  readonly rules: ThresholdRules;
}

export interface ApplyReadingsResult {
  readonly state: DeviceAlarmState;
  readonly events: AlarmEvent[];
  /** How many readings were newer than the state and applied (0 for a replay). */
  readonly applied: number;
  /** Event time of the newest reading ever applied, epoch ms. */
  readonly lastSeen: number | undefined;
  /** The stored state was unreadable and was replaced by an empty one. */
  readonly reset: boolean;
}

const { OK, ALARM, ACKNOWLEDGED, LATCHED, SNOOZED, DISABLED } = ALARM_STATES;

/**
 * Applies a device's readings to its stored state; returns the new state and the transitions.
 * @example
 * const { state, events } = applyReadings({ deviceId: 'd1', state: record?.state, readings, rules });
 */
export function applyReadings(input: ApplyReadingsInput): ApplyReadingsResult {
  const { deviceId, rules } = input;
  const { state: stored, reset } = readState(input.state);
  const deviceRules = rulesFor(rules, deviceId);
  const ruleStates = statesOf(stored, deviceRules);
  const events: AlarmEvent[] = [];
  let newest = stored.newest;
  let type = stored.type;
  let applied = 0;

  for (const reading of sortByEventTime(input.readings)) {
    const seq = reading.seq ?? -1;
    if (newest !== undefined && (reading.ts < newest.ts || (reading.ts === newest.ts && seq <= newest.seq))) continue;
    applied += 1;
    newest = { ts: reading.ts, seq };
    if (reading.type !== undefined) type = reading.type;
    for (const rule of deviceRules) {
      const before = ruleStates.get(rule.id);
      if (before?.status === DISABLED) continue;
      let previous = before;
      // The snooze's end, if this reading comes after it: the rule starts afresh from OK.
      let endedSnooze: RuleState | undefined;
      if (previous?.status === SNOOZED) {
        if (reading.ts < (previous.until ?? 0)) continue;
        endedSnooze = previous;
        previous = afresh(previous);
      }
      let next: RuleState | undefined;
      const stepEvents: AlarmEvent[] = [];
      if (rule.kind === 'silentFor') {
        next = stepSilenceRule(rule, previous, reading.ts, deviceId, stepEvents);
      } else {
        const comparison = rule.match?.type === undefined || rule.match.type === reading.type ? compareReading(rule, reading.metrics) : undefined;
        next = comparison === undefined ? previous : stepComparisonRule(rule, previous, reading.ts, comparison, deviceId, stepEvents);
      }
      if (endedSnooze !== undefined) events.push(...endSnooze(rule, endedSnooze, deviceId, stepEvents));
      else events.push(...stepEvents);
      setRuleState(ruleStates, rule.id, next);
    }
  }

  return {
    state: buildState(newest, type, deviceRules, ruleStates),
    events,
    applied,
    lastSeen: newest?.ts,
    reset,
  };
}

/** A reading's effect on a silentFor rule: it clears a silence that began before it. */
function stepSilenceRule(rule: SilenceRule, previous: RuleState | undefined, ts: number, deviceId: string, events: AlarmEvent[]): RuleState | undefined {
  if (previous?.status !== ALARM && previous?.status !== ACKNOWLEDGED) return previous;
  // A reading from before the silence began (a replay, or a reading whose lastSeen was not yet written) clears nothing.
  const windowMs = secondsToMs(rule.when.silentFor.seconds);
  if (previous.since !== undefined && ts <= previous.since - windowMs) return previous;
  const to = previous.status === ALARM && rule.latch === true ? LATCHED : OK;
  events.push(transition(deviceId, rule, { from: previous.status, to, value: null, threshold: rule.when.silentFor.seconds, ts }));
  return settled(previous, to);
}

/** One reading's comparison applied to a comparison rule; the rule's next state (undefined: resting OK). */
function stepComparisonRule(
  rule: ComparisonRule,
  previous: RuleState | undefined,
  ts: number,
  comparison: Comparison,
  deviceId: string,
  events: AlarmEvent[],
): RuleState | undefined {
  const { breach, value } = comparison;
  const status = previous?.status ?? OK;
  if (status === ALARM || status === ACKNOWLEDGED) {
    const { cleared, threshold } = clearing(rule, comparison);
    if (!cleared) return previous;
    const to = status === ALARM && rule.latch === true ? LATCHED : OK;
    events.push(transition(deviceId, rule, { from: status, to, value, threshold, ts }));
    return settled(previous ?? { rule: rule.id, status }, to);
  }
  // OK or LATCHED: a breach (debounced) raises.
  if (!breach) return previous?.run === undefined ? previous : withoutRun(previous);
  const run = previous?.run === undefined ? { count: 1, since: ts } : { count: previous.run.count + 1, since: previous.run.since };
  const debounce = rule.for;
  const due =
    debounce === undefined ||
    ('samples' in debounce ? run.count >= debounce.samples : ts - run.since >= secondsToMs(debounce.seconds));
  if (!due) return { ...(previous ?? { rule: rule.id, status: OK }), run };
  const { threshold } = comparison;
  events.push(transition(deviceId, rule, { from: status, to: ALARM, value, threshold, ts }));
  // A threshold read from another metric is remembered, so a reminder or a command names it.
  const fixed = typeof comparisonBound(rule) === 'number';
  return raised(previous, rule.id, ts, value, fixed ? undefined : threshold);
}

function sortByEventTime(readings: readonly Reading[]): readonly Reading[] {
  if (readings.length < 2) return readings;
  // Array.prototype.sort is stable (ES2019), so equal keys keep stream order.
  return [...readings].sort((a, b) => a.ts - b.ts || (a.seq ?? -1) - (b.seq ?? -1));
}
