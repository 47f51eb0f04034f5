/**
 * What `npm run redrive` works on, on both runtimes: a batch an event source mapping gave up on, as
 * its on-failure destination kept it (the metadata record and the invocation's records), and the
 * records to put back on the stream. Plain data and parsing: no AWS SDK, no SQLite.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { FleetTelemetryError } from '../lambdas/domain/errors.js';

/** One record to put back: the partition key (the deviceId) and the bytes the rule wrote. */
export interface RedriveRecord {
  readonly partitionKey: string;
  readonly data: Buffer;
}

/** A kept failed batch. `id`: the local table's row id, or the S3 object key. */
export interface FailedBatch {
  readonly id: string;
  /** The consumer that gave up on it (local: the mapping's name; AWS: the function named in the metadata). */
  readonly consumer: string;
  /** RetryAttemptsExhausted, RecordAgeExceeded, ... as the metadata record says. */
  readonly condition: string;
  readonly shardId: string;
  /** ISO-8601, when the destination received it. */
  readonly failedAt: string;
  readonly records: readonly RedriveRecord[];
  /** Put back before (by an earlier run): skipped unless asked again. */
  readonly redriven: boolean;
}

/** A failed batch that cannot be read back: names it and the field. */
export class FailedBatchError extends FleetTelemetryError {}

/** The records of the invocation event a failed batch kept, in order. */
export function recordsOfEvent(event: unknown, where: string): RedriveRecord[] {
  const records = (event as Partial<KinesisStreamEvent> | null)?.Records;
  if (!Array.isArray(records)) throw new FailedBatchError(`${where}: payload has no Records list`);
  return records.map((record, i) => {
    const kinesis = (record as Partial<KinesisStreamEvent['Records'][number]> | null)?.kinesis;
    if (typeof kinesis?.partitionKey !== 'string' || kinesis.partitionKey === '') {
      throw new FailedBatchError(`${where}: Records[${i}].kinesis.partitionKey is missing`);
    }
    if (typeof kinesis.data !== 'string') throw new FailedBatchError(`${where}: Records[${i}].kinesis.data is missing`);
    return { partitionKey: kinesis.partitionKey, data: Buffer.from(kinesis.data, 'base64') };
  });
}

/** What one run did (or, with --dry-run, would do). */
export interface RedriveReport {
  readonly target: 'local' | 'aws';
  readonly dryRun: boolean;
  readonly batches: readonly {
    readonly id: string;
    readonly consumer: string;
    readonly condition: string;
    readonly shardId: string;
    readonly failedAt: string;
    readonly records: number;
    /** redriven: put back now; would-redrive: --dry-run; skipped: put back by an earlier run. */
    readonly outcome: 'redriven' | 'would-redrive' | 'skipped';
  }[];
  /** Records put back on the stream (or that would be, with --dry-run). */
  readonly records: number;
}

/** Decides each batch's outcome and counts, the same way on both runtimes. */
export async function redriveBatches(
  target: RedriveReport['target'],
  batches: readonly FailedBatch[],
  options: { readonly dryRun: boolean; readonly putBack: (batch: FailedBatch) => Promise<void> },
): Promise<RedriveReport> {
  const report: RedriveReport['batches'][number][] = [];
  let records = 0;
  for (const batch of batches) {
    const outcome = batch.redriven ? 'skipped' : options.dryRun ? 'would-redrive' : 'redriven';
    if (outcome === 'redriven') await options.putBack(batch);
    if (outcome !== 'skipped') records += batch.records.length;
    report.push({
      id: batch.id,
      consumer: batch.consumer,
      condition: batch.condition,
      shardId: batch.shardId,
      failedAt: batch.failedAt,
      records: batch.records.length,
      outcome,
    });
  }
  return { target, dryRun: options.dryRun, batches: report, records };
}

/** One line per batch, then what was done. */
export function formatRedriveReport(report: RedriveReport): string {
  const verb = { redriven: 'put back', 'would-redrive': 'would put back', skipped: 'skipped (put back before)' } as const;
  const lines = report.batches.map(
    (b) => `${b.id}  ${b.consumer}  ${b.condition}  ${b.shardId}  failed ${b.failedAt}  ${b.records} record(s)  ${verb[b.outcome]}`,
  );
  const pending = report.batches.filter((b) => b.outcome !== 'skipped').length;
  lines.push(
    report.batches.length === 0
      ? 'No failed batches kept.'
      : report.dryRun
        ? `Dry run: ${pending} batch(es), ${report.records} record(s) would go back on the stream; nothing was changed.`
        : `${pending} batch(es), ${report.records} record(s) put back on the stream.`,
  );
  return lines.join('\n');
}
