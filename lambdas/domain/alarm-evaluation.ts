/**
 * Threshold evaluation: a device's readings applied in event-time order to its stored alarm state
 * (the semantics are listed in alarm-engine.ts).
 */
import type { AlarmEvent, Reading } from './model.js';
import { ALARM_STATES } from './model.js';
import type { DeviceAlarmState, RuleState } from './alarm-state.js';
import { buildState, readState, setRuleState, statesOf } from './alarm-state.js';
import { clearing, compareReading, metricOf, slideWindow } from './alarm-conditions.js';
import { lastSeenWriteBoundMs } from './alarm-silence.js';
import { afresh, endSnooze, raised, rulesFor, secondsToMs, settled, silenceWindowMs, transition, withoutRun } from './alarm-transitions.js';
import type { ChangeRule, MetricRule, MetricSilenceRule, SilenceRule, ThresholdRule, ThresholdRules, UnchangedRule } from './thresholds.js';
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
  let boundMs: number | undefined;
  const step: StepContext = { deviceId, events, seenBoundMs: () => (boundMs ??= lastSeenWriteBoundMs(rules)) };

  for (const reading of sortByEventTime(input.readings)) {
    const seq = reading.seq ?? -1;
    if (newest !== undefined && (reading.ts < newest.ts || (reading.ts === newest.ts && seq <= newest.seq))) continue;
    applied += 1;
    newest = { ts: reading.ts, seq };
    if (reading.type !== undefined) type = reading.type;
    for (const rule of deviceRules) setRuleState(ruleStates, rule.id, applyToRule(rule, ruleStates.get(rule.id), reading, step));
  }

  return {
    state: buildState(newest, type, deviceRules, ruleStates),
    events,
    applied,
    lastSeen: newest?.ts,
    reset,
  };
}

interface StepContext {
  readonly deviceId: string;
  readonly events: AlarmEvent[];
  /** The bound by which a metric's stored sighting may trail (computed once, when a rule needs it). */
  readonly seenBoundMs: () => number;
}

/** One reading's effect on one rule, through the lifecycle: DISABLED and a snooze not yet over evaluate nothing. */
function applyToRule(rule: ThresholdRule, before: RuleState | undefined, reading: Reading, step: StepContext): RuleState | undefined {
  if (before?.status === DISABLED || (before?.status === SNOOZED && reading.ts < (before.until ?? 0))) {
    // Nothing is evaluated, but a metric's last sighting is a fact about the device, kept for after.
    return rule.kind === 'metricSilentFor' && carriesMetric(rule, reading) ? sighted(rule, before, reading.ts, step.seenBoundMs()) : before;
  }
  // The snooze's end, if this reading comes after it: the rule starts afresh from OK.
  const endedSnooze = before?.status === SNOOZED ? before : undefined;
  const previous = endedSnooze === undefined ? before : afresh(endedSnooze);
  const stepEvents: AlarmEvent[] = [];
  const next = stepRule(rule, previous, reading, { ...step, events: stepEvents });
  if (endedSnooze !== undefined) step.events.push(...endSnooze(rule, endedSnooze, step.deviceId, stepEvents));
  else step.events.push(...stepEvents);
  return next;
}

/** The condition's own step, for a reading the rule applies to (its type, its metrics). */
function stepRule(rule: ThresholdRule, previous: RuleState | undefined, reading: Reading, step: StepContext): RuleState | undefined {
  if (rule.kind === 'silentFor') return stepSilenceRule(rule, previous, reading.ts, step);
  const value = carriesMetric(rule, reading) ? metricOf(reading.metrics, rule.metric) : undefined;
  if (value === undefined) return previous;
  switch (rule.kind) {
    case 'risesBy':
    case 'fallsBy':
      return stepChangeRule(rule, previous, reading.ts, value, step);
    case 'unchangedFor':
      return stepUnchangedRule(rule, previous, reading.ts, value, step);
    case 'metricSilentFor':
      return stepMetricSilenceRule(rule, previous, reading.ts, step);
    default: {
      const comparison = compareReading(rule, value, reading.metrics);
      if (comparison === undefined) return previous;
      const { cleared, threshold: clearThreshold } = clearing(rule, comparison);
      // A threshold read from another metric is remembered with the raise, so a reminder or a command names it.
      const remember = typeof comparisonBound(rule) === 'number' ? undefined : comparison.threshold;
      return stepJudged(rule, previous, reading.ts, { ...comparison, cleared, clearThreshold, remember }, step);
    }
  }
}

/** What one reading decided for a rule that raises on a breach (debounced) and clears on `cleared`. */
interface Judgement {
  readonly breach: boolean;
  readonly cleared: boolean;
  /** The event's value and threshold on a raise, and its threshold on a clear. */
  readonly value: number | null;
  readonly threshold: number;
  readonly clearThreshold: number;
  /** Kept in the raised state as `threshold` (a threshold that is not the rule's own number). */
  readonly remember?: number | undefined;
}

