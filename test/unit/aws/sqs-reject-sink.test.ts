import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqsRejectSink, reasonField } from '../../../lambdas/adapters/aws/sqs-reject-sink.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import { recordRef, rejectedMessage } from '../../fixtures/aws/readings.js';

const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fleet-telemetry-rejects';

function sink(maxBatchBytes?: number): SqsRejectSink {
  return new SqsRejectSink({
    client: new SQSClient({ region: 'eu-west-1' }),
    queueUrl: QUEUE_URL,
    ...(maxBatchBytes === undefined ? {} : { maxBatchBytes }),
  });
}

function sentBatches() {
  return sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
}

describe('SqsRejectSink', () => {
  beforeEach(() => {
    sqs.reset();
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it('sends each rejected message as JSON with its stage, field and device as attributes', async () => {
    const decode = rejectedMessage();
    const store = rejectedMessage({
      stage: 'store',
      reason: 'The record timestamp is outside the time range of the data ingestion window.',
      deviceId: undefined,
    });

    await sink().reject([decode, store]);

    expect(sentBatches()).toEqual([
      {
        QueueUrl: QUEUE_URL,
        Entries: [
          {
            Id: '0',
            MessageBody: JSON.stringify(decode),
            MessageAttributes: {
              stage: { DataType: 'String', StringValue: 'decode' },
              field: { DataType: 'String', StringValue: 'metrics' },
              deviceId: { DataType: 'String', StringValue: 'sensor-0001' },
            },
          },
          {
            Id: '1',
            MessageBody: JSON.stringify(store),
            MessageAttributes: {
              stage: { DataType: 'String', StringValue: 'store' },
              field: { DataType: 'String', StringValue: 'record' },
            },
          },
        ],
      },
    ]);
  });

  it('sends 25 messages as batches of 10, 10 and 5', async () => {
    const messages = Array.from({ length: 25 }, (_, i) => rejectedMessage({ record: recordRef({ sequenceNumber: String(i) }) }));

    await sink().reject(messages);

    expect(sentBatches().map((batch) => batch.Entries?.length)).toEqual([10, 10, 5]);
    expect(sentBatches().flatMap((batch) => batch.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? '') as unknown)).toEqual(messages);
  });

  it('starts a new batch before the byte budget would be exceeded', async () => {
    const big = (n: number) => rejectedMessage({ payload: 'A'.repeat(300_000), record: recordRef({ sequenceNumber: String(n) }) });

    await sink().reject([big(1), big(2), big(3), big(4)]);

    const batches = sentBatches();
    expect(batches.map((batch) => batch.Entries?.length)).toEqual([3, 1]);
    for (const batch of batches) {
      const bytes = (batch.Entries ?? []).reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
      expect(bytes).toBeLessThanOrEqual(1_048_576);
    }
  });

  it('cuts the payload of a message too big on its own, marking it', async () => {
    const message = rejectedMessage({ payload: 'B'.repeat(5000) });

    await sink(2000).reject([message]);

    const entry = sentBatches()[0]?.Entries?.[0];
    const body = JSON.parse(entry?.MessageBody ?? '') as Record<string, unknown>;
    expect(Buffer.byteLength(entry?.MessageBody ?? '')).toBeLessThanOrEqual(2000);
    expect(body).toMatchObject({ reason: message.reason, payloadTruncated: true, payloadLength: 5000 });
    expect(message.payload.startsWith(body['payload'] as string)).toBe(true);
  });

  it('throws a RetryableError naming the records of failed entries', async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: 'x' }],
      Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false, Message: 'try again' }],
    });
    const second = rejectedMessage({ record: recordRef({ shardId: 'shardId-000000000001', sequenceNumber: '42' }) });

    const error = await sink().reject([rejectedMessage(), second]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toContain('shardId-000000000001/42: InternalError try again');
  });

  it('turns a throttled request into a RetryableError and lets a missing queue through', async () => {
    const throttled = Object.assign(new Error('slow'), { name: 'RequestThrottled', $metadata: { httpStatusCode: 403 } });
    const missing = Object.assign(new Error('no queue'), { name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
    sqs.on(SendMessageBatchCommand).rejectsOnce(throttled).rejectsOnce(missing);

    await expect(sink().reject([rejectedMessage()])).rejects.toBeInstanceOf(RetryableError);
    await expect(sink().reject([rejectedMessage()])).rejects.toBe(missing);
  });

  it('sends nothing for no messages', async () => {
    await sink().reject([]);

    expect(sentBatches()).toEqual([]);
  });

  it.each([
    ['metrics.temperature: not a finite number', 'metrics'],
    ['ts: not a number or ISO-8601 string', 'ts'],
    ['metrics[0]: bad', 'metrics'],
    ['payload: not JSON', 'payload'],
    ['The record timestamp is outside the time range', 'record'],
    ['', 'record'],
  ])('reads the field of %j as %s', (reason, field) => {
    expect(reasonField(reason)).toBe(field);
  });
});
