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
 *   reading's `type`, `match.deviceId` (if given) equals the device, and the reading has the metric
 *   (and the metric its threshold names, for a threshold `{ metric }`). Readings without them leave the
 *   rule (and its debounce run) untouched.
 * - **Breach.** above: value > threshold; below: <; atOrAbove: >=; atOrBelow: <=; equals: ===;
 *   notEquals: !==. The threshold is the rule's number or the named metric's value in the same reading
 *   (alarm-conditions.ts).
 * - **Change.** risesBy: value - (lowest value of the metric among the earlier readings with ts >= this
 *   ts - withinSeconds) >= amount; fallsBy: highest - value >= amount; rounded to 12 significant
 *   digits; an empty window does not breach. The window is a monotonic deque capped at
 *   CHANGE_WINDOW_CAP candidates (alarm-conditions.ts: past the cap the change may be understated,
 *   never overstated). Debounced by `for` like a comparison; clears when the breach no longer holds.
 * - **Stuck value.** unchangedFor: raises on a reading whose value === the value held since the first
 *   reading of it at least `seconds` earlier (event time); the first other value clears.
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
 *   metricSilentFor is the same for one metric, counted from its stored sighting (RuleState.seen, moved
 *   only when more than the lastSeen write bound newer, and tracked even while SNOOZED or DISABLED),
 *   cleared by the next reading carrying the metric; nextWakeAt returns when it falls due.
 * - **Events.** Exactly one per transition, in event-time order (rules in file order for one reading);
 *   `threshold` is what was compared: the when-threshold on raise and the clear-bound (or the
 *   when-threshold if none) on clear; for risesBy/fallsBy value is the change and threshold the
 *   amount; for unchangedFor, silentFor and metricSilentFor value is the seconds (null on clear) and
 *   threshold the rule's seconds. A threshold read from another metric is remembered with the raise
 *   (RuleState.threshold) for the events no reading decides; with none remembered they carry null.
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
 * - **Stored state.** Rules no longer in the rule set are dropped, and so are the states of rules whose
 *   kind changed (RuleState.kind; a state without one, stored before kinds were recorded, is kept). A state this version cannot read
 *   (an older shape, corruption) is treated as empty and the result says `reset: true`: its alarms
 *   restart from OK, and the newest-applied mark is lost for that device.
 */

// The state machine lives in one file per seam; this file is its way in, so every name keeps its import path.
export { ALARM_STATE_VERSION, alarmStateChanged, emptyAlarmState } from './alarm-state.js';
export type { AppliedCommand, DeviceAlarmState, RuleState } from './alarm-state.js';
export { applyReadings } from './alarm-evaluation.js';
export type { ApplyReadingsInput, ApplyReadingsResult } from './alarm-evaluation.js';
export { applySilence, lastSeenWriteBoundMs, nextWakeAt, shortestQuietMs, shortestSilenceMs } from './alarm-silence.js';
export type { ApplySilenceInput, ApplySilenceResult } from './alarm-silence.js';
export { applyCommand, describeAlarms } from './alarm-lifecycle.js';
export type { AlarmView, ApplyCommandInput, ApplyCommandResult } from './alarm-lifecycle.js';
