/**
 * Use case of the ingest consumer: one stream batch into the time series. Valid readings are
 * stored, poison is kept in the reject sink with its reason, and only what a retry can fix comes back
 * as failed (docs/architecture.md, "Outcomes of a record").
 */
import { telemetryTopic } from '../../infra/pipeline.js';
import { InvariantError, RetryableError } from '../domain/errors.js';
import type { BatchOutcome, Reading, RecordRef, RejectedMessage, StreamRecord } from '../domain/model.js';
import { decodeStreamRecord, originalPayload } from '../domain/telemetry.js';
import type { Clock } from '../ports/clock.js';
import type { Log, Metrics } from '../ports/observability.js';
import { METRIC } from '../ports/observability.js';
import type { RejectSink } from '../ports/reject-sink.js';
import type { TimeSeriesStore } from '../ports/time-series-store.js';
import { mapWithLimit } from './concurrency.js';

export interface StoreReadingsDeps {
  /**
   * Where valid readings go. Absent with `timeSeriesStore=none`: the batch is still decoded and its
   * malformed records kept in the reject sink with their reasons; valid readings are stored nowhere
   * (and not counted as stored).
   */
  readonly store?: TimeSeriesStore | undefined;
  readonly rejects: RejectSink;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: Log;
  /**
   * Store writes in flight at once. Default 4: a 500-record batch is 5 Timestream writes, and
   * writing them side by side keeps a shard's latency near one write's.
   */
  readonly maxConcurrentWrites?: number;
}

/** A record's place in the batch, so failures come back in stream order. */
interface Indexed<T> {
  readonly index: number;
  readonly ref: RecordRef;
  readonly value: T;
}

/**
 * Stores a batch of stream records.
 * - A record that breaks the telemetry contract is kept in the reject sink (stage `decode`).
 * - Valid readings are written in chunks of `store.maxReadingsPerWrite`; a reading the store refuses
 *   is kept (stage `store`, the store's reason); a chunk that throws a RetryableError fails its records,
 *   and so does each reading the store returns to retry.
 * - All rejects of the batch go to the sink in one call; if it throws, their records fail instead (a
 *   reject is never lost).
 * - Any other error throws: the whole invocation fails and is retried.
 * @returns the records to retry, in stream order.
 */
export async function storeReadings(records: readonly StreamRecord[], deps: StoreReadingsDeps): Promise<BatchOutcome> {
  const rejectedAt = deps.clock.now();
  const valid: Indexed<Reading>[] = [];
  const rejects: Indexed<RejectedMessage>[] = [];
  records.forEach((record, index) => {
    const decoded = decodeStreamRecord(record);
    if (decoded.success) valid.push({ index, ref: record.ref, value: decoded.reading });
    else rejects.push({ index, ref: record.ref, value: { ...decoded.rejection, stage: 'decode', record: record.ref, rejectedAt } });
  });

  const written = await writeInChunks(valid, records, rejectedAt, deps);
  rejects.push(...written.rejects);
  const unkept = await keepRejects(rejects, deps);

  const failed = [...written.failed, ...unkept].sort((a, b) => a.index - b.index).map((item) => item.ref);
  if (written.stored > 0) deps.metrics.count(METRIC.readingsStored, written.stored);
  if (failed.length > 0) deps.metrics.count(METRIC.recordsRetried, failed.length);
  deps.log.debug('batch stored', {
    records: records.length,
    stored: written.stored,
    rejected: rejects.length - unkept.length,
    failed: failed.length,
  });
  return { failed };
}

async function writeInChunks(
  valid: readonly Indexed<Reading>[],
  records: readonly StreamRecord[],
  rejectedAt: number,
  deps: StoreReadingsDeps,
): Promise<{ stored: number; failed: Indexed<Reading>[]; rejects: Indexed<RejectedMessage>[] }> {
  const store = deps.store;
  if (store === undefined) return { stored: 0, failed: [], rejects: [] };
  const size = store.maxReadingsPerWrite;
  const chunks: Indexed<Reading>[][] = [];
  for (let start = 0; start < valid.length; start += size) chunks.push(valid.slice(start, start + size));

  let stored = 0;
  const failed: Indexed<Reading>[] = [];
  const rejects: Indexed<RejectedMessage>[] = [];
  await mapWithLimit(chunks, deps.maxConcurrentWrites ?? 4, async (chunk) => {
    let outcome;
    try {
      outcome = await store.write(chunk.map((item) => item.value));
    } catch (error) {
      // Only a transient failure is this chunk's alone; anything else fails the invocation.
      if (!(error instanceof RetryableError)) throw error;
      deps.log.warn('store write failed, its records will be retried', { records: chunk.length, error: String(error) });
      failed.push(...chunk);
      return;
    }
    const refused = new Set<number>();
    for (const { index, reason } of outcome.rejected) {
      const item = chunk[index];
      // A store that names a reading outside the write breaks its port; better loud than a lost record.
      if (item === undefined || refused.has(index)) throw new InvariantError(`store rejected index ${index} of a ${chunk.length}-reading write`);
      refused.add(index);
      const record = records[item.index] as StreamRecord;
      rejects.push({
        index: item.index,
        ref: item.ref,
        value: {
          reason,
          stage: 'store',
          deviceId: item.value.deviceId,
          topic: telemetryTopic(item.value.deviceId),
          payload: originalPayload(record),
          record: item.ref,
          rejectedAt,
        },
      });
    }
    const retried = new Set<number>();
    for (const index of outcome.retry ?? []) {
      const item = chunk[index];
      if (item === undefined || refused.has(index) || retried.has(index)) throw new InvariantError(`store returned index ${index} of a ${chunk.length}-reading write to retry`);
      retried.add(index);
      failed.push(item);
    }
    if (retried.size > 0) deps.log.warn('store could not write some readings yet, their records will be retried', { records: retried.size });
    stored += chunk.length - refused.size - retried.size;
  });
  return { stored, failed, rejects };
}

/** Keeps the rejects in one call; returns those that could not be kept (their records are retried). */
async function keepRejects(rejects: readonly Indexed<RejectedMessage>[], deps: StoreReadingsDeps): Promise<Indexed<RejectedMessage>[]> {
  if (rejects.length === 0) return [];
  try {
    await deps.rejects.reject(rejects.map((item) => item.value));
  } catch (error) {
    deps.log.error('reject sink failed, the rejected records will be retried', { records: rejects.length, error: String(error) });
    return [...rejects];
  }
  const byField = new Map<string, number>();
  for (const { value } of rejects) {
    // Store reasons are free text from the store: one bounded dimension value for all of them.
    const field = value.stage === 'store' ? 'store' : fieldOf(value.reason);
    byField.set(field, (byField.get(field) ?? 0) + 1);
  }
  for (const [field, count] of byField) deps.metrics.count(METRIC.readingsRejected, count, { name: 'field', value: field });
  for (const { value } of rejects) {
    deps.log.info('message rejected', { reason: value.reason, stage: value.stage, deviceId: value.deviceId, sequenceNumber: value.record.sequenceNumber });
  }
  return [];
}

/** The first segment of a reason's field path: `metrics.temperature: ...` -> `metrics`. */
function fieldOf(reason: string): string {
  return reason.replace(/[.:][^]*$/, '');
}
