/** Query-string and body parsing for the console's API: each failure names the parameter (400). */
import { z } from 'zod';
import type { Severity } from '../../../lambdas/domain/model.js';
import { ALARM_COMMAND_ACTIONS, SEVERITIES } from '../../../lambdas/domain/model.js';
import type { AlarmCommand } from '../../../lambdas/domain/alarm-command.js';
import { ConsoleRequestError } from './errors.js';

/** `deviceId/ruleId` (the device id and rule id patterns of the contract). */
const ALARM_ID = /^[A-Za-z0-9_:-]{1,128}\/[A-Za-z0-9_.-]{1,64}$/;
/** The command contract's limit on a note. */
const MAX_NOTE_CHARS = 1_000;

/** The widest time ECMAScript dates represent (ECMA-262 section 21.4.1.22: 8.64e15 ms either side of 1970). */
const MAX_TIME = 8.64e15;

/** A time parameter: epoch milliseconds, or an ISO-8601 date-time. Undefined when absent or empty. */
export function timeParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  const ms = /^-?\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_TIME) {
    throw new ConsoleRequestError(400, `${name}: not a time (epoch ms or ISO-8601): ${JSON.stringify(raw.slice(0, 40))}`);
  }
  return ms;
}

/** A positive integer parameter, capped at `max`, `fallback` when absent. */
export function limitParam(params: URLSearchParams, name: string, options: { fallback: number; max: number }): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return options.fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new ConsoleRequestError(400, `${name}: not a positive integer`);
  return Math.min(Number(raw), options.max);
}

/** `severity=critical,major`: any of these (absent or empty: all). */
export function severitiesParam(params: URLSearchParams): Severity[] | undefined {
  const raw = params.get('severity');
  if (raw === null || raw === '') return undefined;
  const wanted = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const s of wanted) {
    if (!(SEVERITIES as readonly string[]).includes(s)) {
      throw new ConsoleRequestError(400, `severity: ${JSON.stringify(s.slice(0, 40))} is not one of ${SEVERITIES.join(', ')}`);
    }
  }
  return wanted as Severity[];
}

/** A device id parameter or path segment (absent or empty: undefined). */
export function deviceParam(raw: string | null | undefined, name = 'device'): string | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined;
  // Longer than any device id (128) but bounded: the store is the judge of what exists.
  if (raw.length > 512) throw new ConsoleRequestError(400, `${name}: longer than 512 characters`);
  return raw;
}

/** [since, until) with defaults, checked to be in order. */
export function timeRange(params: URLSearchParams, defaults: { since: number; until: number }): { since: number; until: number } {
  const since = timeParam(params, 'since') ?? defaults.since;
  const until = timeParam(params, 'until') ?? defaults.until;
  if (until <= since) throw new ConsoleRequestError(400, 'until: must be after since');
  return { since, until };
}

const commandSchema = z.strictObject({
  alarmId: z.string().regex(ALARM_ID, { error: 'must be deviceId/ruleId' }),
  action: z.enum(ALARM_COMMAND_ACTIONS),
  note: z.string().max(MAX_NOTE_CHARS).optional(),
  seconds: z.number().int().positive().optional(),
});

/** POST /api/alarms/command's body: which alarm, what to do, and the command's own fields. */
export interface CommandRequest {
  readonly deviceId: string;
  readonly command: AlarmCommand;
}

/**
 * Checks the shape the page sends (the command's own rules, such as `seconds` for snooze only, are
 * the alarm-commands handler's to decide, and come back as its rejected reply).
 */
export function parseCommandRequest(body: unknown): CommandRequest {
  const result = commandSchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join('.') || 'body';
    throw new ConsoleRequestError(400, `${where}: ${issue?.message ?? 'invalid'}`);
  }
  const { alarmId, action, note, seconds } = result.data;
  const slash = alarmId.indexOf('/');
  const trimmed = note?.trim();
  return {
    deviceId: alarmId.slice(0, slash),
    command: { action, ruleId: alarmId.slice(slash + 1), ...(trimmed ? { note: trimmed } : {}), ...(seconds === undefined ? {} : { seconds }) },
  };
}
