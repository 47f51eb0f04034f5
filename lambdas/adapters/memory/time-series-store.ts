import { InvariantError, RetryableError } from '../../domain/errors.js';
import type { Reading } from '../../domain/model.js';
import type { StoreRejection, TimeSeriesStore, WriteOutcome } from '../../ports/time-series-store.js';

interface InMemoryTimeSeriesStoreOptions {
  /** Readings per write. Default 100, Timestream's WriteRecords limit. */
  readonly maxReadingsPerWrite?: number;
}

/**
 * The time-series store in a Map, keyed like Timestream's series: (deviceId, ts, seq). Writing a reading
 * again replaces it (idempotent upsert). Can throw on the next writes and refuse readings for a reason,
 * to exercise the use cases' three outcomes.
 */
export class InMemoryTimeSeriesStore implements TimeSeriesStore {
  readonly maxReadingsPerWrite: number;
  /** The size of every write call, failed ones included, in call order. */
  readonly writeSizes: number[] = [];
  private readonly rows = new Map<string, Reading>();
  private readonly pendingFailures: Error[] = [];
  private readonly refusals: { readonly when: (reading: Reading) => boolean; readonly reason: string }[] = [];

  constructor(options: InMemoryTimeSeriesStoreOptions = {}) {
    this.maxReadingsPerWrite = options.maxReadingsPerWrite ?? 100;
  }

  /** The next `count` write calls throw `error` (default: a RetryableError, as a throttled Timestream would). */
  failNextWrites(count: number, options: { error?: Error } = {}): void {
    for (let i = 0; i < count; i += 1) {
      this.pendingFailures.push(options.error ?? new RetryableError('write throttled (simulated)'));
    }
  }

  /** Refuses every reading `when` matches with `reason`, as Timestream's RejectedRecords does. */
  rejectWhen(when: (reading: Reading) => boolean, reason: string): void {
    this.refusals.push({ when, reason });
  }

  async write(readings: readonly Reading[]): Promise<WriteOutcome> {
    this.writeSizes.push(readings.length);
    if (readings.length > this.maxReadingsPerWrite) {
      throw new InvariantError(`write of ${readings.length} readings exceeds maxReadingsPerWrite ${this.maxReadingsPerWrite}`);
    }
    const failure = this.pendingFailures.shift();
    if (failure !== undefined) throw failure;
    const rejected: StoreRejection[] = [];
    readings.forEach((reading, index) => {
      const refusal = this.refusals.find((candidate) => candidate.when(reading));
      if (refusal === undefined) this.rows.set(seriesKey(reading), reading);
      else rejected.push({ index, reason: refusal.reason });
    });
    return { rejected };
  }

  /** Every stored reading, ordered by deviceId, ts, seq. */
  readings(): Reading[] {
    return [...this.rows.values()].sort(
      (a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.ts - b.ts || (a.seq ?? -1) - (b.seq ?? -1)),
    );
  }

  /** How many distinct readings are stored. */
  get size(): number {
    return this.rows.size;
  }
}

function seriesKey(reading: Reading): string {
  return `${reading.deviceId}\u0000${reading.ts}\u0000${reading.seq ?? ''}`;
}
