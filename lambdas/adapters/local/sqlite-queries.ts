import type Database from 'better-sqlite3';
import type { AlarmEvent, RecordRef } from '../../domain/model.js';
import type { ReadingRow, SortOrder } from '../../ports/readings-reader.js';
import { NO_SEQ } from './sqlite-time-series.js';

export type { ReadingRow, SortOrder } from '../../ports/readings-reader.js';

/** Filters over readings. `since` is inclusive, `until` exclusive, both epoch ms of event time. */
export interface ReadingQuery {
  readonly deviceId?: string;
  readonly since?: number;
  readonly until?: number;
  /** At most this many rows; none: all of them. */
  readonly limit?: number;
  /** Default 'desc'. With a limit, 'desc' gives the newest rows and 'asc' the oldest ones. */
  readonly order?: SortOrder;
}

/** An alarm transition as recorded: the event published, and when the store recorded it (epoch ms). */
export interface RecordedAlarmEvent extends AlarmEvent {
  readonly recordedAt: number;
}

export interface AlarmStateQuery {
  readonly deviceId?: string;
  readonly state?: AlarmEvent['state'];
}

/** Filters over transitions (`since`: event time, inclusive) or rejects (`since`: rejectedAt, inclusive). */
export interface LogQuery {
  readonly deviceId?: string;
  readonly since?: number;
  readonly limit?: number;
  /** Default 'desc'. */
  readonly order?: SortOrder;
}

/** A rejected message as the read side returns it. */
export interface RejectRow {
  readonly id: number;
  readonly reason: string;
  readonly stage: 'decode' | 'store';
  readonly deviceId: string | null;
  readonly topic: string | null;
  /** The original payload: as text when it is valid UTF-8, otherwise base64 (see payloadEncoding). */
  readonly payload: string;
  readonly payloadEncoding: 'utf8' | 'base64';
  readonly record: RecordRef;
  /** Epoch ms. */
  readonly rejectedAt: number;
}

/** A device's newest reading times, epoch ms. */
export interface DeviceLastSeen {
  readonly deviceId: string;
  /** Newest event time stored for the device. */
  readonly ts: number;
  /** Newest rules-engine receive time stored for the device. */
  readonly receivedAt: number;
}

interface ReadingSqlRow {
  device_id: string;
  ts: number;
  seq: number;
  type: string | null;
  metrics: string;
}

/** A row of `alarm_transitions` as SQLite returns it (also read by the console). */
export interface TransitionSqlRow {
  alarm_id: string;
  ts: number;
  state: AlarmEvent['state'];
  previous_state: AlarmEvent['state'];
  device_id: string;
  rule_id: string;
  metric: string | null;
  severity: AlarmEvent['severity'];
  value: number | null;
  threshold: number | null;
  recorded_at: number;
  action: AlarmEvent['action'];
  by_client: string | null;
  note: string | null;
  /** Only in alarm_transitions: 1 for a reminder. */
  reminder?: number;
}

interface RejectSqlRow {
  id: number;
  rejected_at: number;
  reason: string;
  stage: 'decode' | 'store';
  device_id: string | null;
  topic: string | null;
  payload: string;
  shard_id: string;
  sequence_number: string;
  partition_key: string;
  arrival_ts: number;
}

const READING_COLUMNS = 'device_id, ts, seq, type, metrics';
/** SQL has no "no limit" value for LIMIT other than -1 (https://www.sqlite.org/lang_select.html#limitoffset). */
const ALL = -1;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The read side of the local store: what the query CLI, the simulator's --verify and the console
 * read. Statements are built per call: these are not on the hot path, and each query's SQL depends on
 * which filters it has.
 */
export class StoreQueries {
  constructor(private readonly db: Database.Database) {}

