/**
 * The console's own connection to store.db: its acknowledgements table, and the few reads the
 * store's read side does not offer (a keyset page of one device's readings for CSV export, the
 * metric names in a range, the cheap change checks the live feed polls).
 *
 * Those reads go straight to the store's tables, so the connection first checks the store's schema
 * version: a store written by other code is refused instead of misread.
 */
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, schemaVersionOf } from '../../../lambdas/adapters/local/sqlite-schema.js';
import { NO_SEQ } from '../../../lambdas/adapters/local/sqlite-time-series.js';
import type { AlarmStatus, Severity } from '../../../lambdas/domain/model.js';
import { SEVERITIES } from '../../../lambdas/domain/model.js';
import type { RecordedAlarmEvent, TransitionSqlRow } from '../../../lambdas/adapters/local/sqlite-queries.js';
import { toRecordedEvent } from '../../../lambdas/adapters/local/sqlite-queries.js';
import { ConsoleConfigError } from './errors.js';

/** Who acknowledged an ALARM transition, and when. */
export interface AlarmAck {
  readonly alarmId: string;
  /** Event time of the ALARM transition acknowledged (with alarmId, its key). */
  readonly ts: number;
  readonly by: string;
  /** Epoch ms. */
  readonly at: number;
}

/** One reading of one device, as CSV export pages through them. */
export interface ExportRow {
  readonly ts: number;
  /** null: the reading had none. */
  readonly seq: number | null;
  readonly metrics: Readonly<Record<string, number>>;
}

/** What the live feed tells of a new transition (the view fetches the rest). */
export interface TransitionMark {
  readonly alarmId: string;
  readonly deviceId: string;
  readonly ts: number;
  readonly state: AlarmStatus;
  readonly severity: Severity;
  readonly recordedAt: number;
}

/** A device's newest times as the `devices` table keeps them (epoch ms). */
export interface DeviceMark {
  readonly lastTs: number;
  readonly lastReceivedAt: number;
}

const ACK_SCHEMA = `
  -- Acknowledgements of ALARM transitions, made in the console. Keyed like the transition log
  -- (alarm_id, ts): acknowledging the same raise twice keeps the first.
  CREATE TABLE IF NOT EXISTS console_alarm_acks (
    alarm_id  TEXT    NOT NULL,
    ts        INTEGER NOT NULL,  -- event time of the ALARM transition
    acked_by  TEXT    NOT NULL,
    acked_at  INTEGER NOT NULL,  -- epoch ms
    PRIMARY KEY (alarm_id, ts)
  ) STRICT, WITHOUT ROWID;
`;

interface AckSqlRow {
  alarm_id: string;
  ts: number;
  acked_by: string;
  acked_at: number;
}

interface ExportSqlRow {
  ts: number;
  seq: number;
  metrics: string;
}

export class ConsoleDb {
  private readonly db: Database.Database;
  private readonly insertAck: Database.Statement;
  private readonly selectAck: Database.Statement;
  private readonly transitionExists: Database.Statement;
  private readonly page: Database.Statement;
  private readonly mark: Database.Statement;
  private readonly maxRejectId: Database.Statement;
  private readonly transitionsRecordedSince: Database.Statement;

