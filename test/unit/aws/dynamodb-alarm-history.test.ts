import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbAlarmHistory, DynamoDbAlarmReader, historyNotifier } from '../../../lambdas/adapters/aws/dynamodb-alarm-history.js';
import { DynamoDbAlarmStateStore, alarmStateDocumentClient } from '../../../lambdas/adapters/aws/dynamodb-alarm-state.js';
import { ALARM_HISTORY_TABLE_KEYS, ALARM_STATE_TABLE_KEYS } from '../../../lambdas/adapters/aws/dynamodb-readings-schema.js';
import { fanOutNotifier } from '../../../lambdas/adapters/fan-out-notifier.js';
import { CapturingLog, CountingMetrics, FakeClock, RecordingCommandReplies, RecordingNotifier } from '../../../lambdas/adapters/memory/index.js';
import { makeAlarmCommandsHandler } from '../../../lambdas/alarm-commands/alarm-commands-handler.js';
import { checkSilence } from '../../../lambdas/app/check-silence.js';
import { evaluateAlarms } from '../../../lambdas/app/evaluate-alarms.js';
import type { AlarmEvent } from '../../../lambdas/domain/model.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import { startDynalite, type Dynalite } from '../../helpers/dynalite.js';
import { BASE_TIME, makeRecord } from '../../fixtures/domain/records.js';

// The alarm history, the alarm reader and the command path against dynalite (a real DynamoDB on
// 127.0.0.1), with tables made from the key schemas the stack deploys: the conditional writes, the
// wake index Query and the filtered Scan run as DynamoDB runs them.

const rules = parseThresholds({
  rules: [
    { id: 'overheat', metric: 'temperature', when: { above: 80 }, clear: { below: 75 }, remindEvery: { seconds: 60 }, severity: 'critical' },
    { id: 'battery-low', metric: 'battery', when: { below: 3.3 }, severity: 'warning' },
  ],
});

let db: Dynalite;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.stop();
});

async function arrange() {
  const documents: DynamoDBDocumentClient = alarmStateDocumentClient(db.client);
  const stateTableName = await db.createTable(ALARM_STATE_TABLE_KEYS);
  const historyTableName = await db.createTable(ALARM_HISTORY_TABLE_KEYS);
  const history = new DynamoDbAlarmHistory({ client: documents, tableName: historyTableName, ttlDays: 90 });
  const published = new RecordingNotifier();
  const replies = new RecordingCommandReplies();
  const clock = new FakeClock(BASE_TIME);
  const deps = {
    rules,
    states: new DynamoDbAlarmStateStore({ client: documents, tableName: stateTableName }),
    notifier: fanOutNotifier([published, historyNotifier(history)]),
    history,
    replies,
    clock,
    metrics: new CountingMetrics(),
    log: new CapturingLog(),
  };
  const reader = new DynamoDbAlarmReader({ client: documents, stateTableName, historyTableName, rules });
  const read = (deviceId: string, at: number, metrics: Record<string, number>) =>
    evaluateAlarms([makeRecord({ deviceId, payload: { ts: BASE_TIME + at, type: 't', metrics } })], deps);
  const send = makeAlarmCommandsHandler(deps);
  const command = (deviceId: string, body: object, at: number, by = 'operator-1') =>
    send({ payload: Buffer.from(JSON.stringify(body)).toString('base64'), deviceId, clientId: by, receivedAt: BASE_TIME + at });
  return { deps, reader, history, published, replies, clock, read, command };
}

const transition = (event: AlarmEvent, ts = event.ts): AlarmEvent => ({ ...event, ts });

