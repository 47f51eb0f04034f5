/**
 * The on-failure destination record. What Lambda sends to an SQS/SNS destination when it discards a
 * Kinesis batch (Lambda developer guide, "Retain discarded batch records for a Kinesis Data Streams
 * event source"); the records themselves are kept beside it, as Lambda does for an S3 destination
 * ("For Amazon S3 destinations, Lambda also sends the entire invocation record along with the metadata").
 */
import type { KinesisStreamEvent } from 'aws-lambda';

/**
 * Why a batch was discarded. `RetryAttemptsExhausted` is documented; the value for a record-age
 * discard is not in AWS text: `RecordAgeExceeded` is what LocalStack sends
 * (localstack `…/pollers/stream_poller.py`).
 */
export const FAILURE_CONDITION = {
  retryAttemptsExhausted: 'RetryAttemptsExhausted',
  recordAgeExceeded: 'RecordAgeExceeded',
} as const;
export type FailureCondition = (typeof FAILURE_CONDITION)[keyof typeof FAILURE_CONDITION];

/** The metadata record, field for field as AWS sends it to an SQS destination. */
export interface OnFailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: FailureCondition;
    readonly approximateInvokeCount: number;
  };
  /** Absent when the records were discarded before any invocation (record age). */
  readonly responseContext?: {
    readonly statusCode: number;
    readonly executedVersion: string;
    readonly functionError?: string;
  };
  readonly version: '1.0';
  /** ISO-8601, when the batch was discarded. */
  readonly timestamp: string;
  readonly KinesisBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    /** ISO-8601. */
    readonly approximateArrivalOfFirstRecord: string;
    /** ISO-8601. */
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

/** One row of the local on-failure destination. */
export interface FailureEntry {
  readonly id: number;
  readonly consumer: string;
  readonly shardId: string;
  readonly condition: FailureCondition;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly metadata: OnFailureRecord;
  /** The discarded records, as the event the function was (or would have been) invoked with. */
  readonly payload: KinesisStreamEvent;
}

/** One entry to write to the destination: the batch's metadata record and its records. */
export interface FailureWrite {
  readonly shardId: string;
  readonly condition: FailureCondition;
  readonly metadata: OnFailureRecord;
  readonly payload: KinesisStreamEvent;
}
