/**
 * The alarm lifecycle end to end on the local stack, over real MQTT: an operator's commands go
 * through the broker's ACL, the command rule (our IoT SQL), the local Lambda action and the
 * alarm-commands handler; replies come back on `cmd/fleet/alarms/{deviceId}/accepted|rejected`,
 * transitions on `alarms/fleet/{deviceId}`. A settable clock (commands are stamped with the rule's
 * `timestamp()`, readings carry their own `ts`) and explicit offline checks make time-dependent
 * cases (snooze, reminders) fast and deterministic: nothing sleeps, everything waits on a condition.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmEvent } from '../../lambdas/domain/model.js';
import { commandReplyTopic, commandTopic, pipeline, telemetryTopic } from '../../infra/pipeline.js';
import { sendAlarmCommand } from '../../infra/local/cli/alarm-command-client.js';
import type { CommandReply } from '../../infra/local/cli/alarm-command-client.js';
import type { AlarmCommand } from '../../lambdas/domain/alarm-command.js';
import { collect, eventually, startTestStack, type TestStack } from '../helpers/local-stack.js';

const THRESHOLDS = {
  rules: [
    { id: 'overheat', metric: 'temperature', when: { above: 80 }, clear: { below: 75 }, severity: 'critical' },
    { id: 'door-open', metric: 'door', when: { above: 0.5 }, latch: true, severity: 'major' },
    { id: 'pressure-high', metric: 'pressure', when: { above: 10 }, remindEvery: { seconds: 30 }, severity: 'minor' },
  ],
};

/** Ten minutes ago: readings may be at most 15 minutes ahead of the broker's own receive time. */
let now = Math.floor(Date.now() / 1000) * 1000 - 600_000;
const clock = { now: () => now };
/** Moves the stack's clock on, and returns the new time. */
const advance = (ms: number): number => (now += ms);

