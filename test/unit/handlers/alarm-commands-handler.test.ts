import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbAlarmHistory, historyNotifier } from '../../../lambdas/adapters/aws/dynamodb-alarm-history.js';
import { DynamoDbAlarmStateStore, alarmStateDocumentClient } from '../../../lambdas/adapters/aws/dynamodb-alarm-state.js';
import { IotCommandReplies } from '../../../lambdas/adapters/aws/iot-command-replies.js';
import { IotDataNotifier } from '../../../lambdas/adapters/aws/iot-data-notifier.js';
import { SnsNotifier } from '../../../lambdas/adapters/aws/sns-notifier.js';
import { fanOutNotifier } from '../../../lambdas/adapters/fan-out-notifier.js';
import { CapturingLog, CountingMetrics } from '../../../lambdas/adapters/memory/index.js';
import { makeAlarmCommandsHandler, type AlarmCommandEnvelope } from '../../../lambdas/alarm-commands/alarm-commands-handler.js';
import { makeAlarmsHandler } from '../../../lambdas/alarms/alarms-handler.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import { installAlarmTable } from '../../fixtures/aws/dynamodb-table.js';
import { telemetryEvent } from '../../fixtures/aws/kinesis-events.js';

// The alarm-commands handler on its AWS adapters, with the SDK clients mocked: the exact requests it
// sends to IoT, SNS and DynamoDB, and what it does when IoT throttles.

const iot = mockClient(IoTDataPlaneClient);
const sns = mockClient(SNSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const rules = parseThresholds(JSON.parse(readFileSync(new URL('../../fixtures/aws/thresholds.json', import.meta.url), 'utf8')));
const T = 1_764_028_800_000;

function arrange() {
  const history = new Map<string, Record<string, unknown>>();
  installAlarmTable(dynamo, history);
  const documents = alarmStateDocumentClient(new DynamoDBClient({}));
  const iotClient = new IoTDataPlaneClient({});
  const alarmHistory = new DynamoDbAlarmHistory({ client: documents, tableName: 'alarm-history', ttlDays: 90 });
  const ports = {
    rules,
    states: new DynamoDbAlarmStateStore({ client: documents, tableName: 'alarm-state' }),
    notifier: fanOutNotifier([
      new IotDataNotifier({ client: iotClient }),
      new SnsNotifier({ client: new SNSClient({}), topicArn: 'arn:aws:sns:eu-west-1:123456789012:alarms' }),
      historyNotifier(alarmHistory),
    ]),
    metrics: new CountingMetrics(),
    log: new CapturingLog(),
  };
  return {
    history,
    alarms: makeAlarmsHandler(ports),
    commands: makeAlarmCommandsHandler({ ...ports, history: alarmHistory, replies: new IotCommandReplies({ client: iotClient }) }),
  };
}

function command(body: object, receivedAt = T + 5_000): AlarmCommandEnvelope {
  return { payload: Buffer.from(JSON.stringify(body)).toString('base64'), deviceId: 'sensor-0001', clientId: 'operator-7', receivedAt };
}

function published(): { topic: string; body: Record<string, unknown> }[] {
  return iot.commandCalls(PublishCommand).map((call) => ({
    topic: call.args[0].input.topic as string,
    body: JSON.parse(new TextDecoder().decode(call.args[0].input.payload as Uint8Array)) as Record<string, unknown>,
  }));
}

const overheat = [81, 83].map((temperature, i) => ({ ts: T + i * 1_000, seq: i + 1, type: 'env-sensor', metrics: { temperature } }));

describe('alarm-commands handler on AWS adapters', () => {
  beforeEach(() => {
    iot.reset();
    sns.reset();
    dynamo.reset();
    iot.on(PublishCommand).resolves({});
    sns.on(PublishBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it('publishes the ACKNOWLEDGED event on the alarm topic and the reply on accepted, and records both in the history', async () => {
    const { alarms, commands, history } = arrange();
    await alarms(telemetryEvent('sensor-0001', overheat));

    await commands(command({ action: 'acknowledge', ruleId: 'overheat', note: 'fan swapped', clientToken: 'tok' }));

    expect(published().map((p) => [p.topic, p.body['state'] ?? p.body['action']])).toEqual([
      ['alarms/fleet/sensor-0001', 'ALARM'],
      ['alarms/fleet/sensor-0001', 'ACKNOWLEDGED'],
      ['cmd/fleet/alarms/sensor-0001/accepted', 'ACKNOWLEDGED'],
    ]);
    expect(published()[1]!.body).toMatchObject({ previousState: 'ALARM', action: 'acknowledge', by: 'operator-7', note: 'fan swapped', ts: T + 5_000 });
    expect(published()[2]!.body).toEqual({ clientToken: 'tok', deviceId: 'sensor-0001', ruleId: 'overheat', action: 'acknowledge', state: 'ACKNOWLEDGED' });
    const snsAck = sns.commandCalls(PublishBatchCommand)[1]!.args[0].input.PublishBatchRequestEntries![0]!;
    expect(snsAck.MessageAttributes).toMatchObject({ state: { StringValue: 'ACKNOWLEDGED' }, action: { StringValue: 'acknowledge' }, by: { StringValue: 'operator-7' } });
    const kinds = [...history.values()].map((item) => [item['sk'], item['kind'], item['expiresAt']]);
    expect(kinds).toEqual([
      [`000${T + 1_000}#t#overheat#OK#ALARM#`, 'transition', Math.floor((T + 1_000) / 1000) + 90 * 86_400],
      [`000${T + 5_000}#t#overheat#ALARM#ACKNOWLEDGED#acknowledge`, 'transition', Math.floor((T + 5_000) / 1000) + 90 * 86_400],
      [`000${T + 5_000}#c#overheat#operator-7#acknowledge`, 'command', Math.floor((T + 5_000) / 1000) + 90 * 86_400],
    ]);
  });

  it('answers a malformed command on rejected with the reason, publishing no event', async () => {
    const { alarms, commands } = arrange();
    await alarms(telemetryEvent('sensor-0001', overheat));
    iot.resetHistory();

    await commands({ ...command({}), payload: Buffer.from('ack please').toString('base64') });

    expect(published()).toEqual([
      { topic: 'cmd/fleet/alarms/sensor-0001/rejected', body: { deviceId: 'sensor-0001', ruleId: null, action: null, reason: 'payload: not JSON' } },
    ]);
  });

  it('throws a RetryableError without replying when IoT throttles the event; the retried invocation publishes it once and replies', async () => {
    const { alarms, commands } = arrange();
    await alarms(telemetryEvent('sensor-0001', overheat));
    iot.resetHistory();
    iot.on(PublishCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).resolves({});
    const ack = command({ action: 'acknowledge', ruleId: 'overheat' });

    await expect(commands(ack)).rejects.toBeInstanceOf(RetryableError);
    await commands(ack);

    expect(published().map((p) => [p.topic, p.body['state']])).toEqual([
      ['alarms/fleet/sensor-0001', 'ACKNOWLEDGED'], // the throttled call
      ['alarms/fleet/sensor-0001', 'ACKNOWLEDGED'], // the outbox, published by the retry
      ['cmd/fleet/alarms/sensor-0001/accepted', 'ACKNOWLEDGED'],
    ]);
  });
});
