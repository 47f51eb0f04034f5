import type { Reading } from '../domain/model.js';

/** Readings the store refused for a data reason (never retried): index into the written array. */
export interface StoreRejection {
  readonly index: number;
  readonly reason: string;
}

export interface WriteOutcome {
  readonly rejected: readonly StoreRejection[];
  /**
   * Readings the store could not write this time for a transient reason (DynamoDB's UnprocessedItems
   * still unprocessed after its retries), by index: their records are retried. The others were written.
   */
  readonly retry?: readonly number[];
}

/**
 * Where the time series goes (DynamoDB or Timestream on AWS, SQLite locally). Writing the same reading twice
 * (same deviceId, ts, seq) must be an idempotent upsert. A transient failure (throttling, 5xx)
 * throws a RetryableError (lambdas/domain/errors.ts) so the records are retried.
 */
export interface TimeSeriesStore {
  /** The most readings one write takes (Timestream: 100 per WriteRecords); callers chunk to it. */
  readonly maxReadingsPerWrite: number;
  write(readings: readonly Reading[]): Promise<WriteOutcome>;
}
