/**
 * The alarm lifecycle an operator drives: a command (acknowledge, snooze, disable, enable, reset)
 * applied to one rule of a device, and the alarms not at rest as the operator sees them.
 */
import type { AlarmCommand } from './alarm-command.js';
import type { AlarmEvent, AlarmStatus, Severity } from './model.js';
import { ALARM_STATES } from './model.js';
import type { AppliedCommand, DeviceAlarmState, RuleState } from './alarm-state.js';
import { buildState, readState, setRuleState, statesOf } from './alarm-state.js';
import { afresh, carried, endSnooze, raiseThreshold, rulesFor, secondsToMs, transition } from './alarm-transitions.js';
import type { ThresholdRule, ThresholdRules } from './thresholds.js';

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
  // Only a stored rule state remembers a command.
  const applied = previous?.cmd === undefined ? undefined : { ...previous.cmd, status: previous.status };
  if (applied !== undefined && applied.by === by && applied.action === command.action) {
    if (applied.at === at || (command.clientToken !== undefined && applied.token === command.clientToken)) {
      return { outcome: 'accepted', state: buildState(stored.newest, stored.type, deviceRules, ruleStates), events: [], status: applied.status, duplicate: true, reset };
    }
  }
  if (applied !== undefined && at < applied.at) {
    return {
      outcome: 'rejected',
      reason: `a newer command (${applied.action} at ${new Date(applied.at).toISOString()}) was already applied`,
      status: applied.status,
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
      ...transition(deviceId, rule, { from: status, to: next.status, value: null, threshold: raiseThreshold(rule, current), ts: at }),
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
  const kept = carried(current);
  switch (command.action) {
    case 'acknowledge':
      if (status === ALARM && current !== undefined) {
        const { reminded: _reminded, ...rest } = current;
        return { ...rest, status: ACKNOWLEDGED, ...who };
      }
      if (status === LATCHED) return { rule: rule.id, status: OK, ...kept };
      return `it is ${status} (only an ALARM or a LATCHED alarm can be acknowledged)`;
    case 'snooze':
      if (status === DISABLED) return 'it is DISABLED (enable it first)';
      // parseAlarmCommand requires seconds on a snooze; a caller of the engine may not have used it.
      if (command.seconds === undefined) return 'a snooze needs seconds';
      return { rule: rule.id, status: SNOOZED, until: at + secondsToMs(command.seconds), ...kept, ...who };
    case 'disable':
      if (status === DISABLED) return 'it is already DISABLED';
      return { rule: rule.id, status: DISABLED, ...kept, ...who };
    case 'enable':
      if (status !== DISABLED) return `it is ${status}, not DISABLED`;
      return { rule: rule.id, status: OK, ...kept };
    case 'reset':
      if (status === DISABLED) return 'it is DISABLED (enable it instead)';
      if (status === OK && current?.run === undefined) return 'it is already OK with nothing to reset';
      return { rule: rule.id, status: OK, ...kept };
  }
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
