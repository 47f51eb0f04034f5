/**
 * Silence and reminders: the scheduled check of one device at wall-clock time (snooze ends, silentFor
 * raises, due reminders), when a device next needs that check, and how far the stored lastSeen may
 * trail the newest reading.
 */
import type { AlarmEvent } from './model.js';
import { ALARM_STATES } from './model.js';
import type { DeviceAlarmState, RuleState } from './alarm-state.js';
import { buildState, readState, setRuleState, statesOf } from './alarm-state.js';
import { afresh, endSnooze, raised, raiseThreshold, rulesFor, secondsToMs, silenceRaiseTs, transition } from './alarm-transitions.js';
import type { ThresholdRules } from './thresholds.js';

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
 * a device silent for long enough, and publishes the reminders that are due. Emits nothing for a
 * silence of a device never seen, or one already raised.
 */
export function applySilence(input: ApplySilenceInput): ApplySilenceResult {
  const { deviceId, now, rules } = input;
  const lagMs = input.lastSeenLagMs ?? 0;
  const { state: stored, reset } = readState(input.state);
  const deviceRules = rulesFor(rules, deviceId);
  const ruleStates = statesOf(stored, deviceRules);
  const events: AlarmEvent[] = [];
  const lastSeen = stored.newest?.ts;

  for (const rule of deviceRules) {
    let current = ruleStates.get(rule.id);
    let endedSnooze: RuleState | undefined;
    if (current?.status === SNOOZED) {
      if (now < (current.until ?? 0)) continue;
      endedSnooze = current;
      current = afresh(current);
    }
    const ruleEvents: AlarmEvent[] = [];
    if (rule.kind === 'silentFor' && lastSeen !== undefined && (current === undefined || current.status === OK || current.status === LATCHED)) {
      const silentSince = silenceRaiseTs(rule, lastSeen, lagMs);
      if (rule.match?.type === undefined || rule.match.type === stored.type) {
        if (now >= silentSince) {
          const ts = Math.max(silentSince, endedSnooze?.until ?? silentSince);
          const value = Math.floor((now - lastSeen) / 1000);
          ruleEvents.push(transition(deviceId, rule, { from: current?.status ?? OK, to: ALARM, value, threshold: rule.when.silentFor.seconds, ts }));
          current = raised(current, rule.id, ts, value);
          // A late raise stands for the reminders already due: only boundaries after now remind.
          const covered = rule.remindEvery === undefined ? 0 : Math.floor((now - ts) / secondsToMs(rule.remindEvery.seconds));
          if (covered > 0) current = { ...current, reminded: covered };
        }
      }
    }
    if (endedSnooze !== undefined) {
      events.push(...endSnooze(rule, endedSnooze, deviceId, ruleEvents));
      setRuleState(ruleStates, rule.id, current);
      continue;
    }
    events.push(...ruleEvents);
    if (current?.status === ALARM && rule.remindEvery !== undefined && current.since !== undefined && ruleEvents.length === 0) {
      const everyMs = secondsToMs(rule.remindEvery.seconds);
      const interval = Math.floor((now - current.since) / everyMs);
      if (interval >= 1 && interval > (current.reminded ?? 0)) {
        events.push({
          ...transition(deviceId, rule, {
            from: ALARM,
            to: ALARM,
            value: current.value ?? null,
            threshold: raiseThreshold(rule, current),
            ts: current.since + interval * everyMs,
          }),
          action: 'reminder',
          reminder: true,
        });
        current = { ...current, reminded: interval };
      }
    }
    setRuleState(ruleStates, rule.id, current);
  }
  return { state: buildState(stored.newest, stored.type, deviceRules, ruleStates), events, reset };
}

/**
 * When a device's alarms next need the scheduled check without any reading: the earliest snooze end
 * or due reminder, epoch ms; undefined when nothing is pending.
 */
export function nextWakeAt(state: unknown, rules: ThresholdRules): number | undefined {
  const { state: stored } = readState(state);
  if (stored.rules.length === 0) return undefined;
  const byId = new Map(rules.rules.map((rule) => [rule.id, rule]));
  let earliest: number | undefined;
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
  }
  return earliest;
}

/**
 * B, how far the stored lastSeen may trail the newest reading before it must be written: half of the
 * shortest silentFor window, at least 60 s (half, not less: at one reading a minute and the default
 * 300 s window that is one write per three readings instead of two, a third of the table's writes). The offline check adds it to every window, so a
 * skipped write can delay a silence alarm by up to B but never raise one falsely.
 */
export function lastSeenWriteBoundMs(rules: ThresholdRules): number {
  const shortest = shortestSilenceMs(rules);
  return shortest === undefined ? MIN_LAST_SEEN_BOUND_MS : Math.max(MIN_LAST_SEEN_BOUND_MS, Math.floor(shortest / 2));
}

/** The shortest silentFor window of a rule set in ms, or undefined when it has none. */
export function shortestSilenceMs(rules: ThresholdRules): number | undefined {
  let shortest: number | undefined;
  for (const rule of rules.rules) {
    if (rule.kind !== 'silentFor') continue;
    const windowMs = secondsToMs(rule.when.silentFor.seconds);
    if (shortest === undefined || windowMs < shortest) shortest = windowMs;
  }
  return shortest;
}
