import {
  RejectedRecordsException,
  WriteRecordsCommand,
  type TimestreamWriteClient,
  type _Record as TimestreamRecord,
} from '@aws-sdk/client-timestream-write';
import { pipeline } from '../../../infra/pipeline.js';
import type { Reading } from '../../domain/model.js';
import type { StoreRejection, TimeSeriesStore, WriteOutcome } from '../../ports/time-series-store.js';
import { chunk } from '../../common/chunk.js';
import { retryableOr } from './aws-errors.js';

/** WriteRecords takes at most 100 records per request (Timestream developer guide, ts-limits). */
const TIMESTREAM_MAX_RECORDS_PER_WRITE = 100;

/** Dimension value written when a reading has no `type`: Timestream needs non-empty dimension values. */
export const UNKNOWN_TYPE = 'unknown';

/** The dimensions of every record: a metric may not share their names (the columns would clash). */
const DIMENSION_NAMES = ['deviceId', 'type'] as const;

interface TimestreamStoreOptions {
  readonly client: TimestreamWriteClient;
  readonly databaseName: string;
  readonly tableName: string;
  /** Measure name of the multi-measure record. @default pipeline.tables.timestreamMeasureName */
  readonly measureName?: string;
}

/**
 * The time-series store on Amazon Timestream for LiveAnalytics: one multi-measure record per
 * reading, dimensions `deviceId` and `type`, one DOUBLE measure per metric, time in milliseconds.
 *
 * Idempotence: a record is identified by its dimensions, measure name and time. Its `Version` is
 * `seq + 1` (Version must be at least 1), or 1 when the reading has no `seq` (Timestream's own
 * default). A replay writes the same values with the same Version, which Timestream accepts as a
 * no-op; a reading at the same time with a higher `seq` replaces the stored one (an upsert); a lower
 * or equal `seq` with different values is refused as a RejectedRecord, which we keep as a reject with
 * Timestream's reason. (WriteRecords API, "Upserts":
 * https://docs.aws.amazon.com/timestream/latest/developerguide/API_WriteRecords.html; docs/aws-semantics.md
 * section 4.)
 *
 * Outcomes: RejectedRecordsException -> those readings are rejected with Timestream's Reason (the
 * other records of the request were written); throttling, 5xx and timeouts -> RetryableError; any
 * other error (ValidationException, AccessDenied, ResourceNotFound) propagates unchanged.
 */
export class TimestreamStore implements TimeSeriesStore {
  readonly maxReadingsPerWrite = TIMESTREAM_MAX_RECORDS_PER_WRITE;
  readonly #client: TimestreamWriteClient;
  readonly #databaseName: string;
  readonly #tableName: string;
  readonly #measureName: string;

  constructor(options: TimestreamStoreOptions) {
    this.#client = options.client;
    this.#databaseName = options.databaseName;
    this.#tableName = options.tableName;
    this.#measureName = options.measureName ?? pipeline.tables.timestreamMeasureName;
  }

  /** Writes `readings` (in requests of at most 100; callers usually chunk already). */
  async write(readings: readonly Reading[]): Promise<WriteOutcome> {
    const rejected: StoreRejection[] = [];
    for (const [chunkIndex, slice] of chunk(readings, this.maxReadingsPerWrite).entries()) {
      const offset = chunkIndex * this.maxReadingsPerWrite;
      rejected.push(...(await this.#writeChunk(slice, offset)));
    }
    return { rejected };
  }

  async #writeChunk(readings: readonly Reading[], offset: number): Promise<StoreRejection[]> {
    const rejected: StoreRejection[] = [];
    const records: TimestreamRecord[] = [];
    /** records[i] holds readings[sent[i]]: maps Timestream's RecordIndex back to ours. */
    const sent: number[] = [];
    /** Readings identical to one already in this request (an at-least-once duplicate): i -> record index. */
    const duplicates = new Map<number, number>();
    const recordIndexByKey = new Map<string, number>();
    for (const [i, reading] of readings.entries()) {
      const refusal = unwritableMetric(reading);
      if (refusal !== undefined) {
        rejected.push({ index: offset + i, reason: refusal });
        continue;
      }
      const record = toTimestreamRecord(reading);
      // Sent once: the same record twice in one request is at best redundant, and how Timestream
      // treats an in-request duplicate is not documented. The copy shares the original's fate.
      const key = JSON.stringify(record);
      const first = recordIndexByKey.get(key);
      if (first !== undefined) {
        duplicates.set(i, first);
        continue;
      }
      recordIndexByKey.set(key, records.length);
      records.push(record);
      sent.push(i);
    }
    if (records.length === 0) return rejected;

    const command = new WriteRecordsCommand({
      DatabaseName: this.#databaseName,
      TableName: this.#tableName,
      CommonAttributes: { MeasureName: this.#measureName, MeasureValueType: 'MULTI', TimeUnit: 'MILLISECONDS' },
      Records: records,
    });
    try {
      await this.#client.send(command);
    } catch (error) {
      if (!(error instanceof RejectedRecordsException)) {
        throw retryableOr(error, `Timestream WriteRecords ${this.#databaseName}.${this.#tableName}`);
      }
      const reasons = new Map<number, string>();
      for (const record of error.RejectedRecords ?? []) {
        // An index we did not send would mean a different request shape: fail loudly, don't guess.
        if (record.RecordIndex === undefined || sent[record.RecordIndex] === undefined) throw error;
        reasons.set(record.RecordIndex, record.Reason ?? 'rejected by Timestream (no reason given)');
      }
      for (const [recordIndex, reason] of reasons) rejected.push({ index: offset + (sent[recordIndex] as number), reason });
      for (const [i, recordIndex] of duplicates) {
        const reason = reasons.get(recordIndex);
        if (reason !== undefined) rejected.push({ index: offset + i, reason });
      }
    }
    return rejected.sort((a, b) => a.index - b.index);
  }
}

/**
 * The multi-measure record of one reading (MeasureName, MeasureValueType and TimeUnit come from
 * the request's CommonAttributes; they hold no dimensions, so nothing overlaps).
 */
function toTimestreamRecord(reading: Reading): TimestreamRecord {
  return {
    Dimensions: [
      { Name: 'deviceId', Value: reading.deviceId },
      { Name: 'type', Value: reading.type === undefined || reading.type === '' ? UNKNOWN_TYPE : reading.type },
    ],
    MeasureValues: Object.entries(reading.metrics).map(([name, value]) => ({
      Name: name,
      Value: String(value),
      Type: 'DOUBLE',
    })),
    Time: String(reading.ts),
    Version: reading.seq === undefined ? 1 : reading.seq + 1,
  };
}

/**
 * Why Timestream cannot take this reading's metrics as column names, or undefined when it can.
 * Reserved: `time`, `measure_name`, `measure_value*`, anything starting `ts_` (Timestream naming
 * constraints, as stated in the IoT TimestreamDimension API), and our two dimension names. Checked
 * here, case-insensitively to be safe, because whether Timestream refuses such a record alone or
 * the whole request is undocumented; a refused request would stall the shard on a poison reading.
 */
function unwritableMetric(reading: Reading): string | undefined {
  for (const name of Object.keys(reading.metrics)) {
    const lower = name.toLowerCase();
    if (lower === 'time' || lower === 'measure_name' || lower.startsWith('measure_value') || lower.startsWith('ts_')) {
      return `metrics.${name}: reserved column name in Timestream`;
    }
    if (DIMENSION_NAMES.some((dimension) => dimension.toLowerCase() === lower)) {
      return `metrics.${name}: clashes with the Timestream dimension of the same name`;
    }
  }
  return undefined;
}
