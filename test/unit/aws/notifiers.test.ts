import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { InternalErrorException, PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { IotDataNotifier, iotDataEndpointUrl } from '../../../lambdas/adapters/aws/iot-data-notifier.js';
import { SnsNotifier, alarmSubject } from '../../../lambdas/adapters/aws/sns-notifier.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import { alarmEvent } from '../../fixtures/aws/readings.js';

const iot = mockClient(IoTDataPlaneClient);
const sns = mockClient(SNSClient);
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:fleet-telemetry-alarms';

describe('IotDataNotifier', () => {
  beforeEach(() => {
    iot.reset();
    iot.on(PublishCommand).resolves({});
  });

  it('publishes each event on its device alarm topic, QoS 1, as UTF-8 JSON, in order', async () => {
    const raise = alarmEvent();
    const clear = alarmEvent({ state: 'OK', previousState: 'ALARM', value: 74.2, threshold: 75, ts: 1_764_028_900_000 });
    const other = alarmEvent({ deviceId: 'pump:7', alarmId: 'pump:7/overheat' });
    const notifier = new IotDataNotifier({ client: new IoTDataPlaneClient({ region: 'eu-west-1' }) });

    await notifier.notify([raise, clear, other]);

    const inputs = iot.commandCalls(PublishCommand).map((call) => call.args[0].input);
    expect(inputs.map(({ payload, ...rest }) => ({ ...rest, payload: JSON.parse(new TextDecoder().decode(payload as Uint8Array)) as unknown }))).toEqual([
      { topic: 'alarms/fleet/sensor-0001', qos: 1, contentType: 'application/json', payloadFormatIndicator: 'UTF8_DATA', payload: raise },
      { topic: 'alarms/fleet/sensor-0001', qos: 1, contentType: 'application/json', payloadFormatIndicator: 'UTF8_DATA', payload: clear },
      { topic: 'alarms/fleet/pump:7', qos: 1, contentType: 'application/json', payloadFormatIndicator: 'UTF8_DATA', payload: other },
    ]);
  });

  it('stops at a throttled publish with a RetryableError naming the alarm', async () => {
    const cause = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
    iot.on(PublishCommand).rejectsOnce(cause);
    const notifier = new IotDataNotifier({ client: new IoTDataPlaneClient({ region: 'eu-west-1' }) });

    const error = await notifier.notify([alarmEvent(), alarmEvent({ deviceId: 'b', alarmId: 'b/overheat' })]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toContain('sensor-0001/overheat');
    expect((error as Error).cause).toBe(cause);
    expect(iot.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('lets an authorization error through unchanged', async () => {
    const cause = Object.assign(new Error('not authorized'), { name: 'UnauthorizedException', $metadata: { httpStatusCode: 401 } });
    iot.on(PublishCommand).rejects(cause);
    const notifier = new IotDataNotifier({ client: new IoTDataPlaneClient({ region: 'eu-west-1' }) });

    await expect(notifier.notify([alarmEvent()])).rejects.toBe(cause);
  });

  it('turns the data endpoint host into an https URL', () => {
    expect(iotDataEndpointUrl('abc123-ats.iot.eu-west-1.amazonaws.com')).toBe('https://abc123-ats.iot.eu-west-1.amazonaws.com');
    expect(iotDataEndpointUrl('https://localhost:4566')).toBe('https://localhost:4566');
  });
});

describe('SnsNotifier', () => {
  beforeEach(() => {
    sns.reset();
    sns.on(PublishBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  function notifier(): SnsNotifier {
    return new SnsNotifier({ client: new SNSClient({ region: 'eu-west-1' }), topicArn: TOPIC_ARN });
  }

  it('carries the lifecycle in the attributes: previous state, the command and who gave it, and marks a reminder', async () => {
    const ack = alarmEvent({ state: 'ACKNOWLEDGED', previousState: 'ALARM', action: 'acknowledge', by: 'operator-1', note: 'on it' });
    const reminder = alarmEvent({ previousState: 'ALARM', action: 'reminder', reminder: true });

    await notifier().notify([ack, reminder]);

    const [first, second] = sns.commandCalls(PublishBatchCommand)[0]!.args[0].input.PublishBatchRequestEntries!;
    expect(first!.MessageAttributes).toMatchObject({
      state: { DataType: 'String', StringValue: 'ACKNOWLEDGED' },
      previousState: { DataType: 'String', StringValue: 'ALARM' },
      action: { DataType: 'String', StringValue: 'acknowledge' },
      by: { DataType: 'String', StringValue: 'operator-1' },
    });
    expect(second!.MessageAttributes).toMatchObject({ action: { DataType: 'String', StringValue: 'reminder' } });
    expect(second!.MessageAttributes).not.toHaveProperty('by');
    expect(second!.Subject).toBe('[critical] sensor-0001/overheat ALARM (reminder)');
  });

  it('publishes a batch with a subject and filterable attributes per event', async () => {
    const event = alarmEvent();

    await notifier().notify([event]);

    expect(sns.commandCalls(PublishBatchCommand).map((call) => call.args[0].input)).toEqual([
      {
        TopicArn: TOPIC_ARN,
        PublishBatchRequestEntries: [
          {
            Id: '0',
            Message: JSON.stringify(event),
            Subject: '[critical] sensor-0001/overheat ALARM',
            MessageAttributes: {
              severity: { DataType: 'String', StringValue: 'critical' },
              deviceId: { DataType: 'String', StringValue: 'sensor-0001' },
              state: { DataType: 'String', StringValue: 'ALARM' },
              previousState: { DataType: 'String', StringValue: 'OK' },
              ruleId: { DataType: 'String', StringValue: 'overheat' },
            },
          },
        ],
      },
    ]);
  });

  it('sends 23 events as batches of 10, 10 and 3 with ids unique within each batch', async () => {
    const events = Array.from({ length: 23 }, (_, i) => alarmEvent({ deviceId: `d${i}`, alarmId: `d${i}/overheat` }));

    await notifier().notify(events);

    const batches = sns.commandCalls(PublishBatchCommand).map((call) => call.args[0].input.PublishBatchRequestEntries ?? []);
    expect(batches.map((entries) => entries.length)).toEqual([10, 10, 3]);
    for (const entries of batches) expect(new Set(entries.map((e) => e.Id)).size).toBe(entries.length);
    expect(batches.flat().map((e) => JSON.parse(e.Message ?? '') as unknown)).toEqual(events);
  });

  it('throws a RetryableError naming the failed entries', async () => {
    sns.on(PublishBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm0' }],
      Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false, Message: 'try again' }],
    });

    const error = await notifier()
      .notify([alarmEvent(), alarmEvent({ deviceId: 'b', alarmId: 'b/overheat', state: 'OK', previousState: 'ALARM' })])
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toContain('1 of 2 entries failed: b/overheat OK: InternalError try again');
  });

  it('turns an SNS internal error into a RetryableError', async () => {
    const cause = new InternalErrorException({ message: 'internal', $metadata: { httpStatusCode: 500 } });
    sns.on(PublishBatchCommand).rejects(cause);

    const error = await notifier().notify([alarmEvent()]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).cause).toBe(cause);
  });

  it('keeps a subject under 100 printable ASCII characters, with severity and state', () => {
    const subject = alarmSubject(alarmEvent({ alarmId: `${'x'.repeat(120)}/überhitzt`, severity: 'major', state: 'OK' }));

    expect(subject.length).toBe(99);
    expect(subject).toMatch(/^\[major\] x+\.\.\. OK$/);
  });

  it('replaces characters SNS does not accept in a subject', () => {
    expect(alarmSubject(alarmEvent({ alarmId: 'd1/über\nhitze' }))).toBe('[critical] d1/?ber?hitze ALARM');
  });
});
