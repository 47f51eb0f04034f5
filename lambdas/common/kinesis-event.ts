import type { KinesisStreamBatchResponse } from 'aws-lambda';
import { FleetTelemetryError } from '../domain/errors.js';
import type { BatchOutcome, StreamRecord } from '../domain/model.js';

/**
 * The invocation event is not a Kinesis stream event (a wrong trigger, a test event): the whole
 * invocation fails, naming the first field that is wrong.
 */
export class InvalidKinesisEventError extends FleetTelemetryError {}

/**
 * The stream records of a Lambda Kinesis event, in the order Lambda gave them (per shard, by
 * sequence number). Shape: "Using Lambda with Kinesis",
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html (docs/aws-semantics.md section 2), as
 * DefinitelyTyped's `trigger/kinesis-stream.d.ts` types it: `shardId` is the part of `eventID` before
 * `:`; `data` is base64; `approximateArrivalTimestamp` is epoch seconds with a millisecond fraction, returned in ms.
 *
 * Takes `unknown` and checks the shape at the edge: anything else throws InvalidKinesisEventError.
 */
export function toStreamRecords(event: unknown): StreamRecord[] {
  if (!isObject(event) || !Array.isArray(event['Records'])) {
    throw new InvalidKinesisEventError('not a Kinesis stream event: expected an object with a Records array');
  }
  return event['Records'].map((record: unknown, index: number) => toStreamRecord(record, `Records[${index}]`));
}

function toStreamRecord(record: unknown, where: string): StreamRecord {
  if (!isObject(record)) throw invalid(where, 'not an object');
  if (record['eventSource'] !== 'aws:kinesis') {
    throw invalid(`${where}.eventSource`, `expected "aws:kinesis", got ${JSON.stringify(record['eventSource'])}`);
  }
  const eventId = record['eventID'];
  const separator = typeof eventId === 'string' ? eventId.indexOf(':') : -1;
  if (typeof eventId !== 'string' || separator <= 0) {
    throw invalid(`${where}.eventID`, 'expected "shardId-...:<sequenceNumber>"');
  }
  const kinesis = record['kinesis'];
  if (!isObject(kinesis)) throw invalid(`${where}.kinesis`, 'not an object');
  const { sequenceNumber, partitionKey, data, approximateArrivalTimestamp } = kinesis;
  if (typeof sequenceNumber !== 'string' || sequenceNumber === '') {
    throw invalid(`${where}.kinesis.sequenceNumber`, 'expected a non-empty string');
  }
  if (typeof partitionKey !== 'string') throw invalid(`${where}.kinesis.partitionKey`, 'expected a string');
  if (typeof data !== 'string') throw invalid(`${where}.kinesis.data`, 'expected a base64 string');
  if (typeof approximateArrivalTimestamp !== 'number' || !Number.isFinite(approximateArrivalTimestamp)) {
    throw invalid(`${where}.kinesis.approximateArrivalTimestamp`, 'expected epoch seconds');
  }
  return {
    ref: {
      shardId: eventId.slice(0, separator),
      sequenceNumber,
      partitionKey,
      approximateArrivalTimestamp: Math.round(approximateArrivalTimestamp * 1000),
    },
    // Possibly a view into Node's shared pool (small decodes): only its own bytes are ever read, and
    // copying them out with Uint8Array.from cost 1.2 us per record, per consumer (bench/consumers.ts).
    data: Buffer.from(data, 'base64'),
  };
}

/**
 * The partial batch response: every record a retry can fix, by sequence number. Lambda restarts
 * from the lowest one reported (ReportBatchItemFailures,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html),
 * the same list Powertools' BatchProcessor returns; an empty list means the whole batch succeeded.
 */
export function toBatchResponse(outcome: BatchOutcome): KinesisStreamBatchResponse {
  const seen = new Set<string>();
  const batchItemFailures: KinesisStreamBatchResponse['batchItemFailures'] = [];
  for (const ref of outcome.failed) {
    if (seen.has(ref.sequenceNumber)) continue;
    seen.add(ref.sequenceNumber);
    batchItemFailures.push({ itemIdentifier: ref.sequenceNumber });
  }
  return { batchItemFailures };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(where: string, problem: string): InvalidKinesisEventError {
  return new InvalidKinesisEventError(`not a Kinesis stream event: ${where}: ${problem}`);
}
