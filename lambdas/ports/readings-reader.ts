/**
 * The read side of the time series, the same on both runtimes: what `npm run query -- readings`
 * (local store or `--target aws`) and the console read: one device over a time range, the fleet's
 * newest readings, and each device's newest reading. Adapters: SQLite (lambdas/adapters/local/
 * sqlite-readings-reader.ts), DynamoDB and Timestream (lambdas/adapters/aws/). The alarm half (alarm
 * states and their history) is its own port beside this one, with its own adapters.
 */

/** One stored reading as every reader returns it (the `npm run query -- readings --json` shape). */
export interface ReadingRow {
  readonly deviceId: string;
  /** Event time, epoch ms. */
  readonly ts: number;
  /** null: the reading had none (or the store cannot give it back: Timestream keeps it only as the record's version). */
  readonly seq: number | null;
  readonly type: string | null;
  readonly metrics: Readonly<Record<string, number>>;
}

/** Which order rows come in, by time. Every query defaults to 'desc': the newest first. */
export type SortOrder = 'asc' | 'desc';

/** A time range over event time, epoch ms: `since` inclusive, `until` exclusive; either may be open. */
export interface TimeRange {
  readonly since?: number;
  readonly until?: number;
}

/** One device's readings over a time range. */
export interface DeviceReadingsQuery extends TimeRange {
  readonly deviceId: string;
  /** At most this many rows; none: all of them. */
  readonly limit?: number;
  /** Default 'desc'. With a limit, 'desc' gives the newest rows and 'asc' the oldest ones. */
  readonly order?: SortOrder;
}

/** The fleet's newest readings, across devices. */
export interface NewestReadingsQuery extends TimeRange {
  readonly limit: number;
}

/** The newest reading of each device. */
export interface LatestReadingsQuery {
  /** These devices; none: every device the store knows. */
  readonly deviceIds?: readonly string[];
  /** Only readings at or after this time (bounds what Timestream scans); a device with none is left out. */
  readonly since?: number;
}

export interface ReadingsReader {
  /** One device's readings in the range, ordered by (ts, seq) in `order`. */
  deviceReadings(query: DeviceReadingsQuery): Promise<ReadingRow[]>;
  /** The `limit` newest readings in the range over all devices, newest first (ties: higher seq, then deviceId descending). */
  newestReadings(query: NewestReadingsQuery): Promise<ReadingRow[]>;
  /** The newest reading of each device (a device without one is left out), by deviceId. */
  latestReadings(query?: LatestReadingsQuery): Promise<ReadingRow[]>;
}

/** Orders rows newest first: ts, then seq (none before 0), then deviceId, all descending. */
export function newestFirst(a: ReadingRow, b: ReadingRow): number {
  return b.ts - a.ts || (b.seq ?? -1) - (a.seq ?? -1) || (a.deviceId < b.deviceId ? 1 : a.deviceId > b.deviceId ? -1 : 0);
}

/** Orders rows by deviceId (the order of latestReadings). */
export function byDevice(a: ReadingRow, b: ReadingRow): number {
  return a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0;
}
