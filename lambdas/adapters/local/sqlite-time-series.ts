import type Database from 'better-sqlite3';
import type { Reading } from '../../domain/model.js';
import type { StoreRejection, TimeSeriesStore, WriteOutcome } from '../../ports/time-series-store.js';
import type { WriteGroup } from './write-group.js';

/** seq as stored when a reading has none: NULL would make every such row a distinct key. */
export const NO_SEQ = -1;

/**
 * How long after a reading without ts a resend of it is recognised. A resend follows a lost PUBACK:
 * the client sends again when it reconnects (the simulator backs off up to 30 s; a stack restart takes
 * seconds), or after an outage from its buffer. Past this, the same seq and content is a new reading.
 */
export const RESEND_WINDOW_MS = 3_600_000;

/**
 * The time-series port on the local SQLite store (`readings` table). Writing the same (deviceId, ts,
 * seq) again replaces type, metrics and receivedAt and keeps one row: the local equivalent of a
 * Timestream upsert with a higher Version (botocore timestream-write service-2.json, `Record.Version`).
 *
 * A reading with seq but without ts has its receive time as its time, which a resend (after a lost
 * PUBACK) does not share. Such a reading is the same reading as an earlier one of the device with the
 * same seq, type and metrics whose time was also its receive time, received at most RESEND_WINDOW_MS
 * before it: the resend is not written again, and the reading keeps its first receive time. Same seq
 * with other content is a new reading (a device whose seq restarted). Replaying the stream decides the
 * same way, since the receive time is the rules engine's, carried in the record. AWS cannot do this
 * without a query per reading (Timestream has no conditional write), so there a resend without ts is
 * stored twice: the contract asks devices to send ts for exactly-once storage (README, Contracts).
 */
export class SqliteTimeSeriesStore implements TimeSeriesStore {
  /**
   * One write is one transaction. Big, because a commit (not a row) is what costs in SQLite; the
   * ingest mapping's batch (500) always fits, so a batch is never split across commits.
   */
  readonly maxReadingsPerWrite = 5_000;

  private readonly upsertReading: Database.Statement;
  private readonly upsertDevice: Database.Statement;
  private readonly findEarlierReceipt: Database.Statement;
  private readonly writeAll: (rows: readonly Reading[], accepted: readonly number[]) => void;

  constructor(
    db: Database.Database,
    private readonly writes: WriteGroup,
  ) {
    this.upsertReading = db.prepare(
      `INSERT INTO readings (device_id, ts, seq, type, metrics, received_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (device_id, ts, seq) DO UPDATE
       SET type = excluded.type, metrics = excluded.metrics, received_at = excluded.received_at`,
    );
    this.upsertDevice = db.prepare(
      `INSERT INTO devices (device_id, last_ts, last_received_at) VALUES (?, ?, ?)
       ON CONFLICT (device_id) DO UPDATE
       SET last_ts = max(last_ts, excluded.last_ts), last_received_at = max(last_received_at, excluded.last_received_at)`,
    );
    // Without statistics the planner prefers the primary key's (device_id, ts) range, a scan of every
    // reading of the device in the window; the partial index is one seek (its WHERE is implied by the
    // query's `ts = received_at`).
    this.findEarlierReceipt = db
      .prepare(
        `SELECT 1 FROM readings INDEXED BY readings_timed_by_receipt
         WHERE device_id = ? AND seq = ? AND ts = received_at AND ts >= ? AND ts < ? AND metrics = ? AND type IS ?
         LIMIT 1`,
      )
      .pluck();
    this.writeAll = db.transaction((readings: readonly Reading[], accepted: readonly number[]) => {
      // Newest times per device, so `devices` takes one upsert per device per write, not per reading.
      const newest = new Map<string, { ts: number; receivedAt: number }>();
      for (const i of accepted) {
        const r = readings[i] as Reading;
        const metrics = JSON.stringify(r.metrics);
        if (r.seq !== undefined && r.ts === r.receivedAt && this.isResend(r, r.seq, metrics)) continue;
        this.upsertReading.run(r.deviceId, r.ts, r.seq ?? NO_SEQ, r.type ?? null, metrics, r.receivedAt);
        const seen = newest.get(r.deviceId);
        if (seen === undefined) newest.set(r.deviceId, { ts: r.ts, receivedAt: r.receivedAt });
        else {
          seen.ts = Math.max(seen.ts, r.ts);
          seen.receivedAt = Math.max(seen.receivedAt, r.receivedAt);
        }
      }
      for (const [deviceId, { ts, receivedAt }] of newest) this.upsertDevice.run(deviceId, ts, receivedAt);
    });
  }

  /** Whether an earlier copy of this reading, timed by its own receipt, is stored (see the class comment). */
  private isResend(r: Reading, seq: number, metrics: string): boolean {
    return this.findEarlierReceipt.get(r.deviceId, seq, r.receivedAt - RESEND_WINDOW_MS, r.receivedAt, metrics, r.type ?? null) !== undefined;
  }

  /**
   * Upserts `readings` in one transaction. A reading SQLite cannot represent faithfully (a time or seq
   * that is not a safe integer, a metric that is not a finite number) is refused with a reason, as
   * Timestream refuses a record, and the rest are written. A lock held past busy_timeout or a full
   * disk throws RetryableError.
   */
  async write(readings: readonly Reading[]): Promise<WriteOutcome> {
    const rejected: StoreRejection[] = [];
    const accepted: number[] = [];
    readings.forEach((r, index) => {
      const reason = unstorable(r);
      if (reason === undefined) accepted.push(index);
      else rejected.push({ index, reason });
    });
    if (accepted.length > 0) this.writes.run('store.db readings write', () => this.writeAll(readings, accepted));
    return { rejected };
  }
}

/** Why SQLite could not store `r` as given, or undefined. The decoder already checks the contract; this guards the store's own types. */
function unstorable(r: Reading): string | undefined {
  if (!Number.isSafeInteger(r.ts)) return `ts: ${String(r.ts)} is not an integer epoch ms`;
  if (r.seq !== undefined && (!Number.isSafeInteger(r.seq) || r.seq < 0)) {
    return `seq: ${String(r.seq)} is not a non-negative integer`;
  }
  if (!Number.isSafeInteger(r.receivedAt)) return `receivedAt: ${String(r.receivedAt)} is not an integer epoch ms`;
  for (const [name, value] of Object.entries(r.metrics)) {
    // JSON.stringify would silently turn NaN and Infinity into null.
    if (typeof value !== 'number' || !Number.isFinite(value)) return `metrics.${name}: not a finite number`;
  }
  return undefined;
}