describe('the alarm lifecycle over MQTT on the local stack', () => {
  let t: TestStack;
  let operator: MqttClient;
  let events: ReturnType<typeof collect<AlarmEvent>>;
  const devices = new Map<string, MqttClient>();
  let seq = 0;

  beforeAll(async () => {
    // An hour between scheduled checks: the tests run them (stack.checkSilence) when time has moved.
    t = await startTestStack(THRESHOLDS, { clock, offlineCheckIntervalMs: 3_600_000, commandRetryDelaysMs: [50, 50] });
    operator = await t.connect('ops-1', { role: 'operator' });
    await operator.subscribeAsync(pipeline.topics.alarmsFilter, { qos: 1 });
    events = collect<AlarmEvent>(operator);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** One reading, 1 s after the previous moment, acknowledged by the broker (so it is on the stream). */
  const publish = async (deviceId: string, metrics: Record<string, number>): Promise<void> => {
    let device = devices.get(deviceId);
    if (device === undefined) {
      device = await t.connect(deviceId, { type: 'sensor' });
      devices.set(deviceId, device);
    }
    seq += 1;
    await device.publishAsync(telemetryTopic(deviceId), JSON.stringify({ ts: advance(1_000), seq, metrics }), { qos: 1 });
  };

  /** The events about one alarm so far. */
  const eventsOf = (alarmId: string): AlarmEvent[] => events.messages.filter((e) => e.alarmId === alarmId);
  /** Waits until the alarm has had `count` events, and returns them. */
  const waitForEvents = (alarmId: string, count: number): Promise<AlarmEvent[]> =>
    eventually(() => (eventsOf(alarmId).length >= count ? eventsOf(alarmId) : undefined), 10_000, `${count} events of ${alarmId} (have ${JSON.stringify(eventsOf(alarmId))})`);
  /** Every alarm event published so far is in: the consumers are idle and the broker has delivered. */
  const settle = async (): Promise<void> => {
    await t.stack.whenIdle();
    await t.stack.commandsSettled();
    // A round trip with the broker after its last publish: the SUBACK comes after what the broker
    // wrote to this connection before it, so the operator has received all of that.
    await operator.subscribeAsync(pipeline.topics.alarmsFilter, { qos: 1 });
  };
  const command = (deviceId: string, c: AlarmCommand): Promise<CommandReply> => {
    advance(1_000);
    return sendAlarmCommand(operator, deviceId, c, { timeoutMs: 10_000 });
  };
  const transitions = (alarmId: string): string[] => eventsOf(alarmId).map((e) => `${e.previousState}->${e.state}${e.action === null ? '' : ` (${e.action})`}`);

  it('raises an overheat, takes an operator\'s acknowledgement with a note, and clears to OK', async () => {
    await publish('oven-1', { temperature: 90 });
    const [raised] = await waitForEvents('oven-1/overheat', 1);
    expect(raised).toMatchObject({ state: 'ALARM', previousState: 'OK', action: null, by: null, note: null, value: 90 });

    const reply = await command('oven-1', { action: 'acknowledge', ruleId: 'overheat', note: 'fan replaced, watching it', clientToken: 'ack-1' });
    expect(reply.outcome).toBe('accepted');
    expect(reply.body).toMatchObject({ clientToken: 'ack-1', deviceId: 'oven-1', ruleId: 'overheat', action: 'acknowledge', state: 'ACKNOWLEDGED' });
    const [, acknowledged] = await waitForEvents('oven-1/overheat', 2);
    expect(acknowledged).toMatchObject({ state: 'ACKNOWLEDGED', previousState: 'ALARM', action: 'acknowledge', by: 'ops-1', note: 'fan replaced, watching it' });

    // Still in breach: it stays acknowledged and is not raised again.
    await publish('oven-1', { temperature: 88 });
    await publish('oven-1', { temperature: 70 });
    const all = await waitForEvents('oven-1/overheat', 3);
    expect(all[2]).toMatchObject({ state: 'OK', previousState: 'ACKNOWLEDGED', action: null, by: null });
    await settle();
    expect(transitions('oven-1/overheat')).toEqual(['OK->ALARM', 'ALARM->ACKNOWLEDGED (acknowledge)', 'ACKNOWLEDGED->OK']);
  });

  it('keeps a latching alarm that cleared unacknowledged LATCHED until an operator acknowledges it', async () => {
    await publish('door-1', { door: 1 });
    await publish('door-1', { door: 0 });
    await waitForEvents('door-1/door-open', 2);
    await publish('door-1', { door: 0 });
    await settle();
    expect(transitions('door-1/door-open')).toEqual(['OK->ALARM', 'ALARM->LATCHED']);

    const reply = await command('door-1', { action: 'acknowledge', ruleId: 'door-open', note: 'closed it' });
    expect(reply).toMatchObject({ outcome: 'accepted', body: { state: 'OK' } });
    const events3 = await waitForEvents('door-1/door-open', 3);
    expect(events3[2]).toMatchObject({ previousState: 'LATCHED', state: 'OK', action: 'acknowledge', by: 'ops-1', note: 'closed it' });
  });

  it('swallows a breach while snoozed and raises it again once the snooze has ended', async () => {
    await publish('oven-2', { temperature: 20 });
    const reply = await command('oven-2', { action: 'snooze', ruleId: 'overheat', seconds: 60, note: 'maintenance' });
    expect(reply).toMatchObject({ outcome: 'accepted', body: { state: 'SNOOZED' } });
    await waitForEvents('oven-2/overheat', 1);

    await publish('oven-2', { temperature: 95 });
    await settle();
    expect(eventsOf('oven-2/overheat').map((e) => e.state)).toEqual(['SNOOZED']);
    expect(eventsOf('oven-2/overheat')[0]).toMatchObject({ action: 'snooze', by: 'ops-1', note: 'maintenance' });

    advance(60_000);
    await publish('oven-2', { temperature: 96 });
    const after = await eventually(
      () => (eventsOf('oven-2/overheat').some((e) => e.state === 'ALARM') ? eventsOf('oven-2/overheat') : undefined),
      10_000,
      'the breach raised again after the snooze',
    );
    expect(after.at(-1)).toMatchObject({ state: 'ALARM', value: 96 });
  });

  it('raises nothing for a disabled rule, and evaluates afresh once enabled', async () => {
    // A device has alarm state from its first reading on: commands about one never seen are refused.
    await publish('oven-3', { temperature: 20 });
    const disabled = await command('oven-3', { action: 'disable', ruleId: 'overheat', note: 'sensor being replaced' });
    expect(disabled).toMatchObject({ outcome: 'accepted', body: { state: 'DISABLED' } });
    await publish('oven-3', { temperature: 99 });
    await publish('oven-3', { temperature: 20 });
    await publish('oven-3', { temperature: 99 });
    await settle();
    expect(eventsOf('oven-3/overheat').map((e) => e.state)).toEqual(['DISABLED']);

    const enabled = await command('oven-3', { action: 'enable', ruleId: 'overheat' });
    expect(enabled).toMatchObject({ outcome: 'accepted', body: { state: 'OK' } });
    await publish('oven-3', { temperature: 99 });
    await waitForEvents('oven-3/overheat', 3);
    expect(transitions('oven-3/overheat')).toEqual(['OK->DISABLED (disable)', 'DISABLED->OK (enable)', 'OK->ALARM']);
  });

  it('resets an alarm to OK at once', async () => {
    await publish('oven-4', { temperature: 85 });
    await waitForEvents('oven-4/overheat', 1);

    const reply = await command('oven-4', { action: 'reset', ruleId: 'overheat', note: 'false alarm' });
    expect(reply).toMatchObject({ outcome: 'accepted', body: { state: 'OK' } });
    const [, reset] = await waitForEvents('oven-4/overheat', 2);
    expect(reset).toMatchObject({ previousState: 'ALARM', state: 'OK', action: 'reset', by: 'ops-1', note: 'false alarm' });
  });

  it('reminds every interval while unacknowledged, once per interval even when the check runs twice, and not after the acknowledgement', async () => {
    await publish('tank-1', { pressure: 12 });
    await waitForEvents('tank-1/pressure-high', 1);
    const reminders = () => eventsOf('tank-1/pressure-high').filter((e) => e.reminder === true);

    advance(30_000);
    await t.stack.checkSilence();
    await t.stack.checkSilence();
    await waitForEvents('tank-1/pressure-high', 2);
    advance(30_000);
    await t.stack.checkSilence();
    await waitForEvents('tank-1/pressure-high', 3);
    await settle();
    expect(reminders()).toHaveLength(2);
    expect(reminders()[0]).toMatchObject({ state: 'ALARM', action: 'reminder', reminder: true, by: null });

    await command('tank-1', { action: 'acknowledge', ruleId: 'pressure-high' });
    await waitForEvents('tank-1/pressure-high', 4);
    advance(90_000);
    await t.stack.checkSilence();
    await settle();
    expect(reminders()).toHaveLength(2);
    expect(eventsOf('tank-1/pressure-high').at(-1)).toMatchObject({ state: 'ACKNOWLEDGED', action: 'acknowledge' });
  });

  it('refuses a device\'s command: its connection is closed and nothing changes', async () => {
    await publish('oven-5', { temperature: 90 });
    await waitForEvents('oven-5/overheat', 1);
    const device = devices.get('oven-5') as MqttClient;
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));

    device.publish(commandTopic('oven-5'), JSON.stringify({ action: 'reset', ruleId: 'overheat' }), { qos: 1 });
    await closed;
    devices.delete('oven-5');
    await settle();

    expect(eventsOf('oven-5/overheat').map((e) => e.state)).toEqual(['ALARM']);
    expect(t.stack.store.queryAlarmStates({ deviceId: 'oven-5' })).toMatchObject([{ state: 'ALARM' }]);
  });

  it('answers a malformed command on rejected with a reason', async () => {
    await publish('oven-6', { temperature: 20 });
    const rejected = new Promise<[string, Record<string, unknown>]>((resolve) => {
      const onMessage = (topic: string, payload: Buffer) => {
        if (topic !== commandReplyTopic('oven-6', 'rejected')) return;
        operator.off('message', onMessage);
        resolve([topic, JSON.parse(payload.toString()) as Record<string, unknown>]);
      };
      operator.on('message', onMessage);
    });
    await operator.subscribeAsync(commandReplyTopic('oven-6', 'rejected'), { qos: 1 });

    await operator.publishAsync(commandTopic('oven-6'), 'acknowledge everything, please', { qos: 1 });

    const [, body] = await rejected;
    expect(body).toMatchObject({ deviceId: 'oven-6', reason: expect.any(String) });
    expect(String(body.reason)).not.toBe('');
    const unknownAction = await sendAlarmCommand(operator, 'oven-6', { action: 'silence' as never, ruleId: 'overheat', clientToken: 'bad-1' });
    expect(unknownAction).toMatchObject({ outcome: 'rejected', body: { clientToken: 'bad-1', reason: expect.stringMatching(/action/) } });
    const notApplicable = await command('oven-6', { action: 'acknowledge', ruleId: 'overheat', clientToken: 'bad-2' });
    expect(notApplicable).toMatchObject({ outcome: 'rejected', body: { clientToken: 'bad-2', reason: expect.any(String) } });
    const unknownRule = await command('oven-6', { action: 'reset', ruleId: 'no-such-rule', clientToken: 'bad-3' });
    expect(unknownRule).toMatchObject({ outcome: 'rejected', body: { clientToken: 'bad-3', reason: expect.stringMatching(/rule/) } });
    const neverSeen = await command('oven-never', { action: 'disable', ruleId: 'overheat', clientToken: 'bad-4' });
    expect(neverSeen).toMatchObject({ outcome: 'rejected', body: { clientToken: 'bad-4', reason: expect.stringMatching(/no alarm state/) } });
    // Nothing it refused changed anything.
    await settle();
    expect(eventsOf('oven-6/overheat')).toEqual([]);
  });

  it('emits one event for a command replayed twice', async () => {
    await publish('oven-7', { temperature: 91 });
    await waitForEvents('oven-7/overheat', 1);
    const replies: string[] = [];
    const onMessage = (topic: string, payload: Buffer) => {
      if (topic.startsWith(commandTopic('oven-7'))) replies.push(`${topic.split('/').at(-1)} ${payload.toString()}`);
    };
    operator.on('message', onMessage);
    await operator.subscribeAsync([commandReplyTopic('oven-7', 'accepted'), commandReplyTopic('oven-7', 'rejected')], { qos: 1 });
    const payload = JSON.stringify({ action: 'acknowledge', ruleId: 'overheat', note: 'seen', clientToken: 'replayed-1' });
    advance(1_000);

    await operator.publishAsync(commandTopic('oven-7'), payload, { qos: 1 });
    await operator.publishAsync(commandTopic('oven-7'), payload, { qos: 1 });
    await eventually(() => (replies.length >= 2 ? replies : undefined), 10_000, 'a reply to each copy');
    await settle();
    operator.off('message', onMessage);

    expect(eventsOf('oven-7/overheat').map((e) => e.state)).toEqual(['ALARM', 'ACKNOWLEDGED']);
    expect(replies[0]).toMatch(/^accepted /);
  });
});
