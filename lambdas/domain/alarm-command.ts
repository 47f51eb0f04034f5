/**
 * The operator's command contract (docs/architecture.md, "Alarm commands"): the JSON an operator
 * publishes on cmd/fleet/alarms/{deviceId}, decoded and validated. Who sent it is never part of the
 * payload: it is the authenticated client id the rule hands us beside it.
 */
import type { AlarmCommandAction } from './model.js';
import { ALARM_COMMAND_ACTIONS } from './model.js';

const ALARM_COMMAND_LIMITS = {
  /** A note longer than this is refused (issue 13: "at most 1,000 characters"). */
  maxNoteChars: 1_000,
  /** A snooze longer than 30 days is almost certainly a typo for `disable`. */
  maxSnoozeSeconds: 30 * 24 * 3_600,
  maxClientTokenChars: 64,
  ruleId: /^[A-Za-z0-9_.-]{1,64}$/,
} as const;

/** A valid command. `seconds` only on a snooze. */
export interface AlarmCommand {
  readonly action: AlarmCommandAction;
  readonly ruleId: string;
  readonly note?: string;
  readonly seconds?: number;
  readonly clientToken?: string;
}

/**
 * A command that could not be read. Whatever could be read of it is kept, so the refusal can still
 * echo the clientToken and name the rule and action.
 */
interface AlarmCommandRefusal {
  readonly reason: string;
  readonly ruleId?: string;
  readonly action?: string;
  readonly clientToken?: string;
}

type ParseAlarmCommandResult =
  | { readonly success: true; readonly command: AlarmCommand }
  | { readonly success: false; readonly refusal: AlarmCommandRefusal };

const KNOWN_KEYS = new Set(['action', 'ruleId', 'note', 'seconds', 'clientToken']);
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a command from the bytes the operator published.
 * @example parseAlarmCommand(new TextEncoder().encode('{"action":"acknowledge","ruleId":"overheat"}'))
 */
export function parseAlarmCommand(bytes: Uint8Array): ParseAlarmCommandResult {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return refused({ reason: 'payload: not UTF-8 text' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refused({ reason: 'payload: not JSON' });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return refused({ reason: 'payload: not a JSON object' });
  return validate(json as Record<string, unknown>);
}

function validate(raw: Record<string, unknown>): ParseAlarmCommandResult {
  // Echoed back whatever else is wrong, if it is a sensible string.
  const token = raw['clientToken'];
  const clientToken =
    typeof token === 'string' && token.length >= 1 && token.length <= ALARM_COMMAND_LIMITS.maxClientTokenChars ? token : undefined;
  const ruleId = typeof raw['ruleId'] === 'string' && ALARM_COMMAND_LIMITS.ruleId.test(raw['ruleId']) ? raw['ruleId'] : undefined;
  const actionRaw = typeof raw['action'] === 'string' && raw['action'].length <= 32 ? raw['action'] : undefined;
  const known = { ...(ruleId === undefined ? {} : { ruleId }), ...(actionRaw === undefined ? {} : { action: actionRaw }), ...(clientToken === undefined ? {} : { clientToken }) };
  const fail = (reason: string): ParseAlarmCommandResult => refused({ reason, ...known });

  const unknown = Object.keys(raw).filter((key) => !KNOWN_KEYS.has(key));
  if (unknown.length > 0) return fail(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  if (token !== undefined && clientToken === undefined) {
    return fail(`clientToken: must be a string of 1 to ${ALARM_COMMAND_LIMITS.maxClientTokenChars} characters`);
  }
  if (raw['action'] === undefined) return fail('action: required');
  const action = ALARM_COMMAND_ACTIONS.find((candidate) => candidate === raw['action']);
  if (action === undefined) return fail(`action: must be one of ${ALARM_COMMAND_ACTIONS.join(', ')}`);
  if (raw['ruleId'] === undefined) return fail('ruleId: required');
  if (ruleId === undefined) return fail('ruleId: must be 1 to 64 of [A-Za-z0-9_.-]');

  const note = raw['note'];
  if (note !== undefined && note !== null) {
    if (typeof note !== 'string') return fail('note: must be a string');
    if (note.length > ALARM_COMMAND_LIMITS.maxNoteChars) return fail(`note: at most ${ALARM_COMMAND_LIMITS.maxNoteChars} characters`);
  }
  const seconds = raw['seconds'];
  if (action === 'snooze') {
    if (seconds === undefined) return fail('seconds: required for snooze');
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > ALARM_COMMAND_LIMITS.maxSnoozeSeconds) {
      return fail(`seconds: must be a whole number from 1 to ${ALARM_COMMAND_LIMITS.maxSnoozeSeconds}`);
    }
  } else if (seconds !== undefined) {
    return fail('seconds: only for snooze');
  }

  return {
    success: true,
    command: {
      action,
      ruleId,
      ...(typeof note === 'string' && note !== '' ? { note } : {}),
      ...(action === 'snooze' ? { seconds: seconds as number } : {}),
      ...(clientToken === undefined ? {} : { clientToken }),
    },
  };
}

function refused(refusal: AlarmCommandRefusal): ParseAlarmCommandResult {
  return { success: false, refusal };
}
