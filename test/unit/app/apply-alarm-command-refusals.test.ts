import { describe, expect, it } from 'vitest';
import {
  CapturingLog,
  CountingMetrics,
  FakeClock,
  InMemoryAlarmHistory,
  InMemoryAlarmStateStore,
  RecordingCommandReplies,
  RecordingNotifier,
} from '../../../lambdas/adapters/memory/index.js';
import type { AlarmCommandsDeps } from '../../../lambdas/alarm-commands/alarm-commands-handler.js';
import { applyAlarmCommand, type AlarmCommandEnvelope } from '../../../lambdas/app/apply-alarm-command.js';
import { evaluateAlarms } from '../../../lambdas/app/evaluate-alarms.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import { BASE_TIME, makeRecord } from '../../fixtures/domain/records.js';

const rules = parseThresholds({
  rules: [{ id: 'overheat', metric: 'temperature', when: { above: 80 }, clear: { below: 75 }, severity: 'critical' }],
});

function setup() {
  const states = new InMemoryAlarmStateStore();
  const replies = new RecordingCommandReplies();
  const log = new CapturingLog();
  const deps: AlarmCommandsDeps = {
    rules,
    states,
    notifier: new RecordingNotifier(),
    history: new InMemoryAlarmHistory(),
    replies,
    metrics: new CountingMetrics(),
    log,
    clock: new FakeClock(BASE_TIME + 10_000),
  };
  return { states, replies, log, deps };
}

function envelope(command: unknown, extra: Partial<AlarmCommandEnvelope> = {}): AlarmCommandEnvelope {
  return { payload: Buffer.from(JSON.stringify(command)).toString('base64'), deviceId: 'd1', clientId: 'operator-1', receivedAt: BASE_TIME + 5_000, ...extra };
}

async function hotReading(deps: AlarmCommandsDeps): Promise<void> {
  await evaluateAlarms([makeRecord({ deviceId: 'd1', payload: { ts: BASE_TIME, metrics: { temperature: 90 } } })], deps);
}

describe('applyAlarmCommand refuses what it cannot attribute or place', () => {
  it('refuses a command published on a topic whose device id is not a valid one', async () => {
    const { deps } = setup();

    const result = await applyAlarmCommand(envelope({ action: 'acknowledge', ruleId: 'overheat' }, { deviceId: 'not a device' }), deps);

    expect(result).toMatchObject({ outcome: 'rejected', body: { reason: 'topic: the deviceId must be 1 to 128 of [A-Za-z0-9_:-]' } });
  });

  it('refuses a command from a publisher without a client id, since the command would have no author', async () => {
    const { deps } = setup();

    const result = await applyAlarmCommand(envelope({ action: 'acknowledge', ruleId: 'overheat' }, { clientId: '' }), deps);

    expect(result).toMatchObject({ outcome: 'rejected', body: { reason: 'the publisher has no client id' } });
  });

  it('refuses a command for a rule the file does not have, with no state in the answer', async () => {
    const { deps } = setup();
    await hotReading(deps);

    const result = await applyAlarmCommand(envelope({ action: 'acknowledge', ruleId: 'flooded' }), deps);

    expect(result).toEqual({ outcome: 'rejected', body: { deviceId: 'd1', ruleId: 'flooded', action: 'acknowledge', reason: 'unknown rule "flooded"' } });
  });

  it('warns and decides on a fresh state when the stored one cannot be read', async () => {
    const { deps, states, log } = setup();
    await hotReading(deps);
    const record = states.get('d1');
    if (record === undefined) throw new Error('the reading stored no alarm state');
    expect(await states.save({ ...record, version: record.version + 1, state: { v: 99 } }, record.version)).toBe(true);

    const result = await applyAlarmCommand(envelope({ action: 'acknowledge', ruleId: 'overheat' }), deps);

    expect(result).toMatchObject({ outcome: 'rejected', body: { state: 'OK' } });
    expect(log.at('warn').map((entry) => [entry.message, entry.extra])).toEqual([['stored alarm state unreadable, started afresh', { deviceId: 'd1' }]]);
  });
});
