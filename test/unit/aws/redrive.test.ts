import { GetObjectCommand, GetObjectTaggingCommand, ListObjectsV2Command, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { FAILED_BATCHES_PREFIX, RedriveError, TAG_KEY, parseFailedBatch, redriveAws } from '../../../infra/aws/redrive.js';
import { CONSUMER_FAILURES_PREFIX } from '../../../infra/aws/constructs/failure-bucket.js';
import { FailedBatchError } from '../../../infra/redrive-batch.js';
import { kinesisEvent, telemetryRecord } from '../../fixtures/aws/kinesis-events.js';

const BUCKET = 'fleettelemetry-failures-abc';
const STREAM = 'FleetTelemetry-Stream-xyz';
const s3 = mockClient(S3Client);
const kinesis = mockClient(KinesisClient);

/** The object Lambda writes to an S3 on-failure destination: the metadata record and the invocation record. */
function failureObject(deviceId: string, seqs: readonly number[], payloadAs: 'object' | 'text' = 'object'): string {
  const event = kinesisEvent(seqs.map((seq, i) => telemetryRecord({ deviceId, payload: { ts: 1_764_028_800_000 + seq, seq, metrics: { t: seq } }, position: i + 1 })));
  return JSON.stringify({
    requestContext: {
      requestId: 'c9b8fa9f-5a7f-4e3a-9f2b-0b7a3ad3a8a1',
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:FleetTelemetry-IngestFunction-AbC',
      condition: 'RecordAgeExceeded',
      approximateInvokeCount: 40,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2026-12-06T04:00:00.000Z',
    KinesisBatchInfo: {
      shardId: 'shardId-000000000001',
      startSequenceNumber: event.Records[0]?.kinesis.sequenceNumber,
      endSequenceNumber: event.Records.at(-1)?.kinesis.sequenceNumber,
      approximateArrivalOfFirstRecord: '2026-12-05T04:00:00.000Z',
      approximateArrivalOfLastRecord: '2026-12-05T04:00:01.000Z',
      batchSize: seqs.length,
      streamArn: `arn:aws:kinesis:us-east-1:123456789012:stream/${STREAM}`,
    },
    payload: payloadAs === 'object' ? event : JSON.stringify(event),
  });
}

/** A bucket in memory behind the mocked S3 client: list, get, tags. */
function installBucket(objects: Record<string, string>): Map<string, string> {
  const tags = new Map<string, string>();
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix?: string; ContinuationToken?: string }) => {
    const keys = Object.keys(objects).filter((key) => key.startsWith(input.Prefix ?? '')).sort();
    // One key a page, so pagination is exercised.
    const at = input.ContinuationToken === undefined ? 0 : Number(input.ContinuationToken);
    const key = keys[at];
    return {
      Contents: key === undefined ? [] : [{ Key: key }],
      IsTruncated: at + 1 < keys.length,
      ...(at + 1 < keys.length ? { NextContinuationToken: String(at + 1) } : {}),
    };
  });
  // The SDK's streaming body, reduced to the one method the redrive reads it with.
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({ Body: { transformToString: async () => objects[input.Key] ?? '' } as never }));
  s3.on(GetObjectTaggingCommand).callsFake((input: { Key: string }) => ({ TagSet: tags.has(input.Key) ? [{ Key: TAG_KEY, Value: tags.get(input.Key) }] : [] }));
  s3.on(PutObjectTaggingCommand).callsFake((input: { Key: string; Tagging: { TagSet: { Key: string; Value: string }[] } }) => {
    const tag = input.Tagging.TagSet.find((t) => t.Key === TAG_KEY);
    if (tag !== undefined) tags.set(input.Key, tag.Value);
    return {};
  });
  return tags;
}

const options = { s3: new S3Client({ region: 'us-east-1' }), kinesis: new KinesisClient({ region: 'us-east-1' }), bucket: BUCKET, streamName: STREAM, sleep: async () => undefined };

