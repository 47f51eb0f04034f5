/**
 * The event Lambda builds from Kinesis records (Lambda developer guide, "Using Lambda with Kinesis",
 * example event; DefinitelyTyped `trigger/kinesis-stream.d.ts`).
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { StreamRecord } from '../stream/index.js';
import { LOCAL_AWS } from './arn.js';

/**
 * The synchronous invocation payload limit: "6 MB each for request and response" (Lambda quotas),
 * taken as 6 MiB of the event's JSON. A batch closes before it would pass this.
 */
export const MAX_EVENT_BYTES = 6 * 1024 * 1024;

/** `{"Records":[` + `]}`: what an event costs besides its records and the commas between them. */
const EVENT_ENVELOPE_BYTES = Buffer.byteLength('{"Records":[]}');

export interface EventContext {
  readonly streamArn: string;
  readonly invokeIdentityArn: string;
}

/** One record as Lambda delivers it: base64 data, arrival in epoch seconds with a millisecond fraction. */
export function toKinesisStreamRecord(record: StreamRecord, context: EventContext): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.partitionKey,
      sequenceNumber: record.sequenceNumber,
      data: record.data.toString('base64'),
      approximateArrivalTimestamp: record.approximateArrivalTimestamp / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${record.shardId}:${record.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: context.invokeIdentityArn,
    awsRegion: LOCAL_AWS.region,
    eventSourceARN: context.streamArn,
  };
}

/** Bytes a record adds to the event's JSON. */
export function recordJsonBytes(record: KinesisStreamRecord): number {
  return Buffer.byteLength(JSON.stringify(record));
}

/** Bytes of the event holding records of these sizes (records joined by commas inside the envelope). */
export function eventJsonBytes(recordBytes: readonly number[]): number {
  return EVENT_ENVELOPE_BYTES + recordBytes.reduce((sum, b) => sum + b, 0) + Math.max(0, recordBytes.length - 1);
}

/** A fresh event: each invocation gets its own copies, so a handler that mutates its event harms no retry. */
export function toEvent(records: readonly KinesisStreamRecord[]): KinesisStreamEvent {
  return { Records: records.map((r) => ({ ...r, kinesis: { ...r.kinesis } })) };
}
