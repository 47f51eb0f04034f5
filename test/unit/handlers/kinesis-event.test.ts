import { describe, expect, it } from 'vitest';
import { InvalidKinesisEventError, toBatchResponse, toStreamRecords } from '../../../lambdas/common/kinesis-event.js';
import { recordRef } from '../../fixtures/aws/readings.js';
import { kinesisEvent, recordedEvent, sequenceNumber, telemetryRecord } from '../../fixtures/aws/kinesis-events.js';

describe('toStreamRecords', () => {
  it('reads shard, sequence number, partition key, arrival in ms and the data bytes of a recorded event', () => {
    const [record] = toStreamRecords(recordedEvent());

    expect(record?.ref).toEqual({
      shardId: 'shardId-000000000001',
      sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
      partitionKey: 'sensor-0001',
      approximateArrivalTimestamp: 1_764_028_800_987,
    });
    const envelope = JSON.parse(new TextDecoder().decode(record?.data)) as Record<string, unknown>;
    expect(envelope).toMatchObject({ topic: 'dt/fleet/sensor-0001/telemetry', clientId: 'sensor-0001', receivedAt: 1_764_028_800_200 });
  });

  it('keeps the order Lambda gave', () => {
    const event = kinesisEvent([3, 1, 2].map((position) => telemetryRecord({ position })));

    expect(toStreamRecords(event).map((r) => r.ref.sequenceNumber)).toEqual([3, 1, 2].map(sequenceNumber));
  });

  it('accepts an empty batch', () => {
    expect(toStreamRecords({ Records: [] })).toEqual([]);
  });

  it.each([
    ['a scheduled event', { source: 'aws.events', 'detail-type': 'Scheduled Event' }, 'Records array'],
    ['null', null, 'Records array'],
    ['an SQS record', { Records: [{ eventSource: 'aws:sqs', body: '{}' }] }, 'Records[0].eventSource: expected "aws:kinesis", got "aws:sqs"'],
  ])('refuses %s, naming what is wrong', (_label, event, problem) => {
    expect(() => toStreamRecords(event)).toThrow(InvalidKinesisEventError);
    expect(() => toStreamRecords(event)).toThrow(problem);
  });

  it('names the field of the first malformed record', () => {
    const event = kinesisEvent([telemetryRecord(), telemetryRecord({ position: 2 })]);
    (event.Records[1] as { kinesis: { sequenceNumber: unknown } }).kinesis.sequenceNumber = 42;

    expect(() => toStreamRecords(event)).toThrow('Records[1].kinesis.sequenceNumber: expected a non-empty string');
  });

  it('refuses an eventID without a shard prefix', () => {
    const event = recordedEvent();
    (event.Records[0] as { eventID: string }).eventID = 'no-separator';

    expect(() => toStreamRecords(event)).toThrow('Records[0].eventID');
  });
});

describe('toBatchResponse', () => {
  it('lists every failed record by sequence number, once', () => {
    const failed = [recordRef({ sequenceNumber: sequenceNumber(2) }), recordRef({ sequenceNumber: sequenceNumber(5) }), recordRef({ sequenceNumber: sequenceNumber(2) })];

    expect(toBatchResponse({ failed })).toEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumber(2) }, { itemIdentifier: sequenceNumber(5) }],
    });
  });

  it('reports success as an empty list', () => {
    expect(toBatchResponse({ failed: [] })).toEqual({ batchItemFailures: [] });
  });
});
