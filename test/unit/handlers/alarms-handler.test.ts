import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbAlarmStateStore, alarmStateDocumentClient } from '../../../lambdas/adapters/aws/dynamodb-alarm-state.js';
import { IotDataNotifier } from '../../../lambdas/adapters/aws/iot-data-notifier.js';
import { SnsNotifier } from '../../../lambdas/adapters/aws/sns-notifier.js';
import { fanOutNotifier } from '../../../lambdas/adapters/fan-out-notifier.js';
import { CapturingLog, CountingMetrics } from '../../../lambdas/adapters/memory/index.js';
import { makeAlarmsHandler } from '../../../lambdas/alarms/alarms-handler.js';
import type { AlarmEvent } from '../../../lambdas/domain/model.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { installAlarmTable } from '../../fixtures/aws/dynamodb-table.js';
import { sequenceNumber, telemetryEvent } from '../../fixtures/aws/kinesis-events.js';

const iot = mockClient(IoTDataPlaneClient);
const sns = mockClient(SNSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:fleet-telemetry-alarms';
const rules = parseThresholds(JSON.parse(readFileSync(new URL('../../fixtures/aws/thresholds.json', import.meta.url), 'utf8')));
const T = 1_764_028_800_000;

function arrange() {
  const table = installAlarmTable(dynamo);
  const metrics = new CountingMetrics();
  const handle = makeAlarmsHandler({
    rules,
    states: new DynamoDbAlarmStateStore({ client: alarmStateDocumentClient(new DynamoDBClient({})), tableName: 'alarm-state' }),
    notifier: fanOutNotifier([
      new IotDataNotifier({ client: new IoTDataPlaneClient({}) }),
      new SnsNotifier({ client: new SNSClient({}), topicArn: TOPIC_ARN }),
    ]),
    metrics,
    log: new CapturingLog(),
  });
  return { handle, table, metrics };
}

/** Every alarm event published on IoT, in order. */
function iotEvents(): AlarmEvent[] {
  return iot
    .commandCalls(PublishCommand)
    .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.payload as Uint8Array)) as AlarmEvent);
}

function snsEvents(): AlarmEvent[] {
  return sns
    .commandCalls(PublishBatchCommand)
    .flatMap((call) => call.args[0].input.PublishBatchRequestEntries ?? [])
    .map((entry) => JSON.parse(entry.Message ?? '') as AlarmEvent);
}

function reading(offsetMs: number, seq: number, temperature: number): object {
  return { ts: T + offsetMs, seq, type: 'env-sensor', metrics: { temperature } };
}

describe('alarms handler on AWS adapters', () => {
  beforeEach(() => {
    iot.reset();
    sns.reset();
    dynamo.reset();
    iot.on(PublishCommand).resolves({});
    sns.on(PublishBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it('raises one alarm, published on IoT and SNS, and a replay of the same event publishes nothing more', async () => {
    const { handle, metrics } = arrange();
    const event = telemetryEvent('sensor-0001', [reading(0, 1, 81), reading(1000, 2, 83.1)]);

    const first = await handle(event);
    const replay = await handle(structuredClone(event));

    expect([first, replay]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(iotEvents()).toEqual([
      {
        alarmId: 'sensor-0001/overheat',
        deviceId: 'sensor-0001',
        ruleId: 'overheat',
        metric: 'temperature',
        state: 'ALARM',
        previousState: 'OK',
        severity: 'critical',
        value: 83.1,
        threshold: 80,
        ts: T + 1000,
        action: null,
        by: null,
        note: null,
      },
    ]);
    expect(iot.commandCalls(PublishCommand)[0]?.args[0].input).toMatchObject({ topic: 'alarms/fleet/sensor-0001', qos: 1 });
    expect(snsEvents()).toEqual(iotEvents());
    expect(metrics.total(METRIC.alarmsRaised)).toBe(1);
  });

  it('ignores a late reading older than the state it would flip, and clears on a newer one', async () => {
    const { handle } = arrange();
    await handle(telemetryEvent('sensor-0001', [reading(0, 1, 81), reading(1000, 2, 83.1)]));

    await handle(telemetryEvent('sensor-0001', [reading(500, 3, 20)], 3));
    const afterLate = iotEvents().length;
    await handle(telemetryEvent('sensor-0001', [reading(2000, 4, 70)], 4));

    expect(afterLate).toBe(1);
    expect(iotEvents().map(({ state, previousState, value, ts }) => ({ state, previousState, value, ts }))).toEqual([
      { state: 'ALARM', previousState: 'OK', value: 83.1, ts: T + 1000 },
      { state: 'OK', previousState: 'ALARM', value: 70, ts: T + 2000 },
    ]);
  });

  it('fails the device records when IoT is throttled, keeps the alarm in the outbox, and publishes it on the retry', async () => {
    const { handle, table } = arrange();
    iot.on(PublishCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).resolves({});
    const event = telemetryEvent('sensor-0001', [reading(0, 1, 81), reading(1000, 2, 83.1)]);

    const first = await handle(event);
    const outbox = (table.get('sensor-0001')?.['outbox'] as AlarmEvent[]).map((e) => e.alarmId);
    const retry = await handle(event);

    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(1) }, { itemIdentifier: sequenceNumber(2) }] });
    expect(outbox).toEqual(['sensor-0001/overheat']);
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(table.get('sensor-0001')?.['outbox']).toEqual([]);
    expect(iotEvents().map((e) => e.state)).toEqual(['ALARM', 'ALARM']); // the throttled call, then the retry
    expect(iot.commandCalls(PublishCommand)).toHaveLength(2);
  });

  it('writes the device state conditionally: create, then update on the version it read', async () => {
    const { handle } = arrange();

    await handle(telemetryEvent('sensor-0001', [reading(0, 1, 20)]));
    // Far enough after the first that lastSeen must be written (more than the 150 s bound).
    await handle(telemetryEvent('sensor-0001', [reading(600_000, 2, 21)], 2));

    const conditions = dynamo.commandCalls(PutCommand).map((call) => ({
      condition: call.args[0].input.ConditionExpression,
      expected: call.args[0].input.ExpressionAttributeValues?.[':expected'] as number | undefined,
      version: call.args[0].input.Item?.['version'] as number,
    }));
    expect(conditions).toEqual([
      { condition: 'attribute_not_exists(deviceId)', expected: undefined, version: 1 },
      { condition: '#version = :expected', expected: 1, version: 2 },
    ]);
  });

  it('reads strongly consistently and skips the write when only lastSeen moved, by less than the bound', async () => {
    const { handle } = arrange();

    await handle(telemetryEvent('sensor-0001', [reading(0, 1, 20)]));
    await handle(telemetryEvent('sensor-0001', [reading(60_000, 2, 21)], 2));

    expect(dynamo.commandCalls(PutCommand)).toHaveLength(1);
    expect(dynamo.commandCalls(GetCommand).map((call) => call.args[0].input.ConsistentRead)).toEqual([true, true]);
  });
});
