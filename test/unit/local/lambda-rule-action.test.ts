import { describe, expect, it } from 'vitest';
import { pipeline } from '../../../infra/pipeline.js';
import { makeLambdaRuleAction } from '../../../infra/local/lambda-rule-action.js';
import type { Log } from '../../../lambdas/ports/observability.js';

interface Envelope {
  payload: string;
  deviceId: string;
  clientId: string;
  receivedAt: number;
}

function recordingLog(): Log & { lines: { level: string; message: string; extra?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => void lines.push({ level, message, ...(extra === undefined ? {} : { extra }) });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('the local Lambda rule action (the alarm command rule)', () => {
  const clock = { now: () => 1_764_028_800_123 };

  it('invokes the function with exactly the envelope the command rule selects, a non-JSON payload included', async () => {
    const events: Envelope[] = [];
    const action = makeLambdaRuleAction<Envelope>({ sql: pipeline.commandRule.sql, functionName: 'f', log: recordingLog(), clock, invoke: async (e) => void events.push(e) });

    expect(action.route({ topic: 'cmd/fleet/alarms/sensor-0001', payload: Buffer.from('{"action":"reset","ruleId":"overheat"}'), clientId: 'ops' })).toBe(true);
    expect(action.route({ topic: 'cmd/fleet/alarms/d2', payload: Buffer.from([0xff, 0x00, 0x41]), clientId: 'ops' })).toBe(true);
    await action.settled();

    expect(events).toEqual([
      { payload: Buffer.from('{"action":"reset","ruleId":"overheat"}').toString('base64'), deviceId: 'sensor-0001', clientId: 'ops', receivedAt: 1_764_028_800_123 },
      { payload: Buffer.from([0xff, 0x00, 0x41]).toString('base64'), deviceId: 'd2', clientId: 'ops', receivedAt: 1_764_028_800_123 },
    ]);
  });

  it('does not match its own replies, telemetry or alarm events (no loop)', async () => {
    let invoked = 0;
    const action = makeLambdaRuleAction<Envelope>({ sql: pipeline.commandRule.sql, functionName: 'f', log: recordingLog(), clock, invoke: async () => void (invoked += 1) });

    for (const topic of ['cmd/fleet/alarms/d1/accepted', 'cmd/fleet/alarms/d1/rejected', 'dt/fleet/d1/telemetry', 'alarms/fleet/d1']) {
      expect(action.route({ topic, payload: Buffer.from('{}'), clientId: 'ops' }), topic).toBe(false);
    }
    await action.settled();
    expect(invoked).toBe(0);
  });

  it('retries a failing function twice, as an asynchronous Lambda invocation, then drops the event and logs it', async () => {
    const log = recordingLog();
    let attempts = 0;
    const action = makeLambdaRuleAction<Envelope>({
      sql: pipeline.commandRule.sql, functionName: 'alarm-commands', log, clock, retryDelaysMs: [1, 1],
      invoke: async () => {
        attempts += 1;
        throw new Error('store unavailable');
      },
    });

    action.route({ topic: 'cmd/fleet/alarms/d1', payload: Buffer.from('{}'), clientId: 'ops' });
    await action.settled();

    expect(attempts).toBe(3);
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
    expect(log.lines.at(-1)).toMatchObject({ level: 'error', message: expect.stringMatching(/dropped/), extra: { functionName: 'alarm-commands', attempts: 3, error: 'Error: store unavailable' } });
  });

  it('stops retrying once an attempt succeeds', async () => {
    const log = recordingLog();
    let attempts = 0;
    const action = makeLambdaRuleAction<Envelope>({
      sql: pipeline.commandRule.sql, functionName: 'f', log, clock, retryDelaysMs: [1, 1],
      invoke: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('conflict');
      },
    });

    action.route({ topic: 'cmd/fleet/alarms/d1', payload: Buffer.from('{}'), clientId: 'ops' });
    await action.settled();

    expect(attempts).toBe(2);
    expect(log.lines.map((l) => l.level)).toEqual(['warn']);
  });
});
