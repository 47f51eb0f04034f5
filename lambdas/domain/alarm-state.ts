/**
 * The stored alarm state of one device and its codec: the shape written opaque into
 * `DeviceAlarmRecord.state`, how a stored value is read back (an unreadable one becomes an empty state,
 * flagged as a reset) and how it is rebuilt in rule-file order so that equal states serialize alike.
 */
import type { AlarmCommandAction, AlarmStatus } from './model.js';
import { ALARM_STATES } from './model.js';
import type { RuleKind, ThresholdRule } from './thresholds.js';

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
  /**
   * The kind of the rule this state was decided under. A state whose rule changed kind (a thresholds
   * reload) is dropped: the rule starts afresh. States stored before the kind was recorded lack it and
   * are kept.
   */
  readonly kind?: RuleKind;
  readonly status: AlarmStatus;
  /** An unbroken breaching run that has not yet raised (status OK or LATCHED, debounced rules only). */
  readonly run?: { readonly count: number; readonly since: number };
  /** ALARM / ACKNOWLEDGED: event ts of the raise; the value that raised it. */
  readonly since?: number;
  readonly value?: number | null;
  /** ALARM / ACKNOWLEDGED of a rule whose threshold is another metric: that metric's value at the raise. */
  readonly threshold?: number;
  /**
   * risesBy / fallsBy: the readings of the window that can still be its lowest (risesBy) or highest
   * (fallsBy) value, as [ts, value], oldest first; at most CHANGE_WINDOW_CAP (alarm-conditions.ts).
   */
  readonly window?: readonly (readonly [number, number])[];
  /** unchangedFor: the value the metric has held, and the event time of the first reading of it. */
  readonly held?: { readonly value: number; readonly since: number };
  /**
   * metricSilentFor: event time of a reading that carried the metric, moved only when a newer one is
   * more than the lastSeen write bound later (so it trails the newest sighting by at most that bound).
   */
  readonly seen?: number;
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

const { OK } = ALARM_STATES;
const STATUSES: ReadonlySet<string> = new Set(Object.values(ALARM_STATES));

/** The state of a device never seen. */
export function emptyAlarmState(): DeviceAlarmState {
  return { v: ALARM_STATE_VERSION, rules: [] };
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

/** Stores the rule's state, or forgets it when it is at rest (OK, nothing remembered). */
export function setRuleState(states: Map<string, RuleState>, ruleId: string, next: RuleState | undefined): void {
  if (next === undefined || isAtRest(next)) states.delete(ruleId);
  else states.set(ruleId, next);
}

function isAtRest(state: RuleState): boolean {
  if (state.status !== OK || state.cmd !== undefined || state.run !== undefined) return false;
  return state.window === undefined && state.held === undefined && state.seen === undefined;
}

/**
 * The stored rule states of the rules still in force: the state of a removed rule is dropped, and so
 * is the state of a rule whose kind changed (a state without a kind, stored before kinds were
 * recorded, is kept).
 */
export function statesOf(state: DeviceAlarmState, rules: readonly ThresholdRule[]): Map<string, RuleState> {
  const map = new Map<string, RuleState>();
  // Most devices rest (no rule in ALARM or in a run): nothing stored, nothing to look up.
  if (state.rules.length === 0) return map;
  const kinds = new Map(rules.map((rule) => [rule.id, rule.kind]));
  for (const ruleState of state.rules) {
    const kind = kinds.get(ruleState.rule);
    if (kind !== undefined && (ruleState.kind === undefined || ruleState.kind === kind)) map.set(ruleState.rule, ruleState);
  }
  return map;
}

export function buildState(
  newest: DeviceAlarmState['newest'],
  type: string | undefined,
  rules: readonly ThresholdRule[],
  ruleStates: ReadonlyMap<string, RuleState>,
): DeviceAlarmState {
  // Rule-file order, so equal states serialize to equal JSON.
  const stored: RuleState[] = [];
  for (const rule of rules) {
    const ruleState = ruleStates.get(rule.id);
    if (ruleState !== undefined) stored.push(ruleState.kind === rule.kind ? ruleState : { ...ruleState, kind: rule.kind });
  }
  return {
    v: ALARM_STATE_VERSION,
    ...(newest === undefined ? {} : { newest }),
    ...(type === undefined ? {} : { type }),
    rules: stored,
  };
}

/** The stored state if this version can read it; otherwise an empty one, flagged as a reset. */
export function readState(stored: unknown): { state: DeviceAlarmState; reset: boolean } {
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
  const { kind, threshold, run, since, until, reminded, cmd } = value;
  if ((kind !== undefined && typeof kind !== 'string') || (threshold !== undefined && !isFiniteNumber(threshold))) return false;
  if (!isConditionMemory(value)) return false;
  if (run !== undefined && !(isObject(run) && Number.isInteger(run.count) && isFiniteNumber(run.since))) return false;
  if ((since !== undefined && !isFiniteNumber(since)) || (until !== undefined && !isFiniteNumber(until))) return false;
  if (reminded !== undefined && !Number.isInteger(reminded)) return false;
  return cmd === undefined || (isObject(cmd) && isFiniteNumber(cmd.at) && typeof cmd.by === 'string' && typeof cmd.action === 'string');
}

/** The parts of a rule state that only some conditions keep (window, held, seen), well formed when present. */
function isConditionMemory(value: Record<string, unknown>): boolean {
  const { window, held, seen } = value;
  if (window !== undefined && !(Array.isArray(window) && window.every((entry) => Array.isArray(entry) && entry.length === 2 && entry.every(isFiniteNumber)))) return false;
  if (held !== undefined && !(isObject(held) && isFiniteNumber(held.value) && isFiniteNumber(held.since))) return false;
  return seen === undefined || isFiniteNumber(seen);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
