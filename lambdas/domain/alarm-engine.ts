/**
 * The alarm state machine: pure functions from (stored state, readings or time, rules) to (new state,
 * transitions). One device at a time; the state is plain JSON, stored opaque in `DeviceAlarmRecord.state`
 * (docs/architecture.md, "Alarm state").
 *
 * Semantics:
 * - **Order.** Readings are applied in event-time order: by `ts`, then by `seq` (a missing `seq` counts
 *   as -1), stable for equal keys.
 * - **Late and replayed readings.** The state keeps the (ts, seq) of the newest reading applied. A
 *   reading at or before it is ignored: a late reading never flips a newer state, and a retried or
 *   replayed batch emits nothing. Two readings of one device with the same ts and no seq are one
 *   reading (the store, too, upserts them onto one row).
 * - **Which rules.** A metric rule applies to a reading when `match.type` (if given) equals the
 *   reading's `type`, `match.deviceId` (if given) equals the device, and the reading has the metric.
 *   Readings without the metric leave the rule (and its debounce run) untouched.
 * - **Breach.** above: value > when.above; below: value < when.below.
 * - **Clear.** With a clear bound, strictly past it (value < clear.below / value > clear.above); without
 *   one, as soon as the value no longer breaches. Clearing is immediate (no debounce).
 * - **Debounce.** `for.samples N` raises on the Nth consecutive breaching sample; `for.seconds S` raises on
 *   the first breaching sample at least S seconds (event time) after the first sample of an unbroken
 *   breaching run. A non-breaching sample resets the run. The event carries the raising sample's ts/value.
 * - **Silence.** `applySilence` raises a silentFor rule when `now - lastSeen >= seconds`, with the
 *   deterministic event ts `lastSeen + seconds` (so re-running the check emits nothing new), value the
 *   whole seconds of silence at `now`. It clears on the device's next applied reading, whatever its type
 *   (the device is not silent any more), with that reading's ts and value null. A gap between two
 *   readings of one batch raises nothing: silence is judged on wall-clock time by the offline check.
 * - **Events.** Exactly one per transition, in event-time order (rules in file order for one reading);
 *   `threshold` is the when-bound on raise and the clear-bound (or the when-bound if none) on clear.
 * - **Stored state.** Rules no longer in the rule set are dropped. A state this version cannot read
 *   (an older shape, corruption) is treated as empty and the result says `reset: true`: its alarms
 *   restart from OK, and the newest-applied mark is lost for that device.
 */
import type { AlarmEvent, AlarmStatus, Reading } from './model.js';
import { ALARM_STATES } from './model.js';
import type { MetricRule, ThresholdRule, ThresholdRules } from './thresholds.js';

/** The shape version of {@link DeviceAlarmState}; a stored state with another is reset. */
export const ALARM_STATE_VERSION = 1;

/** One rule's state for one device; only rules not in their resting state (OK, no run) are stored. */
export interface RuleState {
  readonly rule: string;
  readonly status: AlarmStatus;
  /** An unbroken breaching run that has not yet raised (status OK, debounced rules only). */
  readonly run?: { readonly count: number; readonly since: number };
}

/** One device's alarm state: plain JSON, opaque to the stores. */
export interface DeviceAlarmState {
  readonly v: typeof ALARM_STATE_VERSION;
  /** (ts, seq ?? -1) of the newest reading applied; anything at or before it is ignored. Its ts is lastSeen. */
  readonly newest?: { readonly ts: number; readonly seq: number };
  /** The type of the newest reading that had one (matches silentFor rules scoped by type). */
  readonly type?: string;
  /** An array, not a map keyed by rule id: an id may be `__proto__`. */
  readonly rules: readonly RuleState[];
}

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

export interface ApplySilenceInput {
  readonly deviceId: string;
  readonly state: unknown;
  /** Wall-clock time of the check, epoch ms. */
  readonly now: number;
  readonly rules: ThresholdRules;
}

export interface ApplySilenceResult {
  readonly state: DeviceAlarmState;
  readonly events: AlarmEvent[];
  readonly reset: boolean;
}

