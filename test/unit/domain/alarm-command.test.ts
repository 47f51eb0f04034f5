import { describe, expect, it } from 'vitest';
import { parseAlarmCommand } from '../../../lambdas/domain/alarm-command.js';

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('parseAlarmCommand', () => {
  it('reads every field of the contract', () => {
    expect(parseAlarmCommand(bytes({ action: 'snooze', ruleId: 'overheat', note: 'window open', seconds: 600, clientToken: 'c-1' }))).toEqual({
      success: true,
      command: { action: 'snooze', ruleId: 'overheat', note: 'window open', seconds: 600, clientToken: 'c-1' },
    });
  });

  it.each([
    [[0xff, 0xfe], 'payload: not UTF-8 text'],
    ['not json', 'payload: not JSON'],
    ['[1]', 'payload: not a JSON object'],
    [{ ruleId: 'overheat' }, 'action: required'],
    [{ action: 'silence', ruleId: 'overheat' }, 'action: must be one of acknowledge, snooze, disable, enable, reset'],
    [{ action: 'acknowledge' }, 'ruleId: required'],
    [{ action: 'acknowledge', ruleId: 'a b' }, 'ruleId: must be 1 to 64 of [A-Za-z0-9_.-]'],
    [{ action: 'acknowledge', ruleId: 'r', note: 'x'.repeat(1_001) }, 'note: at most 1000 characters'],
    [{ action: 'snooze', ruleId: 'r' }, 'seconds: required for snooze'],
    [{ action: 'snooze', ruleId: 'r', seconds: 1.5 }, 'seconds: must be a whole number from 1 to 2592000'],
    [{ action: 'disable', ruleId: 'r', seconds: 10 }, 'seconds: only for snooze'],
    [{ action: 'disable', ruleId: 'r', by: 'someone-else' }, 'unknown key "by"'],
    [{ action: 'disable', ruleId: 'r', by: 'someone-else', at: 1 }, 'unknown keys "by", "at"'],
    [{ action: 'disable', ruleId: 'r', clientToken: '' }, 'clientToken: must be a string of 1 to 64 characters'],
    [{ action: 'disable', ruleId: 'r', clientToken: 7 }, 'clientToken: must be a string of 1 to 64 characters'],
    [{ action: 'acknowledge', ruleId: 'r', note: 42 }, 'note: must be a string'],
  ])('refuses %j: %s', (input, reason) => {
    const result = parseAlarmCommand(Array.isArray(input) ? new Uint8Array(input as number[]) : bytes(input));

    expect(result).toMatchObject({ success: false, refusal: { reason } });
  });

  it('keeps the clientToken, rule and action of a refused command so the refusal can echo them', () => {
    expect(parseAlarmCommand(bytes({ action: 'snooze', ruleId: 'overheat', clientToken: 'c-9' }))).toEqual({
      success: false,
      refusal: { reason: 'seconds: required for snooze', ruleId: 'overheat', action: 'snooze', clientToken: 'c-9' },
    });
  });

  it('accepts a note of exactly 1,000 characters', () => {
    expect(parseAlarmCommand(bytes({ action: 'acknowledge', ruleId: 'r', note: 'x'.repeat(1_000) })).success).toBe(true);
  });
});
