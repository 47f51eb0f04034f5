/**
 * Silence and reminders: the scheduled check of one device at wall-clock time (snooze ends, silentFor
 * raises, due reminders), when a device next needs that check, and how far the stored lastSeen may
 * trail the newest reading.
 */
import type { AlarmEvent } from './model.js';
import { ALARM_STATES } from './model.js';
import type { DeviceAlarmState, RuleState } from './alarm-state.js';
import { buildState, readState, setRuleState, statesOf } from './alarm-state.js';
import { afresh, endSnooze, raised, raiseThreshold, rulesFor, secondsToMs, silenceRaiseTs, silenceSeconds, silenceWindowMs, transition } from './alarm-transitions.js';
import type { MetricSilenceRule, SilenceRule, ThresholdRule, ThresholdRules } from './thresholds.js';

export interface ApplySilenceInput {
  readonly deviceId: string;
  readonly state: unknown;
  /** Wall-clock time of the check, epoch ms. */
  readonly now: number;
  readonly rules: ThresholdRules;
  /** How far the stored lastSeen may trail the newest reading applied, ms. @default 0 */
  readonly lastSeenLagMs?: number;
}

export interface ApplySilenceResult {
  readonly state: DeviceAlarmState;
  readonly events: AlarmEvent[];
  readonly reset: boolean;
}

const { OK, ALARM, LATCHED, SNOOZED } = ALARM_STATES;
/** The floor of the lastSeen write bound (issue 11: "at least 60 s"). */
const MIN_LAST_SEEN_BOUND_MS = 60_000;

/**
 * The scheduled check of one device at `now`: ends snoozes that are over, raises the silentFor rules of
 * a device silent for long enough and the metricSilentFor rules of a metric unseen for long enough, and
 * publishes the reminders that are due. Emits nothing for a silence of a device (or metric) never seen,
 * or one already raised.
 */
export function applySilence(input: ApplySilenceInput): ApplySilenceResult {
  const { deviceId, now, rules } = input;
  const { state: stored, reset } = readState(input.state);
  const deviceRules = rulesFor(rules, deviceId);
  const ruleStates = statesOf(stored, deviceRules);
  const events: AlarmEvent[] = [];
  const check: Check = { deviceId, now, lagMs: input.lastSeenLagMs ?? 0, state: stored };

  for (const rule of deviceRules) {
    let current = ruleStates.get(rule.id);
    let endedSnooze: RuleState | undefined;
    if (current?.status === SNOOZED) {
      if (now < (current.until ?? 0)) continue;
      endedSnooze = current;
      current = afresh(current);
    }
    const raise = raiseSilence(rule, current, check, endedSnooze?.until);
    if (raise !== undefined) current = raise.state;
    if (endedSnooze !== undefined) {
      events.push(...endSnooze(rule, endedSnooze, deviceId, raise === undefined ? [] : [raise.event]));
    } else if (raise !== undefined) {
      events.push(raise.event);
    } else {
      const reminder = dueReminder(rule, current, check);
      if (reminder !== undefined) {
        events.push(reminder.event);
        current = reminder.state;
      }
    }
    setRuleState(ruleStates, rule.id, current);
  }
  return { state: buildState(stored.newest, stored.type, deviceRules, ruleStates), events, reset };
}

interface Check {
  readonly deviceId: string;
  readonly now: number;
  readonly lagMs: number;
  readonly state: DeviceAlarmState;
}

/** The last sighting a silence rule counts from: the device's newest reading, or the metric's stored sighting. */
function lastSighting(rule: SilenceRule | MetricSilenceRule, current: RuleState | undefined, state: DeviceAlarmState): number | undefined {
  return rule.kind === 'silentFor' ? state.newest?.ts : current?.seen;
}

/** A silence rule at rest (OK, LATCHED) whose device or metric has been unseen for its window plus the lag: the raise. */
function raiseSilence(rule: ThresholdRule, current: RuleState | undefined, check: Check, snoozeEnd: number | undefined): { state: RuleState; event: AlarmEvent } | undefined {
  if (rule.kind !== 'silentFor' && rule.kind !== 'metricSilentFor') return undefined;
  if (current !== undefined && current.status !== OK && current.status !== LATCHED) return undefined;
  if (rule.match?.type !== undefined && rule.match.type !== check.state.type) return undefined;
  const lastSeen = lastSighting(rule, current, check.state);
  if (lastSeen === undefined) return undefined;
  const silentSince = silenceRaiseTs(rule, lastSeen, check.lagMs);
  if (check.now < silentSince) return undefined;
  const ts = Math.max(silentSince, snoozeEnd ?? silentSince);
  const value = Math.floor((check.now - lastSeen) / 1000);
  const event = transition(check.deviceId, rule, { from: current?.status ?? OK, to: ALARM, value, threshold: silenceSeconds(rule), ts });
  let state = raised(current, rule.id, ts, value);
  // A late raise stands for the reminders already due: only boundaries after now remind.
  const covered = rule.remindEvery === undefined ? 0 : Math.floor((check.now - ts) / secondsToMs(rule.remindEvery.seconds));
  if (covered > 0) state = { ...state, reminded: covered };
  return { state, event };
}