  /** Opens `file` (store.db, which must already exist at this code's schema) and creates the acks table. */
  constructor(file: string, options: { busyTimeoutMs?: number } = {}) {
    this.db = new Database(file, { fileMustExist: true, timeout: options.busyTimeoutMs ?? 5_000 });
    try {
      const version = schemaVersionOf(this.db);
      if (version !== SCHEMA_VERSION) {
        throw new ConsoleConfigError(`${file}: store schema version ${version}, the console reads ${SCHEMA_VERSION}`);
      }
      this.db.exec(ACK_SCHEMA);
      this.insertAck = this.db.prepare(
        'INSERT INTO console_alarm_acks (alarm_id, ts, acked_by, acked_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      );
      this.selectAck = this.db.prepare('SELECT * FROM console_alarm_acks WHERE alarm_id = ? AND ts = ?');
      this.transitionExists = this.db
        .prepare("SELECT 1 FROM alarm_transitions WHERE alarm_id = ? AND ts = ? AND state = 'ALARM'")
        .pluck();
      // Keyset pagination on the primary key (device_id, ts, seq): each page is one range scan, and
      // rows sharing a ts are neither skipped nor repeated (row values, https://www.sqlite.org/rowvalue.html).
      this.page = this.db.prepare(
        'SELECT ts, seq, metrics FROM readings WHERE device_id = ? AND (ts, seq) > (?, ?) AND ts < ? ORDER BY ts, seq LIMIT ?',
      );
      this.mark = this.db.prepare('SELECT last_ts, last_received_at FROM devices WHERE device_id = ?');
      this.maxRejectId = this.db.prepare('SELECT coalesce(max(id), 0) FROM rejects').pluck();
      // The transitions table has no index on recorded_at; its ts index bounds the scan to a window.
      this.transitionsRecordedSince = this.db.prepare(
        'SELECT alarm_id, ts, state, device_id, severity, recorded_at FROM alarm_transitions WHERE ts >= ? AND recorded_at >= ?',
      );
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /**
   * Records who acknowledged the ALARM transition (alarmId, ts), unless someone already did: the first
   * acknowledgement stands. Undefined when there is no such ALARM transition.
   */
  acknowledge(alarmId: string, ts: number, by: string, at: number): { ack: AlarmAck; created: boolean } | undefined {
    return this.db.transaction(() => {
      if (this.transitionExists.get(alarmId, ts) === undefined) return undefined;
      const created = this.insertAck.run(alarmId, ts, by, at).changes === 1;
      return { ack: toAck(this.selectAck.get(alarmId, ts) as AckSqlRow), created };
    }).immediate();
  }

  /** Alarms now in state ALARM, most severe first, then newest first, each with its acknowledgement. */
  activeAlarms(filter: AlarmFilter = {}): AlarmRow[] {
    const where = alarmWhere(filter, 'c');
    where.terms.push("c.state = 'ALARM'");
    const rows = this.db
      .prepare(
        `SELECT c.*, a.acked_by, a.acked_at FROM alarm_current AS c
         LEFT JOIN console_alarm_acks AS a ON a.alarm_id = c.alarm_id AND a.ts = c.ts
         WHERE ${where.terms.join(' AND ')} ORDER BY ${severityRankSql('c')}, c.ts DESC, c.alarm_id LIMIT ?`,
      )
      .all(...where.params, filter.limit ?? -1) as AlarmSqlRow[];
    return rows.map(toAlarmRow);
  }

  /** Recorded transitions, newest first, each ALARM transition with its acknowledgement. */
  transitionHistory(filter: AlarmFilter = {}): AlarmRow[] {
    const where = alarmWhere(filter, 't');
    const rows = this.db
      .prepare(
        `SELECT t.*, a.acked_by, a.acked_at FROM alarm_transitions AS t
         LEFT JOIN console_alarm_acks AS a ON t.state = 'ALARM' AND a.alarm_id = t.alarm_id AND a.ts = t.ts
         ${where.terms.length === 0 ? '' : `WHERE ${where.terms.join(' AND ')}`}
         ORDER BY t.ts DESC, t.alarm_id DESC LIMIT ?`,
      )
      .all(...where.params, filter.limit ?? -1) as AlarmSqlRow[];
    return rows.map(toAlarmRow);
  }

  /** The metric names present in one device's readings in [since, until). */
  metricNames(deviceId: string, since: number, until: number): string[] {
    return (
      this.db
        .prepare(
          `SELECT DISTINCT m.key FROM readings AS r, json_each(r.metrics) AS m
           WHERE r.device_id = ? AND r.ts >= ? AND r.ts < ? ORDER BY m.key`,
        )
        .pluck()
        .all(deviceId, since, until) as string[]
    );
  }

  /**
   * Up to `limit` readings of one device after the position `after` (exclusive; the first page starts
   * at `ConsoleDb.firstPosition(since)`) and before `until`, oldest first, with the position the next
   * page starts after (undefined on the last page).
   */
  readingsPage(deviceId: string, after: { ts: number; seq: number }, until: number, limit: number): { rows: ExportRow[]; next: { ts: number; seq: number } | undefined } {
    const raw = this.page.all(deviceId, after.ts, after.seq, until, limit) as ExportSqlRow[];
    const last = raw[raw.length - 1];
    return {
      rows: raw.map((r) => ({ ts: r.ts, seq: r.seq === NO_SEQ ? null : r.seq, metrics: JSON.parse(r.metrics) as Record<string, number> })),
      next: raw.length < limit || last === undefined ? undefined : { ts: last.ts, seq: last.seq },
    };
  }

  /** The position just before the first reading at `since` (seq is never below NO_SEQ). */
  static firstPosition(since: number): { ts: number; seq: number } {
    return { ts: since, seq: NO_SEQ - 1 };
  }

  /** One device's newest times, or undefined for a device with no reading. */
  deviceMark(deviceId: string): DeviceMark | undefined {
    const row = this.mark.get(deviceId) as { last_ts: number; last_received_at: number } | undefined;
    return row === undefined ? undefined : { lastTs: row.last_ts, lastReceivedAt: row.last_received_at };
  }

  /** The id of the newest reject (ids only grow), 0 when there is none. */
  newestRejectId(): number {
    return this.maxRejectId.get() as number;
  }

  /** The transitions with event time >= `sinceTs` recorded at or after `recordedSince`. */
  transitionsRecorded(sinceTs: number, recordedSince: number): TransitionMark[] {
    const rows = this.transitionsRecordedSince.all(sinceTs, recordedSince) as {
      alarm_id: string;
      ts: number;
      state: AlarmStatus;
      device_id: string;
      severity: Severity;
      recorded_at: number;
    }[];
    return rows.map((r) => ({ alarmId: r.alarm_id, deviceId: r.device_id, ts: r.ts, state: r.state, severity: r.severity, recordedAt: r.recorded_at }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Which alarms a view asks for. */
export interface AlarmFilter {
  readonly deviceId?: string;
  /** Any of these; none or empty: every severity. */
  readonly severities?: readonly Severity[];
  readonly limit?: number;
}

/** An alarm transition (or current state) with who acknowledged it, if anyone did. */
export interface AlarmRow extends RecordedAlarmEvent {
  readonly ack: { readonly by: string; readonly at: number } | null;
}

interface AlarmSqlRow extends TransitionSqlRow {
  acked_by: string | null;
  acked_at: number | null;
}

function alarmWhere(filter: AlarmFilter, table: string): { terms: string[]; params: (string | number)[] } {
  const terms: string[] = [];
  const params: (string | number)[] = [];
  if (filter.deviceId !== undefined) {
    terms.push(`${table}.device_id = ?`);
    params.push(filter.deviceId);
  }
  if (filter.severities !== undefined && filter.severities.length > 0) {
    terms.push(`${table}.severity IN (${filter.severities.map(() => '?').join(', ')})`);
    params.push(...filter.severities);
  }
  return { terms, params };
}

/** Orders by severity, most severe first (SEVERITIES is in that order). */
function severityRankSql(table: string): string {
  return `CASE ${table}.severity ${SEVERITIES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} ELSE ${SEVERITIES.length} END`;
}

function toAlarmRow(r: AlarmSqlRow): AlarmRow {
  return { ...toRecordedEvent(r), ack: r.acked_by === null || r.acked_at === null ? null : { by: r.acked_by, at: r.acked_at } };
}

function toAck(row: AckSqlRow): AlarmAck {
  return { alarmId: row.alarm_id, ts: row.ts, by: row.acked_by, at: row.acked_at };
}
