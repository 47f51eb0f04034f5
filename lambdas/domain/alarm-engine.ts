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
 * - **Silence.** `applySilence` raises a silentFor rule when `now - lastSeen >= seconds + lag`, with the
 *   deterministic event ts `lastSeen + seconds + lag` (so re-running the check emits nothing new), value
 *   the whole seconds of silence at `now`. `lag` is how far the stored lastSeen may trail the newest
 *   reading (writes are skipped while only lastSeen moves, by at most {@link lastSeenWriteBoundMs}). It
 *   clears on the device's next applied reading after the silence began (ts > raise ts - seconds),
 *   whatever its type, with that reading's ts and value null. A gap between two
 *   readings of one batch raises nothing: silence is judged on wall-clock time by the offline check.
 * - **Events.** Exactly one per transition, in event-time order (rules in file order for one reading);
 *   `threshold` is the when-bound on raise and the clear-bound (or the when-bound if none) on clear.
 * - **Lifecycle** (docs/architecture.md, "Alarm lifecycle"). ALARM --acknowledge--> ACKNOWLEDGED, which
 *   is not raised again while the value stays in breach and goes to OK when it clears. A `latch` rule
 *   whose ALARM clears unacknowledged goes to LATCHED, left by acknowledge (OK) or a new breach (ALARM).
 *   SNOOZED (any state but DISABLED, for N seconds): readings before its end are not evaluated; it ends
 *   on the first reading at or after its end, or by the scheduled check, and the rule starts afresh from
 *   OK (one event, SNOOZED -> whatever that first evaluation gives). DISABLED: nothing is evaluated until
 *   enable (-> OK). reset: -> OK, debounce run dropped. A command that does not apply is refused with a
 *   reason and changes nothing.
 * - **Commands** are stamped with the time the rules engine received them. The rule remembers the last
 *   command applied (time, client, action, clientToken): the same command again (a retried invocation,
 *   a resent message with the same clientToken) is accepted again without a second event, and one older
 *   than it is refused.
 * - **Reminders.** A rule with `remindEvery` R in ALARM since `since` gets, from the scheduled check at
 *   `now`, the reminder of interval k = floor((now - since) / R) if k >= 1 and no reminder of k or later
 *   was sent: ts `since + k*R` (deterministic), so a check that runs twice sends nothing twice and a late
 *   check still sends it; a check that passed several boundaries sends only the newest.
 * - **Stored state.** Rules no longer in the rule set are dropped. A state this version cannot read
 *   (an older shape, corruption) is treated as empty and the result says `reset: true`: its alarms
 *   restart from OK, and the newest-applied mark is lost for that device.
 */
import type { AlarmCommand } from './alarm-command.js';
import type { AlarmCommandAction, AlarmEvent, AlarmStatus, Reading, Severity } from './model.js';
import { ALARM_STATES } from './model.js';
import type { MetricRule, SilenceRule, ThresholdRule, ThresholdRules } from './thresholds.js';

/** The shape version of {@link DeviceAlarmState}; a stored state with another is reset. */
export const ALARM_STATE_VERSION = 1;

/** The last command applied to a rule: a replay of it is recognised, an older one refused. */
export interface AppliedCommand {
  readonly at: number;
  readonly by: string;
  readonly action: AlarmCommandAction;
  readonly token?: string;
}

/** One rule's state for one device; only rules not in their resting state (OK, no run, no command) are stored. */
export interface RuleState {
  readonly rule: string;
  readonly status: AlarmStatus;
  /** An unbroken breaching run that has not yet raised (status OK or LATCHED, debounced rules only). */
  readonly run?: { readonly count: number; readonly since: number };
  /** ALARM / ACKNOWLEDGED: event ts of the raise; the value that raised it. */
  readonly since?: number;
  readonly value?: number | null;
  /** ALARM: the last reminder interval published (1, 2, ...). */
  readonly reminded?: number;
  /** SNOOZED: when the snooze ends, epoch ms. */
  readonly until?: number;
  /** ACKNOWLEDGED / SNOOZED / DISABLED: who put it there, and why. */
  readonly by?: string;
  readonly note?: string;
  readonly cmd?: AppliedCommand;
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
  /** How far the stored lastSeen may trail the newest reading applied, ms. @default 0 */
  readonly lastSeenLagMs?: number;
}

