/**
 * What an event source mapping does with a batch that did not fully succeed: split it, retry it, or
 * give up on it. Pure: the mapping applies the decision (marks records done, queues parts, schedules
 * the retry, writes the on-failure record).
 *
 * The rules ("Using Lambda with Kinesis", error handling, and "Retain discarded batch records":
 * https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html; docs/aws-semantics.md
 * section 3):
 * - A partial failure reported at index i > 0: records before i are done. With BisectBatchOnFunctionError
 *   "the batch is bisected at the returned sequence number and Lambda retries only the remaining
 *   records": a split, which does not count toward MaximumRetryAttempts. Choice: without bisect, or
 *   when the first record failed (nothing to split), the rest is retried as a retry of the batch.
 * - A full failure (a thrown error, or a response that counts as one): with BisectBatchOnFunctionError
 *   and more than one record, the batch is split in two halves ("regardless of your
 *   ReportBatchItemFailures setting"); the halves keep the retry count.
 * - Otherwise it is a retry: retry number `retries + 1`, unless MaximumRetryAttempts (-1: no limit)
 *   is used up, and then the records are discarded (condition RetryAttemptsExhausted).
 */
import type { EventSourceMappingSettings } from '../../pipeline.js';

/** How a batch failed: from `firstFailedIndex` on (a partial batch response), or all of it. */
export type BatchFailure = { readonly kind: 'partial'; readonly firstFailedIndex: number } | { readonly kind: 'failure' };

/** A batch whose invocation failed: how many records it held and the retries already made (not redrive's FailedBatch, a batch in the failure destination). */
export interface FailedAttempt {
  readonly size: number;
  /** Retries already made for these records. */
  readonly retries: number;
}

export type FailurePolicy = Pick<EventSourceMappingSettings, 'bisectBatchOnFunctionError' | 'maximumRetryAttempts'>;

/** Records are addressed as `[start, end)` index ranges of the failed batch. */
export type FailureDecision =
  /** Records before `succeeded` are done; run `parts` again at once, in order, with the same retry count. */
  | { readonly kind: 'split'; readonly succeeded: number; readonly parts: readonly (readonly [start: number, end: number])[] }
  /** Records before `succeeded` are done; retry the rest after a backoff, as retry number `retries`. */
  | { readonly kind: 'retry'; readonly succeeded: number; readonly retries: number }
  /** Records before `succeeded` are done; the rest go to the on-failure destination and the shard moves on. */
  | { readonly kind: 'discard'; readonly succeeded: number };

/**
 * @example decideOnFailure({ kind: 'failure' }, { size: 4, retries: 0 }, { bisectBatchOnFunctionError: true, maximumRetryAttempts: 2 })
 *   // { kind: 'split', succeeded: 0, parts: [[0, 2], [2, 4]] }
 */
export function decideOnFailure(failure: BatchFailure, batch: FailedAttempt, policy: FailurePolicy): FailureDecision {
  const bisect = policy.bisectBatchOnFunctionError;
  if (failure.kind === 'partial') {
    const succeeded = failure.firstFailedIndex;
    if (succeeded > 0 && bisect) return { kind: 'split', succeeded, parts: [[succeeded, batch.size]] };
    return retryOrDiscard(succeeded, batch.retries, policy.maximumRetryAttempts);
  }
  if (bisect && batch.size > 1) {
    const half = Math.floor(batch.size / 2);
    return { kind: 'split', succeeded: 0, parts: [[0, half], [half, batch.size]] };
  }
  return retryOrDiscard(0, batch.retries, policy.maximumRetryAttempts);
}

function retryOrDiscard(succeeded: number, retriesMade: number, maximumRetryAttempts: number): FailureDecision {
  const retries = retriesMade + 1;
  if (maximumRetryAttempts >= 0 && retries > maximumRetryAttempts) return { kind: 'discard', succeeded };
  return { kind: 'retry', succeeded, retries };
}