  /** Readings matching `q`, ordered by (ts, seq, deviceId) in `q.order`. */
  queryReadings(q: ReadingQuery = {}): ReadingRow[] {
    const order = q.order ?? 'desc';
    if (q.deviceId === undefined && q.limit !== undefined) return this.newestAcrossDevices(q, q.limit, order);
    const where = timeRange(q);
    if (q.deviceId !== undefined) where.add('device_id = ?', q.deviceId);
    const dir = order === 'asc' ? 'ASC' : 'DESC';
    const rows = this.db
      .prepare(
        `SELECT ${READING_COLUMNS} FROM readings ${where.sql()} ORDER BY ts ${dir}, seq ${dir}, device_id ${dir} LIMIT ?`,
      )
      .all(...where.params, q.limit ?? ALL) as ReadingSqlRow[];
    return rows.map(toReadingRow);
  }

  /** How many readings match `q` (its limit and order are ignored). */
  countReadings(q: Omit<ReadingQuery, 'limit' | 'order'> = {}): number {
    const where = timeRange(q);
    if (q.deviceId !== undefined) where.add('device_id = ?', q.deviceId);
    const row = this.db.prepare(`SELECT count(*) AS n FROM readings ${where.sql()}`).get(...where.params) as { n: number };
    return row.n;
  }

  /** Every device's newest reading times, by deviceId. */
  lastSeen(): DeviceLastSeen[] {
    return (
      this.db.prepare('SELECT device_id, last_ts, last_received_at FROM devices ORDER BY device_id').all() as {
        device_id: string;
        last_ts: number;
        last_received_at: number;
      }[]
    ).map((r) => ({ deviceId: r.device_id, ts: r.last_ts, receivedAt: r.last_received_at }));
  }

  /** The current state of every alarm ever raised (its newest transition), by deviceId then alarmId. */
  queryAlarmStates(q: AlarmStateQuery = {}): RecordedAlarmEvent[] {
    const where = new Where();
    if (q.deviceId !== undefined) where.add('device_id = ?', q.deviceId);
    if (q.state !== undefined) where.add('state = ?', q.state);
    const rows = this.db
      .prepare(`SELECT * FROM alarm_current ${where.sql()} ORDER BY device_id, alarm_id`)
      .all(...where.params) as TransitionSqlRow[];
    return rows.map(toRecordedEvent);
  }

  /** Recorded transitions, by event time (then alarmId). */
  queryTransitions(q: LogQuery = {}): RecordedAlarmEvent[] {
    const where = new Where();
    if (q.deviceId !== undefined) where.add('device_id = ?', q.deviceId);
    if (q.since !== undefined) where.add('ts >= ?', q.since);
    const dir = (q.order ?? 'desc') === 'asc' ? 'ASC' : 'DESC';
    const rows = this.db
      .prepare(`SELECT * FROM alarm_transitions ${where.sql()} ORDER BY ts ${dir}, alarm_id ${dir} LIMIT ?`)
      .all(...where.params, q.limit ?? ALL) as TransitionSqlRow[];
    return rows.map(toRecordedEvent);
  }

  /** Rejected messages, by rejectedAt (then arrival order). */
  queryRejects(q: LogQuery = {}): RejectRow[] {
    const where = new Where();
    if (q.deviceId !== undefined) where.add('device_id = ?', q.deviceId);
    if (q.since !== undefined) where.add('rejected_at >= ?', q.since);
    const dir = (q.order ?? 'desc') === 'asc' ? 'ASC' : 'DESC';
    const rows = this.db
      .prepare(`SELECT * FROM rejects ${where.sql()} ORDER BY rejected_at ${dir}, id ${dir} LIMIT ?`)
      .all(...where.params, q.limit ?? ALL) as RejectSqlRow[];
    return rows.map(toRejectRow);
  }

