import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSilence } from '../../lambdas/app/check-silence.js';
import { evaluateAlarms } from '../../lambdas/app/evaluate-alarms.js';
import { makeRecord } from '../fixtures/domain/records.js';
import { CapturingLog, CountingMetrics, FakeClock, RecordingNotifier } from '../../lambdas/adapters/memory/index.js';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbAlarmStateStore, WAKE_INDEX, alarmStateDocumentClient } from '../../lambdas/adapters/aws/dynamodb-alarm-state.js';
import { parseThresholds } from '../../lambdas/domain/thresholds.js';
import { ALARM_STATE_TABLE_KEYS } from '../../lambdas/adapters/aws/dynamodb-readings-schema.js';
import { startDynalite, type Dynalite } from '../helpers/dynalite.js';

const NOW = Date.UTC(2026, 11, 6, 6, 0, 0);
const rules = parseThresholds({ rules: [{ id: 'silent', when: { silentFor: { seconds: 300 } }, severity: 'major' }] });

describe('the offline check over DynamoDB (dynalite)', () => {
  let db: Dynalite;
  let table: string;

  beforeAll(async () => {
    db = await startDynalite();
    // The alarm-state table as the stack deploys it: deviceId, and the sparse wake index.
    table = 'alarm-state';
    await db.client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: ALARM_STATE_TABLE_KEYS.partitionKey.name, AttributeType: ALARM_STATE_TABLE_KEYS.partitionKey.type },
          { AttributeName: WAKE_INDEX.partitionKey, AttributeType: 'S' },
          { AttributeName: WAKE_INDEX.sortKey, AttributeType: 'N' },
        ],
        KeySchema: [{ AttributeName: ALARM_STATE_TABLE_KEYS.partitionKey.name, KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: WAKE_INDEX.name,
            KeySchema: [
              { AttributeName: WAKE_INDEX.partitionKey, KeyType: 'HASH' },
              { AttributeName: WAKE_INDEX.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  });
  afterAll(async () => db.stop());

  it('finds every silent device across 8 parallel segments and raises each once', async () => {
    const states = new DynamoDbAlarmStateStore({ client: alarmStateDocumentClient(db.client), tableName: table, scanSegments: 8 });
    const notifier = new RecordingNotifier();
    const deps = { rules, states, notifier, clock: new FakeClock(NOW), metrics: new CountingMetrics(), log: new CapturingLog() };
    // 300 devices through the alarms use case: every third last seen 10 minutes ago, the others a
    // minute ago. 'state' is a DynamoDB reserved word: the projection works only with placeholders.
    const silent: string[] = [];
    const records = Array.from({ length: 300 }, (_, i) => {
      const deviceId = `sensor-${String(i).padStart(5, '0')}`;
      const ts = i % 3 === 0 ? NOW - 600_000 : NOW - 60_000;
      if (i % 3 === 0) silent.push(deviceId);
      return makeRecord({ deviceId, payload: { ts, metrics: { temperature: 20 } }, receivedAt: ts });
    });
    expect((await evaluateAlarms(records, deps)).failed).toEqual([]);

    const listed = await states.listSeenBefore(NOW - 300_000 + 1);
    expect(listed.map((r) => r.deviceId).sort()).toEqual(silent);
    expect(listed.every((r) => r.version === 1 && r.outbox.length === 0 && r.lastSeen === NOW - 600_000)).toBe(true);

    const first = await checkSilence(deps);
    const again = await checkSilence(deps);

    expect(first).toEqual({ checked: 100, raised: 100, deferred: 0, failed: [] });
    expect(again).toEqual({ checked: 100, raised: 0, deferred: 0, failed: [] });
    expect(notifier.events.map((e) => e.deviceId).sort()).toEqual(silent);
    expect((await states.load(silent[0] as string))?.outbox).toEqual([]);
  });

  it('raises a metric gone quiet on devices that keep reporting, found through the wake index alone', async () => {
    const gpsRules = parseThresholds({ rules: [{ id: 'gps-lost', metric: 'lat', when: { metricSilentFor: { seconds: 300 } }, severity: 'minor' }] });
    const states = new DynamoDbAlarmStateStore({ client: alarmStateDocumentClient(db.client), tableName: table, scanSegments: 8 });
    const notifier = new RecordingNotifier();
    const clock = new FakeClock(NOW);
    const deps = { rules: gpsRules, states, notifier, clock, metrics: new CountingMetrics(), log: new CapturingLog() };
    // 20 trackers: GPS fixes 10 minutes ago, then a reading without them every minute (so none is a silent device).
    const trackers = Array.from({ length: 20 }, (_, i) => `tracker-${String(i).padStart(3, '0')}`);
    const records = trackers.flatMap((deviceId) => [
      makeRecord({ deviceId, payload: { ts: NOW - 600_000, metrics: { lat: 53.5, speed: 50 } }, receivedAt: NOW - 600_000 }),
      ...[9, 8, 7, 6, 5, 4, 3, 2, 1].map((minutes) =>
        makeRecord({ deviceId, payload: { ts: NOW - minutes * 60_000, metrics: { speed: 50 } }, receivedAt: NOW - minutes * 60_000 }),
      ),
    ]);
    expect((await evaluateAlarms(records, deps)).failed).toEqual([]);

    expect(await states.listSeenBefore(NOW - 300_000)).not.toEqual(expect.arrayContaining([expect.objectContaining({ deviceId: trackers[0] })]));
    const first = await checkSilence(deps);
    const again = await checkSilence(deps);

    expect(first).toEqual({ checked: 20, raised: 20, deferred: 0, failed: [] });
    expect(again).toEqual({ checked: 0, raised: 0, deferred: 0, failed: [] });
    expect(notifier.events.map((e) => [e.deviceId, e.ruleId, e.metric, e.state, e.threshold])).toEqual(
      expect.arrayContaining(trackers.map((deviceId) => [deviceId, 'gps-lost', 'lat', 'ALARM', 300])),
    );
    expect(notifier.events).toHaveLength(20);
  });
});