const { OK, ALARM } = ALARM_STATES;

/** The state of a device never seen. */
export function emptyAlarmState(): DeviceAlarmState {
  return { v: ALARM_STATE_VERSION, rules: [] };
}

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
      const previous = ruleStates.get(rule.id);
      if (rule.kind === 'silentFor') {
        if (previous?.status === ALARM) {
          events.push(transition(deviceId, rule, { to: OK, value: null, threshold: rule.when.silentFor.seconds, ts: reading.ts }));
          ruleStates.delete(rule.id);
        }
        continue;
      }
      if (rule.match?.type !== undefined && rule.match.type !== reading.type) continue;
      const value = reading.metrics[rule.metric];
      // typeof, not `!== undefined`: a metric named like an Object.prototype member must not match it.
      if (typeof value !== 'number') continue;
      const next = stepMetricRule(rule, previous, reading.ts, value, deviceId, events);
      if (next === undefined) ruleStates.delete(rule.id);
      else ruleStates.set(rule.id, next);
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

/**
 * Raises the silentFor rules of a device silent for long enough at `now`. Emits nothing for a device
 * never seen, or one already in ALARM for the rule.
 */
export function applySilence(input: ApplySilenceInput): ApplySilenceResult {
  const { deviceId, now, rules } = input;
  const { state: stored, reset } = readState(input.state);
  const deviceRules = rulesFor(rules, deviceId);
  const ruleStates = statesOf(stored, deviceRules);
  const events: AlarmEvent[] = [];
  const lastSeen = stored.newest?.ts;
  if (lastSeen !== undefined) {
    for (const rule of deviceRules) {
      if (rule.kind !== 'silentFor' || ruleStates.get(rule.id)?.status === ALARM) continue;
      if (rule.match?.type !== undefined && rule.match.type !== stored.type) continue;
      const windowMs = secondsToMs(rule.when.silentFor.seconds);
      if (now - lastSeen < windowMs) continue;
      events.push(
        transition(deviceId, rule, {
          to: ALARM,
          value: Math.floor((now - lastSeen) / 1000),
          threshold: rule.when.silentFor.seconds,
          ts: lastSeen + windowMs,
        }),
      );
      ruleStates.set(rule.id, { rule: rule.id, status: ALARM });
    }
  }
  return { state: buildState(stored.newest, stored.type, deviceRules, ruleStates), events, reset };
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

/** One reading's effect on a metric rule; the rule's next state (undefined: resting OK). */
function stepMetricRule(
  rule: MetricRule,
  previous: RuleState | undefined,
  ts: number,
  value: number,
  deviceId: string,
  events: AlarmEvent[],
): RuleState | undefined {
  const breach = rule.kind === 'above' ? value > rule.when.above : value < rule.when.below;
  if (previous?.status === ALARM) {
    const clearBound = rule.kind === 'above' ? rule.clear?.below : rule.clear?.above;
    let cleared: boolean;
    if (clearBound === undefined) cleared = !breach;
    else cleared = rule.kind === 'above' ? value < clearBound : value > clearBound;
    if (!cleared) return previous;
    const threshold = clearBound ?? (rule.kind === 'above' ? rule.when.above : rule.when.below);
    events.push(transition(deviceId, rule, { to: OK, value, threshold, ts }));
    return undefined;
  }
  if (!breach) return undefined;
  const run = previous?.run === undefined ? { count: 1, since: ts } : { count: previous.run.count + 1, since: previous.run.since };
  const debounce = rule.for;
  const due =
    debounce === undefined ||
    ('samples' in debounce ? run.count >= debounce.samples : ts - run.since >= secondsToMs(debounce.seconds));
  if (!due) return { rule: rule.id, status: OK, run };
  const threshold = rule.kind === 'above' ? rule.when.above : rule.when.below;
  events.push(transition(deviceId, rule, { to: ALARM, value, threshold, ts }));
  return { rule: rule.id, status: ALARM };
}

function transition(
  deviceId: string,
  rule: ThresholdRule,
  change: { to: AlarmStatus; value: number | null; threshold: number; ts: number },
): AlarmEvent {
  return {
    alarmId: `${deviceId}/${rule.id}`,
    deviceId,
    ruleId: rule.id,
    metric: rule.kind === 'silentFor' ? null : rule.metric,
    state: change.to,
    previousState: change.to === ALARM ? OK : ALARM,
    severity: rule.severity,
    value: change.value,
    threshold: change.threshold,
    ts: change.ts,
  };
}

/** Rule sets without any `match.deviceId`: every device gets the whole list (no filtering per call). */
const forEveryDevice = new WeakMap<ThresholdRules, boolean>();

function rulesFor(rules: ThresholdRules, deviceId: string): readonly ThresholdRule[] {
  let unscoped = forEveryDevice.get(rules);
  if (unscoped === undefined) {
    unscoped = rules.rules.every((rule) => rule.match?.deviceId === undefined);
    // Only a frozen rule set (parseThresholds freezes it) cannot change after it was looked at.
    if (Object.isFrozen(rules) && Object.isFrozen(rules.rules)) forEveryDevice.set(rules, unscoped);
  }
  if (unscoped) return rules.rules;
  return rules.rules.filter((rule) => rule.match?.deviceId === undefined || rule.match.deviceId === deviceId);
}

/** The stored rule states of the rules still in force (removed rules are dropped here). */
function statesOf(state: DeviceAlarmState, rules: readonly ThresholdRule[]): Map<string, RuleState> {
  const map = new Map<string, RuleState>();
  // Most devices rest (no rule in ALARM or in a run): nothing stored, nothing to look up.
  if (state.rules.length === 0) return map;
  const known = new Set(rules.map((rule) => rule.id));
  for (const ruleState of state.rules) if (known.has(ruleState.rule)) map.set(ruleState.rule, ruleState);
  return map;
}

function buildState(
  newest: DeviceAlarmState['newest'],
  type: string | undefined,
  rules: readonly ThresholdRule[],
  ruleStates: ReadonlyMap<string, RuleState>,
): DeviceAlarmState {
  // Rule-file order, so equal states serialize to equal JSON.
  const stored: RuleState[] = [];
  for (const rule of rules) {
    const ruleState = ruleStates.get(rule.id);
    if (ruleState !== undefined) stored.push(ruleState);
  }
  return {
    v: ALARM_STATE_VERSION,
    ...(newest === undefined ? {} : { newest }),
    ...(type === undefined ? {} : { type }),
    rules: stored,
  };
}

function sortByEventTime(readings: readonly Reading[]): readonly Reading[] {
  if (readings.length < 2) return readings;
  // Array.prototype.sort is stable (ES2019), so equal keys keep stream order.
  return [...readings].sort((a, b) => a.ts - b.ts || (a.seq ?? -1) - (b.seq ?? -1));
}

function secondsToMs(seconds: number): number {
  return Math.ceil(seconds * 1000);
}

/** The stored state if this version can read it; otherwise an empty one, flagged as a reset. */
function readState(stored: unknown): { state: DeviceAlarmState; reset: boolean } {
  if (stored === undefined) return { state: emptyAlarmState(), reset: false };
  return isDeviceAlarmState(stored) ? { state: stored, reset: false } : { state: emptyAlarmState(), reset: true };
}

function isDeviceAlarmState(value: unknown): value is DeviceAlarmState {
  if (!isObject(value) || value.v !== ALARM_STATE_VERSION || !Array.isArray(value.rules)) return false;
  const { newest, type } = value;
  if (newest !== undefined && !(isObject(newest) && isFiniteNumber(newest.ts) && Number.isInteger(newest.seq))) return false;
  if (type !== undefined && typeof type !== 'string') return false;
  return value.rules.every(isRuleState);
}

function isRuleState(value: unknown): boolean {
  if (!isObject(value) || typeof value.rule !== 'string') return false;
  if (value.status !== OK && value.status !== ALARM) return false;
  const { run } = value;
  return run === undefined || (isObject(run) && Number.isInteger(run.count) && isFiniteNumber(run.since));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