export interface ApplySilenceResult {
  readonly state: DeviceAlarmState;
  readonly events: AlarmEvent[];
  readonly reset: boolean;
}

export interface ApplyCommandInput {
  readonly deviceId: string;
  readonly state: unknown;
  readonly rules: ThresholdRules;
  readonly command: AlarmCommand;
  /** The authenticated client id of the operator. */
  readonly by: string;
  /** When the rules engine received the command, epoch ms: the command's event time. */
  readonly at: number;
}

export type ApplyCommandResult =
  | {
      readonly outcome: 'accepted';
      readonly state: DeviceAlarmState;
      readonly events: AlarmEvent[];
      /** The rule's state after the command. */
      readonly status: AlarmStatus;
      /** The same command was already applied: nothing changed, nothing to save. */
      readonly duplicate: boolean;
      readonly reset: boolean;
    }
  | { readonly outcome: 'rejected'; readonly reason: string; readonly status?: AlarmStatus; readonly reset: boolean };

/** One alarm not at rest, as an operator sees it. */
export interface AlarmView {
  readonly alarmId: string;
  readonly deviceId: string;
  readonly ruleId: string;
  readonly severity: Severity;
  readonly state: AlarmStatus;
  /** ALARM / ACKNOWLEDGED: event ts of the raise; SNOOZED / DISABLED and others: of the last command. */
  readonly since: number | null;
  readonly by: string | null;
  readonly note: string | null;
  readonly snoozedUntil: number | null;
}

