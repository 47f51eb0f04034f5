/**
 * The event Lambda builds from Kinesis records (Lambda developer guide, "Using Lambda with Kinesis",
 * example event; DefinitelyTyped `trigger/kinesis-stream.d.ts`).
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import type { ShardRecord } from '../stream/index.js';
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

/**
 * One record as Lambda delivers it: base64 data, arrival in epoch seconds with a millisecond fraction.
 * Every invocation builds fresh objects and strings, so a handler that mutates its event cannot
 * change what a retry receives (the held record itself never reaches the handler).
 */
export function toKinesisStreamRecord(record: ShardRecord, context: EventContext): KinesisStreamRecord {
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

/**
 * Sizes records of the event without serializing them: `JSON.stringify` of every record read only to
 * measure it was 6% of the whole local stack's CPU (docs/architecture.md, Performance). A record's
 * JSON is the fixed text of {@link toKinesisStreamRecord} (same keys, same order) plus its variable
 * fields, each sized here exactly as JSON.stringify writes it, in UTF-8 bytes.
 */
export class EventSizer {
  /** Everything of a record's JSON that is the same for every record of this mapping. */
  private readonly fixedBytes: number;

  constructor(context: EventContext) {
    // The record's JSON with every variable field empty: its keys, punctuation and constant values
    // (the quotes of each string, the colon of eventID, the ARNs, region and versions).
    const skeleton = toKinesisStreamRecord(
      { shardId: '', sequenceNumber: '', partitionKey: '', data: Buffer.alloc(0), approximateArrivalTimestamp: 0 },
      context,
    );
    // The empty approximateArrivalTimestamp is written `0`: one byte that numberBytes counts again.
    this.fixedBytes = Buffer.byteLength(JSON.stringify(skeleton)) - 1;
  }

  /** Bytes this record adds to the event's JSON (not counting the comma before it). */
  recordBytes(source: { readonly shardId: string; readonly sequenceNumber: string; readonly partitionKey: string; readonly dataBytes: number; readonly approximateArrivalTimestamp: number }): number {
    return (
      this.fixedBytes +
      jsonStringContentBytes(source.partitionKey) +
      // The sequence number twice (sequenceNumber, and eventID after the shard id and a colon).
      2 * jsonStringContentBytes(source.sequenceNumber) +
      jsonStringContentBytes(source.shardId) +
      base64Length(source.dataBytes) +
      numberBytes(source.approximateArrivalTimestamp / 1000)
    );
  }
}

/** Bytes of the event holding records of these sizes (records joined by commas inside the envelope). */
export function eventJsonBytes(recordBytes: readonly number[]): number {
  return EVENT_ENVELOPE_BYTES + recordBytes.reduce((sum, b) => sum + b, 0) + Math.max(0, recordBytes.length - 1);
}

/** Characters of standard base64 (with padding) for `bytes` bytes: 4 for every 3, rounded up. */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/** UTF-8 bytes of a finite number as JSON writes it (JSON.stringify uses Number.prototype.toString). */
function numberBytes(value: number): number {
  return String(value).length;
}

/**
 * UTF-8 bytes of `text` inside a JSON string, quotes excluded, as JSON.stringify escapes it
 * (ECMA-262 QuoteJSONString): `"` and `\` take 2; \b \t \n \f \r take 2; other controls below U+0020
 * take 6 (`\u00XX`); a lone surrogate takes 6 (`\uXXXX`, "well-formed JSON.stringify", ES2019); a
 * surrogate pair is one code point of 4 UTF-8 bytes; anything else its UTF-8 length (U+2028 and
 * U+2029 are not escaped).
 */
export function jsonStringContentBytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) {
      if (c === 0x22 || c === 0x5c) bytes += 1;
    } else if (c < 0x20) {
      bytes += c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 1 : 5;
    } else if (c < 0x80) {
      // U+007F (DEL) is written as it is: one byte.
    } else if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A pair: two UTF-16 units, four UTF-8 bytes.
        bytes += 2;
        i++;
      } else {
        bytes += 5;
      }
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      bytes += 5;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}
