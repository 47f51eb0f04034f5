/** The on-failure destination's record for a discarded batch, in the shape Lambda writes ("Retain discarded batch records"). */
import { randomUUID } from 'node:crypto';
import type { FailureCondition, OnFailureRecord } from '../stream/index.js';
import type { Batch } from './shard-state.js';

export interface OnFailureSource {
  readonly functionArn: string;
  readonly streamArn: string;
  readonly shardId: string;
  readonly nowMs: number;
}

export function onFailureRecord(batch: Batch, condition: FailureCondition, source: OnFailureSource): OnFailureRecord {
  const records = batch.records;
  const first = records[0]!;
  const last = records[records.length - 1]!;
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: source.functionArn,
      condition,
      approximateInvokeCount: batch.invocations,
    },
    ...(batch.lastResponse === undefined ? {} : { responseContext: batch.lastResponse }),
    version: '1.0',
    timestamp: new Date(source.nowMs).toISOString(),
    KinesisBatchInfo: {
      shardId: source.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
      batchSize: records.length,
      streamArn: source.streamArn,
    },
  };
}