const { OK, ALARM, ACKNOWLEDGED, LATCHED, SNOOZED, DISABLED } = ALARM_STATES;
const STATUSES: ReadonlySet<string> = new Set(Object.values(ALARM_STATES));
/** The floor of the lastSeen write bound (issue 11: "at least 60 s"). */
const MIN_LAST_SEEN_BOUND_MS = 60_000;

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
      } else if ((rule.match?.type === undefined || rule.match.type === reading.type) && typeof reading.metrics[rule.metric] === 'number') {
        // typeof, not `!== undefined`: a metric named like an Object.prototype member must not match it.
        next = stepMetricRule(rule, previous, reading.ts, reading.metrics[rule.metric] as number, deviceId, stepEvents);
      } else {
        next = previous;
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
            threshold: raiseThreshold(rule),
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
 * Applies an operator's command to one rule of a device: the new state and its one event, or a
 * refusal with the reason (nothing changed).
 */
export function applyCommand(input: ApplyCommandInput): ApplyCommandResult {
  const { deviceId, rules, command, by, at } = input;
  const { state: stored, reset } = readState(input.state);
  const deviceRules = rulesFor(rules, deviceId);
  const rule = deviceRules.find((candidate) => candidate.id === command.ruleId);
  if (rule === undefined) {
    const elsewhere = rules.rules.some((candidate) => candidate.id === command.ruleId);
    return { outcome: 'rejected', reason: elsewhere ? `rule "${command.ruleId}" does not apply to device ${deviceId}` : `unknown rule "${command.ruleId}"`, reset };
  }
  const ruleStates = statesOf(stored, deviceRules);
  const previous = ruleStates.get(rule.id);
  const applied = previous?.cmd;
  if (applied !== undefined && applied.by === by && applied.action === command.action) {
    if (applied.at === at || (command.clientToken !== undefined && applied.token === command.clientToken)) {
      return { outcome: 'accepted', state: buildState(stored.newest, stored.type, deviceRules, ruleStates), events: [], status: previous?.status ?? OK, duplicate: true, reset };
    }
  }
  if (applied !== undefined && at < applied.at) {
    return {
      outcome: 'rejected',
      reason: `a newer command (${applied.action} at ${new Date(applied.at).toISOString()}) was already applied`,
      status: previous?.status ?? OK,
      reset,
    };
  }

  const events: AlarmEvent[] = [];
  let current = previous;
  // A snooze that is over but not yet ended by a reading or the check ends first.
  if (current?.status === SNOOZED && at >= (current.until ?? 0)) {
    const ended = current;
    current = afresh(current);
    events.push(...endSnooze(rule, ended, deviceId, []));
  }
  const status = current?.status ?? OK;
  const decided = decideCommand(rule, current, command, status, by, at);
  if (typeof decided === 'string') return { outcome: 'rejected', reason: `cannot ${command.action} ${rule.id}: ${decided}`, status, reset };

  const cmd: AppliedCommand = { at, by, action: command.action, ...(command.clientToken === undefined ? {} : { token: command.clientToken }) };
  const next: RuleState = { ...decided, cmd };
  if (next.status !== status || command.action === 'snooze') {
    events.push({
      ...transition(deviceId, rule, { from: status, to: next.status, value: null, threshold: raiseThreshold(rule), ts: at }),
      action: command.action,
      by,
      note: command.note ?? null,
    });
  }
  setRuleState(ruleStates, rule.id, next);
  return { outcome: 'accepted', state: buildState(stored.newest, stored.type, deviceRules, ruleStates), events, status: next.status, duplicate: false, reset };
}

/** The rule's state after a command that applies, or why it does not apply. */
function decideCommand(
  rule: ThresholdRule,
  current: RuleState | undefined,
  command: AlarmCommand,
  status: AlarmStatus,
  by: string,
  at: number,
): Omit<RuleState, 'cmd'> | string {
  const who = { by, ...(command.note === undefined ? {} : { note: command.note }) };
  switch (command.action) {
    case 'acknowledge':
      if (status === ALARM && current !== undefined) {
        const { reminded: _reminded, ...rest } = current;
        return { ...rest, status: ACKNOWLEDGED, ...who };
      }
      if (status === LATCHED) return { rule: rule.id, status: OK };
      return `it is ${status} (only an ALARM or a LATCHED alarm can be acknowledged)`;
    case 'snooze':
      if (status === DISABLED) return 'it is DISABLED (enable it first)';
      return { rule: rule.id, status: SNOOZED, until: at + secondsToMs(command.seconds ?? 0), ...who };
    case 'disable':
      if (status === DISABLED) return 'it is already DISABLED';
      return { rule: rule.id, status: DISABLED, ...who };
    case 'enable':
      if (status !== DISABLED) return `it is ${status}, not DISABLED`;
      return { rule: rule.id, status: OK };
    case 'reset':
      if (status === DISABLED) return 'it is DISABLED (enable it instead)';
      if (status === OK && current?.run === undefined) return 'it is already OK with nothing to reset';
      return { rule: rule.id, status: OK };
  }
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

/** The alarms of a device that are not at rest (OK without a command), in rule-file order. */
export function describeAlarms(deviceId: string, state: unknown, rules: ThresholdRules): AlarmView[] {
  const { state: stored } = readState(state);
  const deviceRules = rulesFor(rules, deviceId);
  const ruleStates = statesOf(stored, deviceRules);
  const views: AlarmView[] = [];
  for (const rule of deviceRules) {
    const ruleState = ruleStates.get(rule.id);
    if (ruleState === undefined || ruleState.status === OK) continue;
    views.push({
      alarmId: `${deviceId}/${rule.id}`,
      deviceId,
      ruleId: rule.id,
      severity: rule.severity,
      state: ruleState.status,
      since: ruleState.since ?? ruleState.cmd?.at ?? null,
      by: ruleState.by ?? null,
      note: ruleState.note ?? null,
      snoozedUntil: ruleState.status === SNOOZED ? (ruleState.until ?? null) : null,
    });
  }
  return views;
}

/**
 * True when the alarm-relevant part of a device's state differs (its rules' states or its type): what
 * must be written. The newest-reading mark alone is not: it is written only when lastSeen moved by
 * more than {@link lastSeenWriteBoundMs}.
 */
export function alarmStateChanged(before: unknown, after: DeviceAlarmState): boolean {
  const { state: old, reset } = readState(before);
  if (reset || before === undefined) return true;
  return old.type !== after.type || !sameJson(old.rules, after.rules);
}

/**
 * Deep equality of plain JSON values, whatever the order of object keys: a state read back from
 * DynamoDB is a map whose keys need not come back in the order they were written.
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left).filter((key) => left[key] !== undefined);
  if (keys.length !== Object.keys(right).filter((key) => right[key] !== undefined).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && sameJson(left[key], right[key]));
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
  const status = previous?.status ?? OK;
  if (status === ALARM || status === ACKNOWLEDGED) {
    const clearBound = rule.kind === 'above' ? rule.clear?.below : rule.clear?.above;
    let cleared: boolean;
    if (clearBound === undefined) cleared = !breach;
    else cleared = rule.kind === 'above' ? value < clearBound : value > clearBound;
    if (!cleared) return previous;
    const threshold = clearBound ?? (rule.kind === 'above' ? rule.when.above : rule.when.below);
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
  events.push(transition(deviceId, rule, { from: status, to: ALARM, value, threshold: raiseThreshold(rule), ts }));
  return raised(previous, rule.id, ts, value);
}

/**
 * The one event of a snooze that ended: SNOOZED -> whatever the fresh evaluation decided (its event,
 * relabelled), or SNOOZED -> OK at the snooze's end when it decided nothing.
 */
function endSnooze(rule: ThresholdRule, snoozed: RuleState, deviceId: string, decided: readonly AlarmEvent[]): AlarmEvent[] {
  if (decided.length > 0) return decided.map((event, i) => (i === 0 ? { ...event, previousState: SNOOZED } : event));
  return [transition(deviceId, rule, { from: SNOOZED, to: OK, value: null, threshold: raiseThreshold(rule), ts: snoozed.until ?? 0 })];
}

/** The rule back at OK, keeping only the memory of the last command. */
function afresh(state: RuleState): RuleState {
  return { rule: state.rule, status: OK, ...(state.cmd === undefined ? {} : { cmd: state.cmd }) };
}

function raised(previous: RuleState | undefined, ruleId: string, ts: number, value: number | null): RuleState {
  return { rule: ruleId, status: ALARM, since: ts, value, ...(previous?.cmd === undefined ? {} : { cmd: previous.cmd }) };
}

function settled(previous: RuleState, to: AlarmStatus): RuleState {
  return { rule: previous.rule, status: to, ...(previous.cmd === undefined ? {} : { cmd: previous.cmd }) };
}

function withoutRun(state: RuleState): RuleState {
  const { run: _run, ...rest } = state;
  return rest;
}

/** Stores the rule's state, or forgets it when it is at rest (OK, nothing remembered). */
function setRuleState(states: Map<string, RuleState>, ruleId: string, next: RuleState | undefined): void {
  if (next === undefined || (next.status === OK && next.run === undefined && next.cmd === undefined)) states.delete(ruleId);
  else states.set(ruleId, next);
}

function raiseThreshold(rule: ThresholdRule): number {
  if (rule.kind === 'silentFor') return rule.when.silentFor.seconds;
  return rule.kind === 'above' ? rule.when.above : rule.when.below;
}

function silenceRaiseTs(rule: SilenceRule, lastSeen: number, lagMs: number): number {
  return lastSeen + secondsToMs(rule.when.silentFor.seconds) + lagMs;
}

function transition(
  deviceId: string,
  rule: ThresholdRule,
  change: { from: AlarmStatus; to: AlarmStatus; value: number | null; threshold: number; ts: number },
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
  if (typeof value.status !== 'string' || !STATUSES.has(value.status)) return false;
  const { run, since, until, reminded, cmd } = value;
  if (run !== undefined && !(isObject(run) && Number.isInteger(run.count) && isFiniteNumber(run.since))) return false;
  if ((since !== undefined && !isFiniteNumber(since)) || (until !== undefined && !isFiniteNumber(until))) return false;
  if (reminded !== undefined && !Number.isInteger(reminded)) return false;
  return cmd === undefined || (isObject(cmd) && isFiniteNumber(cmd.at) && typeof cmd.by === 'string' && typeof cmd.action === 'string');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
