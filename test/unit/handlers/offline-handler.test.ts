import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbAlarmStateStore, alarmStateDocumentClient } from '../../../lambdas/adapters/aws/dynamodb-alarm-state.js';
import { IotDataNotifier } from '../../../lambdas/adapters/aws/iot-data-notifier.js';
import { SnsNotifier } from '../../../lambdas/adapters/aws/sns-notifier.js';
import { fanOutNotifier } from '../../../lambdas/adapters/fan-out-notifier.js';
import { CapturingLog, CountingMetrics, FakeClock } from '../../../lambdas/adapters/memory/index.js';
import { makeAlarmsHandler } from '../../../lambdas/alarms/alarms-handler.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import type { AlarmEvent } from '../../../lambdas/domain/model.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import { makeOfflineHandler } from '../../../lambdas/offline/offline-handler.js';
import { installAlarmTable } from '../../fixtures/aws/dynamodb-table.js';
import { kinesisEvent, telemetryEvent, telemetryRecord } from '../../fixtures/aws/kinesis-events.js';

const iot = mockClient(IoTDataPlaneClient);
const sns = mockClient(SNSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const rules = parseThresholds(JSON.parse(readFileSync(new URL('../../fixtures/aws/thresholds.json', import.meta.url), 'utf8')));
const T = 1_764_028_800_000;
const scheduledEvent = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2025-11-25T00:05:01Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/fleet-telemetry-offline-check'],
  detail: {},
};

function arrange() {
  installAlarmTable(dynamo);
  const clock = new FakeClock(T);
  const deps = {
    rules,
    states: new DynamoDbAlarmStateStore({ client: alarmStateDocumentClient(new DynamoDBClient({})), tableName: 'alarm-state' }),
    notifier: fanOutNotifier([
      new IotDataNotifier({ client: new IoTDataPlaneClient({}) }),
      new SnsNotifier({ client: new SNSClient({}), topicArn: 'arn:aws:sns:eu-west-1:123456789012:alarms' }),
    ]),
    metrics: new CountingMetrics(),
    log: new CapturingLog(),
  };
  return { clock, alarms: makeAlarmsHandler(deps), offline: makeOfflineHandler({ ...deps, clock }) };
}

function iotEvents(): AlarmEvent[] {
  return iot
    .commandCalls(PublishCommand)
    .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.payload as Uint8Array)) as AlarmEvent);
}

describe('offline handler on AWS adapters', () => {
  beforeEach(() => {
    iot.reset();
    sns.reset();
    dynamo.reset();
    iot.on(PublishCommand).resolves({});
    sns.on(PublishBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it('raises the silent alarm once for a device quiet longer than silentFor', async () => {
    const { clock, alarms, offline } = arrange();
    await alarms(telemetryEvent('sensor-0001', [{ ts: T, seq: 1, type: 'env-sensor', metrics: { temperature: 20 } }]));
    // Past the 300 s window plus the 150 s a stored lastSeen may trail the newest reading.
    clock.set(T + 451_000);

    const first = await offline(scheduledEvent);
    const second = await offline(scheduledEvent);

    expect(first).toMatchObject({ checked: 1, raised: 1 });
    expect(second).toMatchObject({ raised: 0 });
    expect(iotEvents().map(({ alarmId, state, severity }) => ({ alarmId, state, severity }))).toEqual([
      { alarmId: 'sensor-0001/silent', state: 'ALARM', severity: 'major' },
    ]);
    expect(dynamo.commandCalls(ScanCommand)[0]?.args[0].input).toMatchObject({
      FilterExpression: '#lastSeen < :before',
      ExpressionAttributeNames: expect.objectContaining({ '#lastSeen': 'lastSeen' }),
    });
  });

  it('leaves a device seen recently alone', async () => {
    const { clock, alarms, offline } = arrange();
    await alarms(telemetryEvent('sensor-0001', [{ ts: T, seq: 1, metrics: { temperature: 20 } }]));
    clock.set(T + 60_000);

    await expect(offline(undefined)).resolves.toMatchObject({ checked: 0, raised: 0 });
    expect(iotEvents()).toEqual([]);
  });

  it('throws a RetryableError naming the device when its alarm cannot be published', async () => {
    const { clock, alarms, offline } = arrange();
    await alarms(telemetryEvent('sensor-0001', [{ ts: T, seq: 1, metrics: { temperature: 20 } }]));
    iot.on(PublishCommand).rejects(Object.assign(new Error('Service Unavailable'), { $metadata: { httpStatusCode: 503 } }));
    clock.set(T + 451_000);

    const error = await offline(scheduledEvent).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toBe('offline check: 1 of 1 devices not finished: sensor-0001');
  });

  it('names at most 20 devices it could not finish and counts the rest', async () => {
    const { clock, alarms, offline } = arrange();
    const devices = Array.from({ length: 23 }, (_, i) => `d${String(i).padStart(2, '0')}`);
    await alarms(kinesisEvent(devices.map((deviceId, i) => telemetryRecord({ deviceId, position: i + 1, payload: { ts: T, metrics: { t: 1 } } }))));
    iot.on(PublishCommand).rejects(Object.assign(new Error('Service Unavailable'), { $metadata: { httpStatusCode: 503 } }));
    clock.set(T + 451_000);

    const error = await offline(scheduledEvent).catch((e: unknown) => e);

    expect((error as Error).message).toMatch(/^offline check: 23 of 23 devices not finished: (d\d\d, ){19}d\d\d and 3 more$/);
  });
});
