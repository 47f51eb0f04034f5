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
import { makeAlarmCommandsHandler, type AlarmCommandsDeps } from '../../../lambdas/alarm-commands/alarm-commands-handler.js';
import { applyAlarmCommand, type AlarmCommandEnvelope } from '../../../lambdas/app/apply-alarm-command.js';
import { evaluateAlarms } from '../../../lambdas/app/evaluate-alarms.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { BASE_TIME, makeRecord } from '../../fixtures/domain/records.js';

const rules = parseThresholds({
  rules: [{ id: 'overheat', metric: 'temperature', when: { above: 80 }, clear: { below: 75 }, latch: true, severity: 'critical' }],
});

function setup() {
  const states = new InMemoryAlarmStateStore();
  const notifier = new RecordingNotifier();
  const history = new InMemoryAlarmHistory();
  const replies = new RecordingCommandReplies();
  const metrics = new CountingMetrics();
  const log = new CapturingLog();
  const clock = new FakeClock(BASE_TIME + 10_000);
  const deps: AlarmCommandsDeps = { rules, states, notifier, history, replies, metrics, log, clock };
  return { states, notifier, history, replies, metrics, log, clock, deps };
}

async function reading(deps: AlarmCommandsDeps, at: number, temperature: number): Promise<void> {
  await evaluateAlarms([makeRecord({ deviceId: 'd1', payload: { ts: BASE_TIME + at, metrics: { temperature } } })], deps);
}

function envelope(command: unknown, extra: Partial<AlarmCommandEnvelope> = {}): AlarmCommandEnvelope {
  const text = typeof command === 'string' ? command : JSON.stringify(command);
  return { payload: Buffer.from(text).toString('base64'), deviceId: 'd1', clientId: 'operator-1', receivedAt: BASE_TIME + 5_000, ...extra };
}