  /**
   * The first `limit` readings of the whole fleet in `order`. The table is ordered by device first (the
   * hot path wants one B-tree and no time index), so this takes each device's first `limit` rows by
   * its primary key and merges them. For 'desc' devices are visited newest-first and the walk stops
   * once no remaining device can beat the rows already held.
   */
  private newestAcrossDevices(q: ReadingQuery, limit: number, order: SortOrder): ReadingRow[] {
    const devices = this.db
      .prepare(`SELECT device_id, last_ts FROM devices ORDER BY last_ts ${order === 'asc' ? 'ASC' : 'DESC'}`)
      .all() as { device_id: string; last_ts: number }[];
    const where = timeRange(q);
    where.add('device_id = ?', '');
    const dir = order === 'asc' ? 'ASC' : 'DESC';
    const perDevice = this.db.prepare(
      `SELECT ${READING_COLUMNS} FROM readings ${where.sql()} ORDER BY ts ${dir}, seq ${dir} LIMIT ?`,
    );
    const before = (a: ReadingSqlRow, b: ReadingSqlRow): number => {
      const c = a.ts - b.ts || a.seq - b.seq || (a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0);
      return order === 'asc' ? c : -c;
    };
    let held: ReadingSqlRow[] = [];
    for (const d of devices) {
      if (q.since !== undefined && d.last_ts < q.since) {
        if (order === 'desc') break; // the rest are older still
        continue;
      }
      if (order === 'desc' && held.length >= limit) {
        const worst = held[held.length - 1] as ReadingSqlRow;
        const best = q.until === undefined ? d.last_ts : Math.min(d.last_ts, q.until - 1);
        if (best < worst.ts) break;
      }
      const params = [...where.params.slice(0, -1), d.device_id, limit];
      const rows = perDevice.all(...params) as ReadingSqlRow[];
      if (rows.length === 0) continue;
      held = held.concat(rows).sort(before).slice(0, limit);
    }
    return held.map(toReadingRow);
  }
}

/** A WHERE clause built from optional filters, with its positional parameters. */
class Where {
  private readonly terms: string[] = [];
  readonly params: (string | number)[] = [];
  add(term: string, param: string | number): this {
    this.terms.push(term);
    this.params.push(param);
    return this;
  }
  sql(): string {
    return this.terms.length === 0 ? '' : `WHERE ${this.terms.join(' AND ')}`;
  }
}

function timeRange(q: { since?: number; until?: number }): Where {
  const where = new Where();
  if (q.since !== undefined) where.add('ts >= ?', q.since);
  if (q.until !== undefined) where.add('ts < ?', q.until);
  return where;
}

function toReadingRow(r: ReadingSqlRow): ReadingRow {
  return {
    deviceId: r.device_id,
    ts: r.ts,
    seq: r.seq === NO_SEQ ? null : r.seq,
    type: r.type,
    metrics: JSON.parse(r.metrics) as Record<string, number>,
  };
}

/** Maps an `alarm_transitions` row to the event it recorded. */
export function toRecordedEvent(r: TransitionSqlRow): RecordedAlarmEvent {
  return {
    alarmId: r.alarm_id,
    deviceId: r.device_id,
    ruleId: r.rule_id,
    metric: r.metric,
    state: r.state,
    previousState: r.previous_state,
    severity: r.severity,
    value: r.value,
    threshold: r.threshold,
    ts: r.ts,
    action: r.action,
    by: r.by_client,
    note: r.note,
    ...(r.reminder === 1 ? { reminder: true as const } : {}),
    recordedAt: r.recorded_at,
  };
}

function toRejectRow(r: RejectSqlRow): RejectRow {
  const bytes = Buffer.from(r.payload, 'base64');
  let payload = r.payload;
  let payloadEncoding: RejectRow['payloadEncoding'] = 'base64';
  try {
    payload = utf8.decode(bytes);
    payloadEncoding = 'utf8';
  } catch {
    // Not UTF-8 (a binary payload): keep it as the base64 it was stored as.
  }
  return {
    id: r.id,
    reason: r.reason,
    stage: r.stage,
    deviceId: r.device_id,
    topic: r.topic,
    payload,
    payloadEncoding,
    record: {
      shardId: r.shard_id,
      sequenceNumber: r.sequence_number,
      partitionKey: r.partition_key,
      approximateArrivalTimestamp: r.arrival_ts,
    },
    rejectedAt: r.rejected_at,
  };
}
