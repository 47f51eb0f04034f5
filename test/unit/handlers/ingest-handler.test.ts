import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  RejectedRecordsException,
  ThrottlingException,
  TimestreamWriteClient,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqsRejectSink } from '../../../lambdas/adapters/aws/sqs-reject-sink.js';
import { TimestreamStore } from '../../../lambdas/adapters/aws/timestream-store.js';
import { CapturingLog, CountingMetrics, FakeClock } from '../../../lambdas/adapters/memory/index.js';
import type { RejectedMessage } from '../../../lambdas/domain/model.js';
import { makeIngestHandler } from '../../../lambdas/ingest/ingest-handler.js';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { InvalidKinesisEventError } from '../../../lambdas/common/kinesis-event.js';
import { kinesisEvent, sequenceNumber, telemetryEvent, telemetryRecord } from '../../fixtures/aws/kinesis-events.js';

const timestream = mockClient(TimestreamWriteClient);
const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fleet-telemetry-rejects';
const NOW = 1_764_028_860_000;

function arrange() {
  const metrics = new CountingMetrics();
  const handle = makeIngestHandler({
    store: new TimestreamStore({ client: new TimestreamWriteClient({}), databaseName: 'fleet_telemetry', tableName: 'readings' }),
    rejects: new SqsRejectSink({ client: new SQSClient({}), queueUrl: QUEUE_URL }),
    clock: new FakeClock(NOW),
    metrics,
    log: new CapturingLog(),
  });
  return { handle, metrics };
}

function writes(): WriteRecordsCommandInput[] {
  return timestream.commandCalls(WriteRecordsCommand).map((call) => call.args[0].input);
}

function rejectedBodies(): RejectedMessage[] {
  return sqs
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => JSON.parse(entry.MessageBody ?? '') as RejectedMessage);
}

/** `count` valid messages of one device, seq 0.. and ts one second apart. */
function messages(count: number): object[] {
  return Array.from({ length: count }, (_, i) => ({ ts: 1_764_028_700_000 + i * 100, seq: i, type: 'env-sensor', metrics: { temperature: 20 + i / 10 } }));
}

describe('ingest handler on AWS adapters', () => {
  beforeEach(() => {
    timestream.reset();
    sqs.reset();
    timestream.on(WriteRecordsCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it('writes a recorded-shape event as one multi-measure record and reports success', async () => {
    const { handle, metrics } = arrange();

    const response = await handle(
      telemetryEvent('sensor-0001', [{ ts: 1_764_028_800_123, seq: 17, type: 'env-sensor', metrics: { temperature: 22.4, battery: 3.61 } }]),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(writes()).toEqual([
      {
        DatabaseName: 'fleet_telemetry',
        TableName: 'readings',
        CommonAttributes: { MeasureName: 'reading', MeasureValueType: 'MULTI', TimeUnit: 'MILLISECONDS' },
        Records: [
          {
            Dimensions: [
              { Name: 'deviceId', Value: 'sensor-0001' },
              { Name: 'type', Value: 'env-sensor' },
            ],
            MeasureValues: [
              { Name: 'temperature', Value: '22.4', Type: 'DOUBLE' },
              { Name: 'battery', Value: '3.61', Type: 'DOUBLE' },
            ],
            Time: '1764028800123',
            Version: 18,
          },
        ],
      },
    ]);
    expect(metrics.total(METRIC.readingsStored)).toBe(1);
  });

  it('writes 250 records in WriteRecords requests of at most 100', async () => {
    const { handle } = arrange();

    await handle(telemetryEvent('sensor-0001', messages(250)));

    const sizes = writes().map((input) => input.Records?.length ?? 0);
    expect(sizes.every((size) => size <= 100)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(250);
    expect(sizes).toHaveLength(3);
  });

  it('keeps a poison record from the middle of the batch in SQS with its reason and stores the rest', async () => {
    const { handle, metrics } = arrange();
    const [first, last] = messages(2);
    const event = kinesisEvent([
      telemetryRecord({ payload: first, position: 1 }),
      telemetryRecord({ payload: '{"metrics":{"temperature":"hot"}}', position: 2 }),
      telemetryRecord({ payload: last, position: 3 }),
    ]);

    const response = await handle(event);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(writes()[0]?.Records?.map((record) => record.Version)).toEqual([1, 2]);
    const [reject] = rejectedBodies();
    expect(reject).toMatchObject({
      stage: 'decode',
      deviceId: 'sensor-0001',
      record: { shardId: 'shardId-000000000001', sequenceNumber: sequenceNumber(2) },
      payload: Buffer.from('{"metrics":{"temperature":"hot"}}').toString('base64'),
      rejectedAt: NOW,
    });
    expect(reject?.reason).toMatch(/^metrics\.temperature: /);
    expect(sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0]?.MessageAttributes).toEqual({
      stage: { DataType: 'String', StringValue: 'decode' },
      field: { DataType: 'String', StringValue: 'metrics' },
      deviceId: { DataType: 'String', StringValue: 'sensor-0001' },
    });
    expect(metrics.total(METRIC.readingsStored)).toBe(2);
  });

  it("sends the records Timestream rejects to SQS with Timestream's reasons and counts the rest stored", async () => {
    const { handle, metrics } = arrange();
    timestream.on(WriteRecordsCommand).rejects(
      new RejectedRecordsException({
        message: 'One or more records have been rejected. See RejectedRecords for details.',
        $metadata: {},
        RejectedRecords: [
          { RecordIndex: 0, Reason: 'The record timestamp is outside the time range of the data ingestion window.' },
          { RecordIndex: 2, Reason: 'A record with the same dimensions and time exists with a different value and a higher version.', ExistingVersion: 9 },
        ],
      }),
    );

    const response = await handle(telemetryEvent('sensor-0001', messages(4)));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(rejectedBodies().map(({ stage, reason, record }) => ({ stage, reason, sequenceNumber: record.sequenceNumber }))).toEqual([
      { stage: 'store', reason: 'The record timestamp is outside the time range of the data ingestion window.', sequenceNumber: sequenceNumber(1) },
      {
        stage: 'store',
        reason: 'A record with the same dimensions and time exists with a different value and a higher version.',
        sequenceNumber: sequenceNumber(3),
      },
    ]);
    expect(metrics.total(METRIC.readingsStored)).toBe(2);
  });

  it('reports the records of a throttled write as batch item failures by sequence number', async () => {
    const { handle } = arrange();
    const event = telemetryEvent('sensor-0001', messages(150));
    const secondChunkStart = String(1_764_028_700_000 + 100 * 100);
    timestream.on(WriteRecordsCommand).callsFake((input: WriteRecordsCommandInput) => {
      if (input.Records?.[0]?.Time === secondChunkStart) {
        throw new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } });
      }
      return {};
    });

    const response = await handle(event);

    expect(response.batchItemFailures).toEqual(
      Array.from({ length: 50 }, (_, i) => ({ itemIdentifier: sequenceNumber(101 + i) })),
    );
  });

  it('retries the rejected records when SQS fails an entry, so a reject is never lost', async () => {
    const { handle } = arrange();
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }] });

    const response = await handle(kinesisEvent([telemetryRecord({ payload: 'not json', position: 7 }), telemetryRecord({ position: 8 })]));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(7) }] });
  });

  it('fails the whole invocation on an event that is not from Kinesis', async () => {
    const { handle } = arrange();

    await expect(handle({ Records: [{ eventSource: 'aws:sqs' }] } as never)).rejects.toBeInstanceOf(InvalidKinesisEventError);
    expect(writes()).toEqual([]);
  });
});