describe('applyAlarmCommand', () => {
  it('acknowledges an ALARM: one ACKNOWLEDGED event carrying by and note, the command in the history, an accepted reply', async () => {
    const { deps, notifier, history, replies, metrics } = setup();
    await reading(deps, 0, 90);

    const result = await applyAlarmCommand(envelope({ action: 'acknowledge', ruleId: 'overheat', note: 'on site', clientToken: 't-1' }), deps);

    expect(result).toEqual({ outcome: 'accepted', body: { clientToken: 't-1', deviceId: 'd1', ruleId: 'overheat', action: 'acknowledge', state: 'ACKNOWLEDGED' } });
    expect(notifier.events.map((e) => [e.previousState, e.state, e.action, e.by, e.note])).toEqual([
      ['OK', 'ALARM', null, null, null],
      ['ALARM', 'ACKNOWLEDGED', 'acknowledge', 'operator-1', 'on site'],
    ]);
    expect(replies.replies).toEqual([{ deviceId: 'd1', outcome: 'accepted', body: result.body }]);
    expect(history.entries).toEqual([
      {
        kind: 'command',
        command: {
          deviceId: 'd1', ruleId: 'overheat', action: 'acknowledge', by: 'operator-1', note: 'on site', seconds: null,
          clientToken: 't-1', at: BASE_TIME + 5_000, outcome: 'accepted', reason: null, state: 'ACKNOWLEDGED',
        },
      },
    ]);
    expect(metrics.total(METRIC.alarmCommands)).toBe(1);
  });

  it('answers a malformed command on rejected with the reason, and keeps it in the history', async () => {
    const { deps, replies, history, notifier } = setup();
    await reading(deps, 0, 20);

    await applyAlarmCommand(envelope('{"action":"acknowledge"'), deps);
    await applyAlarmCommand(envelope({ action: 'snooze', ruleId: 'overheat', clientToken: 'c-2' }), deps);

    expect(replies.replies.map((r) => [r.outcome, r.body])).toEqual([
      ['rejected', { deviceId: 'd1', ruleId: null, action: null, reason: 'payload: not JSON' }],
      ['rejected', { clientToken: 'c-2', deviceId: 'd1', ruleId: 'overheat', action: 'snooze', reason: 'seconds: required for snooze' }],
    ]);
    expect(history.entries.map((e) => e.kind === 'command' && e.command.outcome)).toEqual(['rejected', 'rejected']);
    expect(notifier.events).toEqual([]);
  });

  it('refuses a command that does not apply, saying why and the state it is in, and changes nothing', async () => {
    const { deps, replies, states } = setup();
    await reading(deps, 0, 20);
    const before = states.get('d1');

    await applyAlarmCommand(envelope({ action: 'acknowledge', ruleId: 'overheat' }), deps);
    await applyAlarmCommand(envelope({ action: 'acknowledge', ruleId: 'overheat' }, { deviceId: 'never-seen' }), deps);

    expect(replies.replies.map((r) => [r.deviceId, r.outcome, r.body.state, r.body.reason])).toEqual([
      ['d1', 'rejected', 'OK', 'cannot acknowledge overheat: it is OK (only an ALARM or a LATCHED alarm can be acknowledged)'],
      ['never-seen', 'rejected', undefined, 'device never-seen has no alarm state yet (it has sent no reading)'],
    ]);
    expect(states.get('d1')).toEqual(before);
  });

  it('emits one event for a command delivered twice (a retried invocation), and answers both', async () => {
    const { deps, replies, notifier } = setup();
    await reading(deps, 0, 90);
    const command = envelope({ action: 'disable', ruleId: 'overheat' });

    await applyAlarmCommand(command, deps);
    await applyAlarmCommand(command, deps);

    expect(notifier.events.map((e) => e.state)).toEqual(['ALARM', 'DISABLED']);
    expect(replies.replies.map((r) => [r.outcome, r.body.state])).toEqual([
      ['accepted', 'DISABLED'],
      ['accepted', 'DISABLED'],
    ]);
  });

  it('loses a race with the alarms consumer, reloads, and decides on the newer state', async () => {
    const { deps, states, notifier, replies } = setup();
    await reading(deps, 0, 90);
    // The alarms consumer clears the alarm while the command decides on the ALARM it loaded.
    states.beforeNextSave(async () => {
      await reading(deps, 1_000, 70);
    });

    await applyAlarmCommand(envelope({ action: 'acknowledge', ruleId: 'overheat' }), deps);

    expect(notifier.events.map((e) => `${e.previousState}->${e.state}`)).toEqual(['OK->ALARM', 'ALARM->LATCHED', 'LATCHED->OK']);
    expect(replies.replies.map((r) => [r.outcome, r.body.state])).toEqual([['accepted', 'OK']]);
  });

  it('throws a RetryableError before replying when the transition cannot be published; the retry publishes it once and replies', async () => {
    const { deps, notifier, replies } = setup();
    await reading(deps, 0, 90);
    notifier.failNext(1);
    const command = envelope({ action: 'acknowledge', ruleId: 'overheat' });

    await expect(applyAlarmCommand(command, deps)).rejects.toBeInstanceOf(RetryableError);
    expect(replies.replies).toEqual([]);
    await applyAlarmCommand(command, deps);

    expect(notifier.events.map((e) => e.state)).toEqual(['ALARM', 'ACKNOWLEDGED']);
    expect(replies.replies.map((r) => r.outcome)).toEqual(['accepted']);
  });

  it('takes who from the authenticated client id, never from the payload', async () => {
    const { deps, replies } = setup();
    await reading(deps, 0, 90);

    await applyAlarmCommand(envelope({ action: 'acknowledge', ruleId: 'overheat', by: 'ceo' }), deps);

    expect(replies.replies[0]).toMatchObject({ outcome: 'rejected', body: { reason: 'unknown key "by"' } });
  });
});

describe('makeAlarmCommandsHandler', () => {
  it('drops, with a log line, an event that is not the command rule envelope', async () => {
    const { deps, log, replies } = setup();
    const handle = makeAlarmCommandsHandler(deps);

    await handle({ payload: 'e30=', deviceId: 'd1' } as unknown as AlarmCommandEnvelope);

    expect(log.at('error').map((e) => [e.message, e.extra])).toEqual([
      ['alarm command event is not the command rule envelope, dropped', { problem: 'clientId: not a string' }],
    ]);
    expect(replies.replies).toEqual([]);
  });
});