/** A judged reading applied to the rule's state: clear, debounce run, raise. Undefined: resting OK. */
function stepJudged(rule: ThresholdRule, previous: RuleState | undefined, ts: number, judged: Judgement, step: StepContext): RuleState | undefined {
  if (previous !== undefined && (previous.status === ALARM || previous.status === ACKNOWLEDGED)) {
    if (!judged.cleared) return previous;
    return clearTo(rule, previous, ts, { value: judged.value, threshold: judged.clearThreshold }, step);
  }
  const status = previous?.status ?? OK;
  // OK or LATCHED: a breach (debounced) raises.
  if (!judged.breach) return previous?.run === undefined ? previous : withoutRun(previous);
  const run = previous?.run === undefined ? { count: 1, since: ts } : { count: previous.run.count + 1, since: previous.run.since };
  const debounce = 'for' in rule ? rule.for : undefined;
  const due =
    debounce === undefined ||
    ('samples' in debounce ? run.count >= debounce.samples : ts - run.since >= secondsToMs(debounce.seconds));
  if (!due) return { ...(previous ?? { rule: rule.id, status: OK }), run };
  step.events.push(transition(step.deviceId, rule, { from: status, to: ALARM, value: judged.value, threshold: judged.threshold, ts }));
  return raised(previous, rule.id, ts, judged.value, judged.remember);
}

/** ALARM or ACKNOWLEDGED cleared by a reading: to OK, or LATCHED for an unacknowledged latch rule. */
function clearTo(rule: ThresholdRule, previous: RuleState, ts: number, shown: { value: number | null; threshold: number }, step: StepContext): RuleState {
  const to = previous.status === ALARM && rule.latch === true ? LATCHED : OK;
  step.events.push(transition(step.deviceId, rule, { from: previous.status, to, ...shown, ts }));
  return settled(previous, to);
}

/** risesBy / fallsBy: the change against the window's extreme is judged, and the window slides on. */
function stepChangeRule(rule: ChangeRule, previous: RuleState | undefined, ts: number, value: number, step: StepContext): RuleState {
  const { amount } = rule.kind === 'risesBy' ? rule.when.risesBy : rule.when.fallsBy;
  const { change, window } = slideWindow(rule, previous?.window, ts, value);
  const breach = change !== undefined && change >= amount;
  const judged = { breach, cleared: !breach, value: change ?? null, threshold: amount, clearThreshold: amount };
  return { ...(stepJudged(rule, previous, ts, judged, step) ?? { rule: rule.id, status: OK }), window };
}

/** unchangedFor: the same value held for the window raises; the first other value clears and starts a new hold. */
function stepUnchangedRule(rule: UnchangedRule, previous: RuleState | undefined, ts: number, value: number, step: StepContext): RuleState | undefined {
  const { seconds } = rule.when.unchangedFor;
  const held = previous?.held;
  const status = previous?.status ?? OK;
  if (held === undefined || held.value !== value) {
    const cleared = previous !== undefined && (status === ALARM || status === ACKNOWLEDGED) ? clearTo(rule, previous, ts, { value: null, threshold: seconds }, step) : previous;
    return { ...(cleared ?? { rule: rule.id, status: OK }), held: { value, since: ts } };
  }
  if (status === ALARM || status === ACKNOWLEDGED || ts - held.since < secondsToMs(seconds)) return previous;
  const heldSeconds = (ts - held.since) / 1000;
  step.events.push(transition(step.deviceId, rule, { from: status, to: ALARM, value: heldSeconds, threshold: seconds, ts }));
  return { ...raised(previous, rule.id, ts, heldSeconds), held };
}

/** metricSilentFor: a reading carrying the metric clears a silence that began before it, and is a sighting. */
function stepMetricSilenceRule(rule: MetricSilenceRule, previous: RuleState | undefined, ts: number, step: StepContext): RuleState | undefined {
  if (previous?.status === ALARM || previous?.status === ACKNOWLEDGED) {
    // A reading from before the silence began (a replay, or a sighting whose write was skipped) clears nothing.
    if (previous.since !== undefined && ts <= previous.since - silenceWindowMs(rule)) return previous;
    const threshold = rule.when.metricSilentFor.seconds;
    return { ...clearTo(rule, previous, ts, { value: null, threshold }, step), seen: ts };
  }
  return sighted(rule, previous, ts, step.seenBoundMs());
}

/**
 * A reading that carries the rule's metric moves its stored sighting only when it is more than the
 * bound newer: the sighting then changes (and is written) at most once per bound, not on every reading.
 */
function sighted(rule: MetricSilenceRule, state: RuleState | undefined, ts: number, boundMs: number): RuleState | undefined {
  if (state?.seen !== undefined && ts - state.seen <= boundMs) return state;
  return { ...(state ?? { rule: rule.id, status: OK }), seen: ts };
}

/** The reading is of the rule's device type (if it names one) and carries its metric. */
function carriesMetric(rule: MetricRule, reading: Reading): boolean {
  if (rule.match?.type !== undefined && rule.match.type !== reading.type) return false;
  return metricOf(reading.metrics, rule.metric) !== undefined;
}

/** A reading's effect on a silentFor rule: it clears a silence that began before it. */
function stepSilenceRule(rule: SilenceRule, previous: RuleState | undefined, ts: number, step: StepContext): RuleState | undefined {
  if (previous?.status !== ALARM && previous?.status !== ACKNOWLEDGED) return previous;
  // A reading from before the silence began (a replay, or a reading whose lastSeen was not yet written) clears nothing.
  if (previous.since !== undefined && ts <= previous.since - silenceWindowMs(rule)) return previous;
  return clearTo(rule, previous, ts, { value: null, threshold: rule.when.silentFor.seconds }, step);
}

function sortByEventTime(readings: readonly Reading[]): readonly Reading[] {
  if (readings.length < 2) return readings;
  // Array.prototype.sort is stable (ES2019), so equal keys keep stream order.
  return [...readings].sort((a, b) => a.ts - b.ts || (a.seq ?? -1) - (b.seq ?? -1));
}
