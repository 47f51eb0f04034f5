import { QueryCommand, type ColumnInfo, type Row, type TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { pipeline } from '../../../infra/pipeline.js';
import { FleetTelemetryError } from '../../domain/errors.js';
import type { DeviceReadingsQuery, LatestReadingsQuery, NewestReadingsQuery, ReadingRow, ReadingsReader, TimeRange } from '../../ports/readings-reader.js';
import { ownProperty } from './dynamodb-time-series.js';
import { UNKNOWN_TYPE } from './timestream-store.js';

/** A Timestream answer that does not have the shape TimestreamStore writes. */
export class UnexpectedTimestreamRowError extends FleetTelemetryError {}

interface TimestreamReadingsReaderOptions {
  readonly client: TimestreamQueryClient;
  readonly databaseName: string;
  readonly tableName: string;
  /** @default pipeline.tables.timestreamMeasureName */
  readonly measureName?: string;
}

/** The row number latestReadings adds to each record (1: the device's newest). */
const NEWEST_RANK = 'newest_rank';

/** Columns of every record that are not metrics. */
const NON_METRIC_COLUMNS = new Set(['deviceId', 'type', 'measure_name', 'time']);

/**
 * The readings read port on Timestream for LiveAnalytics, in Timestream's SQL: the multi-measure
 * records TimestreamStore writes (dimensions deviceId and type, one DOUBLE column per metric).
 * `SELECT *` gives every metric column of the table, null where a record lacks it. Timestream does
 * not return a record's version, so `seq` reads back as null; `type` written as `unknown` (none
 * given) reads back as null. Pages are followed with NextToken until the query is done.
 */
export class TimestreamReadingsReader implements ReadingsReader {
  readonly #client: TimestreamQueryClient;
  readonly #from: string;
  readonly #measureName: string;

  constructor(options: TimestreamReadingsReaderOptions) {
    this.#client = options.client;
    this.#from = `${quoteIdentifier(options.databaseName)}.${quoteIdentifier(options.tableName)}`;
    this.#measureName = options.measureName ?? pipeline.tables.timestreamMeasureName;
  }

  async deviceReadings(q: DeviceReadingsQuery): Promise<ReadingRow[]> {
    const dir = (q.order ?? 'desc') === 'asc' ? 'ASC' : 'DESC';
    return this.#query(
      `SELECT * FROM ${this.#from} WHERE ${this.#where(q, q.deviceId)} ORDER BY time ${dir}${limit(q.limit)}`,
    );
  }

  async newestReadings(q: NewestReadingsQuery): Promise<ReadingRow[]> {
    return this.#query(`SELECT * FROM ${this.#from} WHERE ${this.#where(q)} ORDER BY time DESC, deviceId DESC${limit(q.limit)}`);
  }

  /**
   * One query: each device's records numbered newest first by a window function, the first kept
   * (https://docs.aws.amazon.com/timestream/latest/developerguide/supported-sql-constructs.SELECT.html).
   * Without `since` it scans the whole table: pass one for a large fleet. A metric named
   * `newest_rank` would be hidden by the row number here (only here).
   */
  async latestReadings(q: LatestReadingsQuery = {}): Promise<ReadingRow[]> {
    if (q.deviceIds !== undefined && q.deviceIds.length === 0) return [];
    const ranked = `SELECT *, row_number() OVER (PARTITION BY deviceId ORDER BY time DESC) AS ${NEWEST_RANK} FROM ${this.#from} WHERE ${this.#where(q, q.deviceIds)}`;
    return this.#query(`SELECT * FROM (${ranked}) WHERE ${NEWEST_RANK} = 1 ORDER BY deviceId`, new Set([NEWEST_RANK]));
  }

  /** The WHERE clause: our measure, the device(s) if given, the time range. */
  #where(range: TimeRange, devices?: string | readonly string[]): string {
    const terms = [`measure_name = ${quoteString(this.#measureName)}`];
    if (typeof devices === 'string') terms.push(`deviceId = ${quoteString(devices)}`);
    else if (devices !== undefined) terms.push(`deviceId IN (${devices.map(quoteString).join(', ')})`);
    if (range.since !== undefined) terms.push(`time >= from_milliseconds(${integer(range.since)})`);
    if (range.until !== undefined) terms.push(`time < from_milliseconds(${integer(range.until)})`);
    return terms.join(' AND ');
  }

  async #query(sql: string, ignored: ReadonlySet<string> = new Set()): Promise<ReadingRow[]> {
    const rows: ReadingRow[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#client.send(new QueryCommand({ QueryString: sql, ...(nextToken === undefined ? {} : { NextToken: nextToken }) }));
      const columns = page.ColumnInfo ?? [];
      for (const row of page.Rows ?? []) rows.push(toReadingRow(columns, row, ignored));
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return rows;
  }
}

function toReadingRow(columns: readonly ColumnInfo[], row: Row, ignored: ReadonlySet<string>): ReadingRow {
  let deviceId: string | undefined;
  let type: string | null = null;
  let ts: number | undefined;
  const metrics: Record<string, number> = {};
  (row.Data ?? []).forEach((datum, i) => {
    const name = columns[i]?.Name;
    const value = datum.NullValue === true ? undefined : datum.ScalarValue;
    if (name === undefined || value === undefined || ignored.has(name)) return;
    if (name === 'deviceId') deviceId = value;
    else if (name === 'type') type = value === UNKNOWN_TYPE ? null : value;
    else if (name === 'time') ts = timestreamTime(value);
    else if (!NON_METRIC_COLUMNS.has(name)) {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UnexpectedTimestreamRowError(`column ${name}: ${JSON.stringify(value)} is not a number`);
      ownProperty(metrics, name, n);
    }
  });
  if (deviceId === undefined || ts === undefined) throw new UnexpectedTimestreamRowError('a row without deviceId or time');
  return { deviceId, ts, seq: null, type, metrics };
}

/** Timestream's TIMESTAMP text (`2025-11-25 00:00:00.123000000`, UTC) as epoch ms. */
export function timestreamTime(value: string): number {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?$/.exec(value);
  if (match === null) throw new UnexpectedTimestreamRowError(`time ${JSON.stringify(value)} is not a Timestream timestamp`);
  const ms = (match[3] ?? '').padEnd(3, '0').slice(0, 3);
  return Date.parse(`${match[1]}T${match[2]}.${ms}Z`);
}

/** A Timestream SQL identifier in double quotes, a quote inside doubled. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A Timestream SQL string literal, a single quote inside doubled. */
function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function integer(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not an integer epoch ms: ${n}`);
  return String(n);
}

function limit(n: number | undefined): string {
  return n === undefined ? '' : ` LIMIT ${integer(n)}`;
}
