/**
 * The console's own connection to store.db: the few reads the store's read side does not offer (a keyset page of one device's readings for CSV export, the
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

interface ExportSqlRow {
  ts: number;
  seq: number;
  metrics: string;
}

export class ConsoleDb {
  private readonly db: Database.Database;
  private readonly page: Database.Statement;
  private readonly mark: Database.Statement;
  private readonly maxRejectId: Database.Statement;
  private readonly transitionsRecordedSince: Database.Statement;

  /** Opens `file` (store.db, which must already exist at this code's schema). */
  constructor(file: string, options: { busyTimeoutMs?: number } = {}) {
    // Read-only: the console writes nothing (its alarm commands go through the command rule).
    this.db = new Database(file, { readonly: true, fileMustExist: true, timeout: options.busyTimeoutMs ?? 5_000 });
    try {
      const version = schemaVersionOf(this.db);
      if (version !== SCHEMA_VERSION) {
        throw new ConsoleConfigError(`${file}: store schema version ${version}, the console reads ${SCHEMA_VERSION}`);
      }
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
   * Alarms not at rest (any state but OK: raised, acknowledged, latched, snoozed, disabled), most
   * severe first, then newest first, each as its newest transition (who and why included).
   */
  activeAlarms(filter: AlarmFilter = {}): AlarmRow[] {
    const where = alarmWhere(filter, 'c');
    where.terms.push("c.state <> 'OK'");
    const rows = this.db
      .prepare(
        `SELECT c.* FROM alarm_current AS c
         WHERE ${where.terms.join(' AND ')} ORDER BY ${severityRankSql('c')}, c.ts DESC, c.alarm_id LIMIT ?`,
      )
      .all(...where.params, filter.limit ?? -1) as TransitionSqlRow[];
    return rows.map(toRecordedEvent);
  }

  /** Recorded transitions (reminders and those commands made included), newest first. */
  transitionHistory(filter: AlarmFilter = {}): AlarmRow[] {
    const where = alarmWhere(filter, 't');
    const rows = this.db
      .prepare(
        `SELECT t.* FROM alarm_transitions AS t
         ${where.terms.length === 0 ? '' : `WHERE ${where.terms.join(' AND ')}`}
         ORDER BY t.ts DESC, t.alarm_id DESC LIMIT ?`,
      )
      .all(...where.params, filter.limit ?? -1) as TransitionSqlRow[];
    return rows.map(toRecordedEvent);
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
interface AlarmFilter {
  readonly deviceId?: string;
  /** Any of these; none or empty: every severity. */
  readonly severities?: readonly Severity[];
  readonly limit?: number;
}

/** An alarm transition (or current state): the event as published, with who acted and why when a command caused it. */
export type AlarmRow = RecordedAlarmEvent;

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