describe('DynamoDbAlarmHistory over dynalite', () => {
  it('keeps an entry recorded twice once, and gives a device its history newest first, by rule and limited', async () => {
    const { history, reader, read, command } = await arrange();
    await read('d1', 0, { temperature: 90, battery: 3.0 });
    await command('d1', { action: 'acknowledge', ruleId: 'overheat', note: 'checking' }, 1_000);
    await command('d1', { action: 'acknowledge', ruleId: 'overheat', note: 'checking' }, 1_000);

    const all = await reader.history({ deviceId: 'd1' });
    const [first] = all;
    if (first?.kind === 'transition') await history.record([{ kind: 'transition', event: transition(first.event) }]);

    expect(all.map((e) => (e.kind === 'command' ? `command ${e.command.action} ${e.command.outcome}` : `${e.event.ruleId} ${e.event.state}`))).toEqual([
      // At one time, the transition a command caused is the newer of the two.
      'overheat ACKNOWLEDGED',
      'command acknowledge accepted',
      'overheat ALARM',
      'battery-low ALARM',
    ]);
    expect(await reader.history({ deviceId: 'd1' })).toEqual(all);
    expect((await reader.history({ deviceId: 'd1', ruleId: 'battery-low' })).map((e) => e.kind)).toEqual(['transition']);
    expect(await reader.history({ deviceId: 'd1', limit: 2 })).toEqual(all.slice(0, 2));
    expect(await reader.history({ deviceId: 'other' })).toEqual([]);
  });

  it('lists the alarms not at rest, filtered by state and device, through a filtered Scan', async () => {
    const { reader, read, command } = await arrange();
    await read('d1', 0, { temperature: 90 });
    await read('d2', 0, { temperature: 90, battery: 3.0 });
    await read('d3', 0, { temperature: 20 });
    await command('d2', { action: 'snooze', ruleId: 'overheat', seconds: 600 }, 1_000, 'bob');

    const all = await reader.listAlarms();

    expect(all.map((a) => `${a.alarmId} ${a.state} ${a.by ?? '-'}`)).toEqual(['d1/overheat ALARM -', 'd2/overheat SNOOZED bob', 'd2/battery-low ALARM -']);
    expect((await reader.listAlarms({ state: 'SNOOZED' })).map((a) => a.alarmId)).toEqual(['d2/overheat']);
    expect((await reader.listAlarms({ deviceId: 'd1' })).map((a) => a.alarmId)).toEqual(['d1/overheat']);
  });
});

describe('alarm state writes over dynalite', () => {
  it('skips the write while only lastSeen moves within the bound, and writes once it moves past it or an alarm changes', async () => {
    const { deps, read } = await arrange();
    const version = async (): Promise<number | undefined> => (await deps.states.load('d1'))?.version;

    await read('d1', 0, { temperature: 20, battery: 3.9 });
    await read('d1', 30_000, { temperature: 21, battery: 3.9 });
    await read('d1', 60_000, { temperature: 22, battery: 3.9 });
    const afterQuiet = await version();
    await read('d1', 60_001, { temperature: 90, battery: 3.9 });
    const afterRaise = await version();
    await read('d1', 200_000, { temperature: 90, battery: 3.9 });

    // No silentFor rule: B is 60 s, and 60 s is not more than B. A raise is two writes (state with
    // its outbox, then the outbox cleared once published).
    expect([afterQuiet, afterRaise, await version()]).toEqual([1, 3, 4]);
    expect((await deps.states.load('d1'))?.lastSeen).toBe(BASE_TIME + 200_000);
  });
});

describe('the command path and the offline check over dynalite', () => {
  it('finds a snooze that ended through the wake index and ends it once', async () => {
    const { deps, published, read, command, clock } = await arrange();
    await read('d1', 0, { temperature: 90 });
    await command('d1', { action: 'snooze', ruleId: 'overheat', seconds: 60 }, 1_000);

    clock.set(BASE_TIME + 30_000);
    expect(await checkSilence(deps)).toEqual({ checked: 0, raised: 0, deferred: 0, failed: [] });
    clock.set(BASE_TIME + 61_000);
    expect(await checkSilence(deps)).toMatchObject({ checked: 1, failed: [] });
    expect(await checkSilence(deps)).toMatchObject({ checked: 0 });

    expect(published.events.map((e) => `${e.previousState}->${e.state}`)).toEqual(['OK->ALARM', 'ALARM->SNOOZED', 'SNOOZED->OK']);
  });

  it('reminds an unacknowledged alarm from the offline check once per interval, and never after an acknowledge', async () => {
    const { deps, published, read, command, clock } = await arrange();
    await read('d1', 0, { temperature: 90 });

    clock.set(BASE_TIME + 60_000);
    await checkSilence(deps);
    await checkSilence(deps);
    await command('d1', { action: 'acknowledge', ruleId: 'overheat' }, 61_000);
    clock.set(BASE_TIME + 600_000);
    await checkSilence(deps);

    expect(published.events.map((e) => `${e.state}${e.reminder === true ? ' reminder' : ''}`)).toEqual(['ALARM', 'ALARM reminder', 'ACKNOWLEDGED']);
  });

  it('answers a command about a device the table has never seen on rejected, and one replayed once', async () => {
    const { replies, published, read, command } = await arrange();
    await read('d1', 0, { temperature: 90 });

    await command('ghost', { action: 'disable', ruleId: 'overheat' }, 1_000);
    await command('d1', { action: 'disable', ruleId: 'overheat' }, 2_000);
    await command('d1', { action: 'disable', ruleId: 'overheat' }, 2_000);

    expect(replies.replies.map((r) => `${r.deviceId} ${r.outcome} ${r.body.state ?? '-'}`)).toEqual(['ghost rejected -', 'd1 accepted DISABLED', 'd1 accepted DISABLED']);
    expect(published.events.map((e) => e.state)).toEqual(['ALARM', 'DISABLED']);
  });
});