describe('npm run redrive --target aws', () => {
  beforeEach(() => {
    s3.reset();
    kinesis.reset();
  });

  it('reads every failed batch under the prefix Lambda writes to, and the failure bucket construct agrees on it', () => {
    expect(FAILED_BATCHES_PREFIX).toBe(CONSUMER_FAILURES_PREFIX);
  });

  it('puts each batch\'s records back with their partition keys, tags the object, and skips it on the next run', async () => {
    const tags = installBucket({
      'aws/lambda/a': failureObject('sensor-1', [1, 2]),
      'aws/lambda/b': failureObject('sensor-2', [7], 'text'),
      'timestream-magnetic-rejects/report.json': '{"not":"a batch"}',
    });
    kinesis.on(PutRecordsCommand).resolves({ FailedRecordCount: 0, Records: [{ SequenceNumber: '1', ShardId: 's' }, { SequenceNumber: '2', ShardId: 's' }] });

    const first = await redriveAws({ ...options, dryRun: false });
    const second = await redriveAws({ ...options, dryRun: false });

    expect(first.records).toBe(3);
    expect(first.batches.map((b) => [b.id, b.consumer, b.condition, b.records, b.outcome])).toEqual([
      ['aws/lambda/a', 'FleetTelemetry-IngestFunction-AbC', 'RecordAgeExceeded', 2, 'redriven'],
      ['aws/lambda/b', 'FleetTelemetry-IngestFunction-AbC', 'RecordAgeExceeded', 1, 'redriven'],
    ]);
    const puts = kinesis.commandCalls(PutRecordsCommand).map((call) => call.args[0].input);
    expect(puts).toHaveLength(2);
    expect(puts[0]?.StreamName).toBe(STREAM);
    expect(puts[0]?.Records?.map((r) => r.PartitionKey)).toEqual(['sensor-1', 'sensor-1']);
    const envelope = JSON.parse(Buffer.from(puts[0]?.Records?.[0]?.Data ?? new Uint8Array()).toString('utf8')) as { topic: string; payload: string };
    expect(envelope.topic).toBe('dt/fleet/sensor-1/telemetry');
    expect(JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'))).toMatchObject({ seq: 1 });
    expect([...tags.keys()].sort()).toEqual(['aws/lambda/a', 'aws/lambda/b']);
    expect(second.records).toBe(0);
    expect(second.batches.map((b) => b.outcome)).toEqual(['skipped', 'skipped']);
  });

  it('changes nothing with --dry-run', async () => {
    const tags = installBucket({ 'aws/lambda/a': failureObject('sensor-1', [1, 2, 3]) });

    const report = await redriveAws({ ...options, dryRun: true });

    expect(report).toMatchObject({ target: 'aws', dryRun: true, records: 3, batches: [{ outcome: 'would-redrive' }] });
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectTaggingCommand)).toHaveLength(0);
    expect(tags.size).toBe(0);
  });

  it('sends again only the records Kinesis refused, and tags the object once all are in', async () => {
    installBucket({ 'aws/lambda/a': failureObject('sensor-1', [1, 2, 3]) });
    kinesis
      .on(PutRecordsCommand)
      .resolvesOnce({
        FailedRecordCount: 1,
        Records: [{ SequenceNumber: '1', ShardId: 's' }, { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' }, { SequenceNumber: '3', ShardId: 's' }],
      })
      .resolves({ FailedRecordCount: 0, Records: [{ SequenceNumber: '2', ShardId: 's' }] });

    await redriveAws({ ...options, dryRun: false });

    const puts = kinesis.commandCalls(PutRecordsCommand).map((call) => call.args[0].input.Records ?? []);
    expect(puts.map((records) => records.length)).toEqual([3, 1]);
    const retried = JSON.parse(Buffer.from(puts[1]?.[0]?.Data ?? new Uint8Array()).toString('utf8')) as { payload: string };
    expect(JSON.parse(Buffer.from(retried.payload, 'base64').toString('utf8'))).toMatchObject({ seq: 2 });
    expect(s3.commandCalls(PutObjectTaggingCommand)).toHaveLength(1);
  });

  it('stops without tagging when Kinesis keeps refusing, naming the object', async () => {
    installBucket({ 'aws/lambda/a': failureObject('sensor-1', [1]) });
    kinesis.on(PutRecordsCommand).resolves({ FailedRecordCount: 1, Records: [{ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' }] });

    const run = redriveAws({ ...options, dryRun: false, attempts: 3 });

    await expect(run).rejects.toThrow(RedriveError);
    await expect(redriveAws({ ...options, dryRun: false, attempts: 3 })).rejects.toThrow(/aws\/lambda\/a: Kinesis refused 1 record\(s\) 3 times \(ProvisionedThroughputExceededException/);
    expect(s3.commandCalls(PutObjectTaggingCommand)).toHaveLength(0);
  });

  it('splits a batch into PutRecords requests of at most 500 records', async () => {
    installBucket({ 'aws/lambda/a': failureObject('sensor-1', Array.from({ length: 1_200 }, (_, i) => i + 1)) });
    kinesis.on(PutRecordsCommand).callsFake((input: { Records: unknown[] }) => ({ FailedRecordCount: 0, Records: input.Records.map(() => ({ SequenceNumber: '1', ShardId: 's' })) }));

    await redriveAws({ ...options, dryRun: false });

    expect(kinesis.commandCalls(PutRecordsCommand).map((call) => call.args[0].input.Records?.length)).toEqual([500, 500, 200]);
  });

  it.each([
    ['not JSON', '{', /s3 object k: not JSON/],
    ['only the metadata', JSON.stringify({ ...JSON.parse(failureObject('d', [1])), payload: undefined }), /s3 object k: no payload/],
    ['not a Kinesis batch', JSON.stringify({ requestContext: { functionArn: 'arn:aws:lambda:r:1:function:f' } }), /KinesisBatchInfo.shardId is missing/],
    ['a record without a key', JSON.stringify({ ...JSON.parse(failureObject('d', [1])), payload: { Records: [{ kinesis: { data: 'e30=' } }] } }), /Records\[0\].kinesis.partitionKey is missing/],
  ])('refuses an object that is %s, naming it', (_label, text, reason) => {
    expect(() => parseFailedBatch('k', text, false)).toThrow(FailedBatchError);
    expect(() => parseFailedBatch('k', text, false)).toThrow(reason);
  });
});
