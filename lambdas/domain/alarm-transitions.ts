/**
 * The building blocks every alarm step shares: a rule's state after a raise, a clear or a snooze's
 * end, the event of one transition, and which rules apply to a device.
 */
import type { AlarmEvent, AlarmStatus } from './model.js';
import { ALARM_STATES } from './model.js';
import type { RuleState } from './alarm-state.js';
import type { MetricSilenceRule, SilenceRule, ThresholdRule, ThresholdRules } from './thresholds.js';
import { comparisonBound } from './thresholds.js';

const { OK, ALARM, SNOOZED } = ALARM_STATES;

/**
 * The one event of a snooze that ended: SNOOZED -> whatever the fresh evaluation decided (its event,
 * relabelled), or SNOOZED -> OK at the snooze's end when it decided nothing.
 */
export function endSnooze(rule: ThresholdRule, snoozed: RuleState, deviceId: string, decided: readonly AlarmEvent[]): AlarmEvent[] {
  const [first, ...rest] = decided;
  if (first !== undefined) return [{ ...first, previousState: SNOOZED }, ...rest];
  return [transition(deviceId, rule, { from: SNOOZED, to: OK, value: null, threshold: raiseThreshold(rule), ts: snoozed.until ?? 0 })];
}

/** The rule back at OK, keeping only the memory of the last command (and the metric's last sighting). */
export function afresh(state: RuleState): RuleState {
  return { rule: state.rule, status: OK, ...carried(state), ...(state.cmd === undefined ? {} : { cmd: state.cmd }) };
}

/**
 * What a rule's state keeps through every transition and command: when its metric was last seen
 * (metricSilentFor). It is a fact about the device, not about the alarm: dropping it on a snooze or a
 * raise would leave a metric that stays silent never raised again.
 */
export function carried(state: RuleState | undefined): { readonly seen?: number } {
  return state?.seen === undefined ? {} : { seen: state.seen };
}

/** The rule in ALARM since `ts`; `threshold` only when it is not the rule's own number (a metric threshold). */
export function raised(previous: RuleState | undefined, ruleId: string, ts: number, value: number | null, threshold?: number): RuleState {
  return {
    rule: ruleId,
    status: ALARM,
    since: ts,
    value,
    ...(threshold === undefined ? {} : { threshold }),
    ...carried(previous),
    ...(previous?.cmd === undefined ? {} : { cmd: previous.cmd }),
  };
}

export function settled(previous: RuleState, to: AlarmStatus): RuleState {
  return { rule: previous.rule, status: to, ...carried(previous), ...(previous.cmd === undefined ? {} : { cmd: previous.cmd }) };
}

export function withoutRun(state: RuleState): RuleState {
  const { run: _run, ...rest } = state;
  return rest;
}

/**
 * The threshold an event names when no reading was compared (a command, a reminder, a snooze's end):
 * the rule's number, or for a metric threshold the other metric's value at the raise if the rule's
 * state remembers it, else null.
 */
export function raiseThreshold(rule: ThresholdRule, state?: RuleState): number | null {
  switch (rule.kind) {
    case 'silentFor':
    case 'metricSilentFor':
      return silenceSeconds(rule);
    case 'unchangedFor':
      return rule.when.unchangedFor.seconds;
    case 'risesBy':
      return rule.when.risesBy.amount;
    case 'fallsBy':
      return rule.when.fallsBy.amount;
    default: {
      const bound = comparisonBound(rule);
      return typeof bound === 'number' ? bound : (state?.threshold ?? null);
    }
  }
}

/** The window of a silence rule (the device's, or one metric's), in its configured seconds. */
export function silenceSeconds(rule: SilenceRule | MetricSilenceRule): number {
  return rule.kind === 'silentFor' ? rule.when.silentFor.seconds : rule.when.metricSilentFor.seconds;
}

/** The window of a silence rule, ms. */
export function silenceWindowMs(rule: SilenceRule | MetricSilenceRule): number {
  return secondsToMs(silenceSeconds(rule));
}

/** The deterministic event time of a silence raise: the last sighting, plus the window, plus the bound by which it may trail. */
export function silenceRaiseTs(rule: SilenceRule | MetricSilenceRule, lastSeen: number, lagMs: number): number {
  return lastSeen + silenceWindowMs(rule) + lagMs;
}

export function transition(
  deviceId: string,
  rule: ThresholdRule,
  change: { from: AlarmStatus; to: AlarmStatus; value: number | null; threshold: number | null; ts: number },
): AlarmEvent {
  return {
    alarmId: `${deviceId}/${rule.id}`,
    deviceId,
    ruleId: rule.id,
    metric: rule.kind === 'silentFor' ? null : rule.metric,
    state: change.to,
    previousState: change.from,
    severity: rule.severity,
    value: change.value,
    threshold: change.threshold,
    ts: change.ts,
    action: null,
    by: null,
    note: null,
  };
}

/** Rule sets without any `match.deviceId`: every device gets the whole list (no filtering per call). */
const forEveryDevice = new WeakMap<ThresholdRules, boolean>();

export function rulesFor(rules: ThresholdRules, deviceId: string): readonly ThresholdRule[] {
  let unscoped = forEveryDevice.get(rules);
  if (unscoped === undefined) {
    unscoped = rules.rules.every((rule) => rule.match?.deviceId === undefined);
    // Only a frozen rule set (parseThresholds freezes it) cannot change after it was looked at.
    if (Object.isFrozen(rules) && Object.isFrozen(rules.rules)) forEveryDevice.set(rules, unscoped);
  }
  if (unscoped) return rules.rules;
  return rules.rules.filter((rule) => rule.match?.deviceId === undefined || rule.match.deviceId === deviceId);
}

export function secondsToMs(seconds: number): number {
  return Math.ceil(seconds * 1000);
}
