/**
 * `npm run redrive -- --target aws`: puts the batches the stream mappings gave up on back on the
 * Kinesis stream. For an S3 on-failure destination Lambda writes one object per discarded batch with
 * the metadata record (requestContext, responseContext, version, timestamp, KinesisBatchInfo) and the
 * whole invocation record beside it
 * (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html), under
 * `aws/lambda/` in our failure bucket. AWS's text does not name the field holding the invocation
 * record in a form we could read; we take `payload` as the event object or its JSON text, and refuse
 * any other shape naming the object.
 *
 * Each object put back is tagged (TAG_KEY), so a second run skips it; if a run dies between the
 * PutRecords and the tag, the batch is put back twice, which the idempotent store and event-time
 * alarms absorb. Records go back with their partition key (the deviceId), so a device's readings land
 * on one shard again, after whatever it sent since.
 */
import { GetObjectCommand, GetObjectTaggingCommand, ListObjectsV2Command, PutObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { FleetTelemetryError } from '../../lambdas/domain/errors.js';
import type { FailedBatch, RedriveRecord, RedriveReport } from '../redrive-batch.js';
import { FailedBatchError, recordsOfEvent, redriveBatches } from '../redrive-batch.js';

/** Where Lambda writes a stream mapping's failed batches in the bucket (CONSUMER_FAILURES_PREFIX in infra/aws/constructs/failure-bucket.ts). */
export const FAILED_BATCHES_PREFIX = 'aws/lambda/';
/** The tag marking an object whose records were put back (its value: when). */
export const TAG_KEY = 'fleet-telemetry-redriven';
/** PutRecords takes at most 500 records and 5 MiB a request (Kinesis API reference). */
const PUT_RECORDS_MAX = { records: 500, bytes: 5 * 1024 * 1024 } as const;

/** Records Kinesis kept refusing (throttled) after every attempt: the run stops there, a later run resumes. */
export class RedriveError extends FleetTelemetryError {}

export interface AwsRedriveOptions {
  readonly s3: S3Client;
  readonly kinesis: KinesisClient;
  readonly bucket: string;
  readonly streamName: string;
  /** Only batches of functions whose name contains this (e.g. Ingest, Alarms). @default all */
  readonly consumer?: string;
  readonly dryRun: boolean;
  /** Attempts per PutRecords chunk for records Kinesis refused. @default 5 */
  readonly attempts?: number;
  /** Waits between attempts (tests pass one that does not wait). @default setTimeout, 200 ms doubling */
  readonly sleep?: (ms: number) => Promise<void>;
}

export async function redriveAws(options: AwsRedriveOptions): Promise<RedriveReport> {
  const batches = (await listFailedBatches(options)).filter((b) => options.consumer === undefined || b.consumer.includes(options.consumer));
  return redriveBatches('aws', batches, {
    dryRun: options.dryRun,
    putBack: async (batch) => {
      await putRecords(options, batch);
      await options.s3.send(
        new PutObjectTaggingCommand({
          Bucket: options.bucket,
          Key: batch.id,
          Tagging: { TagSet: [{ Key: TAG_KEY, Value: new Date().toISOString() }] },
        }),
      );
    },
  });
}

/** Every failed batch in the bucket, oldest key first, with whether an earlier run put it back. */
export async function listFailedBatches(options: Pick<AwsRedriveOptions, 's3' | 'bucket'>): Promise<FailedBatch[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await options.s3.send(
      new ListObjectsV2Command({ Bucket: options.bucket, Prefix: FAILED_BATCHES_PREFIX, ...(token === undefined ? {} : { ContinuationToken: token }) }),
    );
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  const batches: FailedBatch[] = [];
  for (const key of keys.sort()) {
    const tags = await options.s3.send(new GetObjectTaggingCommand({ Bucket: options.bucket, Key: key }));
    const object = await options.s3.send(new GetObjectCommand({ Bucket: options.bucket, Key: key }));
    const text = (await object.Body?.transformToString('utf8')) ?? '';
    batches.push(parseFailedBatch(key, text, (tags.TagSet ?? []).some((tag) => tag.Key === TAG_KEY)));
  }
  return batches;
}

/** One S3 on-failure object as a FailedBatch; throws FailedBatchError naming the key and the field. */
export function parseFailedBatch(key: string, text: string, redriven: boolean): FailedBatch {
  const where = `s3 object ${key}`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new FailedBatchError(`${where}: not JSON`);
  }
  const context = body['requestContext'] as { functionArn?: unknown; condition?: unknown } | undefined;
  const info = body['KinesisBatchInfo'] as { shardId?: unknown } | undefined;
  if (typeof context?.functionArn !== 'string') throw new FailedBatchError(`${where}: requestContext.functionArn is missing`);
  if (typeof info?.shardId !== 'string') throw new FailedBatchError(`${where}: KinesisBatchInfo.shardId is missing (not a Kinesis batch)`);
  let payload = body['payload'];
  if (typeof payload === 'string') {
    try {
      payload = JSON.parse(payload);
    } catch {
      throw new FailedBatchError(`${where}: payload is text but not JSON`);
    }
  }
  if (payload === undefined) throw new FailedBatchError(`${where}: no payload (the batch's records): only the metadata was kept`);
  return {
    id: key,
    consumer: functionName(context.functionArn),
    condition: typeof context.condition === 'string' ? context.condition : 'unknown',
    shardId: info.shardId,
    failedAt: typeof body['timestamp'] === 'string' ? body['timestamp'] : '',
    records: recordsOfEvent(payload, where),
    redriven,
  };
}

/** `arn:aws:lambda:r:a:function:NAME[:qualifier]` -> NAME. */
function functionName(arn: string): string {
  const parts = arn.split(':');
  const at = parts.indexOf('function');
  return at === -1 ? arn : (parts[at + 1] ?? arn);
}

/** PutRecords in chunks, sending again only what Kinesis refused (throttling), with backoff. */
async function putRecords(options: AwsRedriveOptions, batch: FailedBatch): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const attempts = options.attempts ?? 5;
  for (const chunk of chunks(batch.records)) {
    let pending: PutRecordsRequestEntry[] = chunk.map((r) => ({ PartitionKey: r.partitionKey, Data: r.data }));
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const result = await options.kinesis.send(new PutRecordsCommand({ StreamName: options.streamName, Records: pending }));
      const refused = pending.filter((_, i) => result.Records?.[i]?.ErrorCode !== undefined);
      if (refused.length === 0) break;
      if (attempt >= attempts) {
        const reason = result.Records?.find((r) => r.ErrorCode !== undefined);
        throw new RedriveError(
          `${batch.id}: Kinesis refused ${refused.length} record(s) ${attempts} times (${reason?.ErrorCode ?? 'unknown'}: ${reason?.ErrorMessage ?? ''}); nothing was marked, run again later`,
        );
      }
      pending = refused;
      await sleep(200 * 2 ** (attempt - 1));
    }
  }
}

function* chunks(records: readonly RedriveRecord[]): Generator<RedriveRecord[]> {
  let chunk: RedriveRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = record.data.byteLength + Buffer.byteLength(record.partitionKey);
    if (chunk.length === PUT_RECORDS_MAX.records || (chunk.length > 0 && bytes + size > PUT_RECORDS_MAX.bytes)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