/** The reminder of an unacknowledged ALARM whose interval has come and was not yet sent. */
function dueReminder(rule: ThresholdRule, current: RuleState | undefined, check: Check): { state: RuleState; event: AlarmEvent } | undefined {
  if (current?.status !== ALARM || rule.remindEvery === undefined || current.since === undefined) return undefined;
  const everyMs = secondsToMs(rule.remindEvery.seconds);
  const interval = Math.floor((check.now - current.since) / everyMs);
  if (interval < 1 || interval <= (current.reminded ?? 0)) return undefined;
  const event: AlarmEvent = {
    ...transition(check.deviceId, rule, {
      from: ALARM,
      to: ALARM,
      value: current.value ?? null,
      threshold: raiseThreshold(rule, current),
      ts: current.since + interval * everyMs,
    }),
    action: 'reminder',
    reminder: true,
  };
  return { state: { ...current, reminded: interval }, event };
}

/**
 * When a device's alarms next need the scheduled check without any reading: the earliest snooze end,
 * due reminder or metric silence (a metricSilentFor rule at rest whose metric stays unseen), epoch ms;
 * undefined when nothing is pending.
 */
export function nextWakeAt(state: unknown, rules: ThresholdRules): number | undefined {
  const { state: stored } = readState(state);
  if (stored.rules.length === 0) return undefined;
  const byId = new Map(rules.rules.map((rule) => [rule.id, rule]));
  let earliest: number | undefined;
  let boundMs: number | undefined;
  const consider = (at: number): void => {
    if (earliest === undefined || at < earliest) earliest = at;
  };
  for (const ruleState of stored.rules) {
    const rule = byId.get(ruleState.rule);
    if (rule === undefined) continue;
    if (ruleState.status === SNOOZED && ruleState.until !== undefined) consider(ruleState.until);
    if (ruleState.status === ALARM && rule.remindEvery !== undefined && ruleState.since !== undefined) {
      consider(ruleState.since + ((ruleState.reminded ?? 0) + 1) * secondsToMs(rule.remindEvery.seconds));
    }
    if (rule.kind === 'metricSilentFor' && ruleState.seen !== undefined && (ruleState.status === OK || ruleState.status === LATCHED)) {
      boundMs ??= lastSeenWriteBoundMs(rules);
      consider(silenceRaiseTs(rule, ruleState.seen, boundMs));
    }
  }
  return earliest;
}

/**
 * B, how far the stored lastSeen (and a metric's stored sighting) may trail the newest reading before
 * it must be written: half of the shortest silentFor or metricSilentFor window, at least 60 s (half,
 * not less: at one reading a minute and the default 300 s window that is one write per three readings
 * instead of two, a third of the table's writes). The offline check adds it to every window, so a
 * skipped write can delay a silence alarm by up to B but never raise one falsely.
 */
export function lastSeenWriteBoundMs(rules: ThresholdRules): number {
  const floor = rules.lastSeenBoundFloorMs ?? MIN_LAST_SEEN_BOUND_MS;
  const shortest = shortestQuietMs(rules);
  return shortest === undefined ? floor : Math.max(floor, Math.floor(shortest / 2));
}

/** The shortest silentFor window of a rule set in ms, or undefined when it has none (the offline check's silent candidates). */
export function shortestSilenceMs(rules: ThresholdRules): number | undefined {
  return shortestWindowMs(rules, 'silentFor');
}

/** The shortest silentFor or metricSilentFor window in ms (what the lastSeen write bound is half of), or undefined. */
export function shortestQuietMs(rules: ThresholdRules): number | undefined {
  return shortestWindowMs(rules, 'silentFor', 'metricSilentFor');
}

function shortestWindowMs(rules: ThresholdRules, ...kinds: readonly ('silentFor' | 'metricSilentFor')[]): number | undefined {
  let shortest: number | undefined;
  for (const rule of rules.rules) {
    if ((rule.kind !== 'silentFor' && rule.kind !== 'metricSilentFor') || !kinds.includes(rule.kind)) continue;
    const windowMs = silenceWindowMs(rule);
    if (shortest === undefined || windowMs < shortest) shortest = windowMs;
  }
  return shortest;
}
