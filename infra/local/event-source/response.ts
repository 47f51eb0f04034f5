/**
 * What Lambda makes of a function's response to a Kinesis batch (Lambda developer guide,
 * "Configuring partial batch response with Kinesis Data Streams and Lambda"):
 *
 * - Without ReportBatchItemFailures the response is ignored: returning is success.
 * - Success: a null or empty `batchItemFailures` list, an empty or null response.
 * - Full failure: an `itemIdentifier` that is an empty string, null, or under a wrong key name.
 * - Otherwise the lowest reported sequence number is the checkpoint; Lambda retries from it.
 *
 * Our choices where AWS is silent (recorded in docs/architecture.md):
 * - An identifier that is not the sequence number of a record of this batch is a full failure
 *   (LocalStack does the same): guessing would risk skipping records.
 * - A response that is not an object (a string, a number, an array), or a `batchItemFailures` that is
 *   not an array, is a full failure, for the same reason.
 * - An object without `batchItemFailures` is success, as a null list is.
 */

/** What one invocation did to its batch, as Lambda reads the response (not the use cases' BatchOutcome, which the handler turned into that response). */
export type InvocationOutcome =
  | { readonly kind: 'success' }
  /** Records before `firstFailedIndex` succeeded; from it on they are to be retried. */
  | { readonly kind: 'partial'; readonly firstFailedIndex: number }
  | { readonly kind: 'failure'; readonly reason: string };

interface InterpretOptions {
  readonly reportBatchItemFailures: boolean;
}

/**
 * Interprets a handler's response for a batch whose records carry `sequenceNumbers` (in order).
 * @example interpretResponse({ batchItemFailures: [{ itemIdentifier: s3 }, { itemIdentifier: s2 }] }, [s1, s2, s3], { reportBatchItemFailures: true })
 *   // { kind: 'partial', firstFailedIndex: 1 }
 */
export function interpretResponse(
  response: unknown,
  sequenceNumbers: readonly string[],
  options: InterpretOptions,
): InvocationOutcome {
  if (!options.reportBatchItemFailures) return { kind: 'success' };
  if (response === null || response === undefined) return { kind: 'success' };
  if (typeof response !== 'object' || Array.isArray(response)) {
    return { kind: 'failure', reason: `response is not an object (${Array.isArray(response) ? 'array' : typeof response})` };
  }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'failure', reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success' };

  const position = new Map(sequenceNumbers.map((s, i) => [s, i]));
  let lowest = Number.POSITIVE_INFINITY;
  for (const [i, item] of failures.entries()) {
    const id: unknown = item !== null && typeof item === 'object' ? (item as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '') {
      return {
        kind: 'failure',
        reason: `batchItemFailures[${i}]: itemIdentifier is empty, null or missing (${JSON.stringify(item)})`,
      };
    }
    const index = position.get(id);
    if (index === undefined) {
      return { kind: 'failure', reason: `batchItemFailures[${i}]: ${JSON.stringify(id)} is not a sequence number of this batch` };
    }
    lowest = Math.min(lowest, index);
  }
  return { kind: 'partial', firstFailedIndex: lowest };
}
