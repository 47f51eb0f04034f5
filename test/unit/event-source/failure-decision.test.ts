/** The split / retry / discard decision for a failed batch, one row per rule (failure-decision.ts). */
import { describe, expect, it } from 'vitest';
import { decideOnFailure } from '../../../infra/local/event-source/failure-decision.js';
import type { BatchFailure, FailureDecision } from '../../../infra/local/event-source/failure-decision.js';

const full: BatchFailure = { kind: 'failure' };
const partialFrom = (firstFailedIndex: number): BatchFailure => ({ kind: 'partial', firstFailedIndex });

describe('decideOnFailure', () => {
  it.each<[string, BatchFailure, number, number, boolean, number, FailureDecision]>([
    // name, failure, size, retries made, bisect, MaximumRetryAttempts, decision
    ['a full failure with bisect is split in two halves, not retried', full, 5, 0, true, 3, { kind: 'split', succeeded: 0, parts: [[0, 2], [2, 5]] }],
    ['the halves of a split keep the retry count (splitting is not a retry)', full, 4, 2, true, 2, { kind: 'split', succeeded: 0, parts: [[0, 2], [2, 4]] }],
    ['a failed single record with bisect has nothing to split: it is a retry', full, 1, 0, true, 3, { kind: 'retry', succeeded: 0, retries: 1 }],
    ['a full failure without bisect is retry number retries + 1', full, 5, 1, false, 3, { kind: 'retry', succeeded: 0, retries: 2 }],
    ['a full failure past MaximumRetryAttempts is discarded', full, 5, 3, false, 3, { kind: 'discard', succeeded: 0 }],
    ['MaximumRetryAttempts 0 discards on the first failure', full, 1, 0, true, 0, { kind: 'discard', succeeded: 0 }],
    ['MaximumRetryAttempts -1 retries without limit', full, 5, 9_999, false, -1, { kind: 'retry', succeeded: 0, retries: 10_000 }],
    ['a partial failure with bisect completes the records before it and splits off the rest', partialFrom(2), 5, 0, true, 3, { kind: 'split', succeeded: 2, parts: [[2, 5]] }],
    ['a partial failure at the first record with bisect is a retry of the whole batch', partialFrom(0), 5, 0, true, 3, { kind: 'retry', succeeded: 0, retries: 1 }],
    ['a partial failure without bisect retries only the rest, as a retry', partialFrom(3), 5, 0, false, 3, { kind: 'retry', succeeded: 3, retries: 1 }],
    ['a partial failure past MaximumRetryAttempts discards only the rest', partialFrom(3), 5, 3, false, 3, { kind: 'discard', succeeded: 3 }],
    ['a partial failure at the last record with bisect splits off that record', partialFrom(4), 5, 7, true, 3, { kind: 'split', succeeded: 4, parts: [[4, 5]] }],
  ])('%s', (_name, failure, size, retries, bisect, maximumRetryAttempts, expected) => {
    expect(decideOnFailure(failure, { size, retries }, { bisectBatchOnFunctionError: bisect, maximumRetryAttempts })).toEqual(expected);
  });
});
