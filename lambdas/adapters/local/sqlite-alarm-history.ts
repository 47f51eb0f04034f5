import type Database from 'better-sqlite3';
import { describeAlarms } from '../../domain/alarm-engine.js';
import type { AlarmStatus } from '../../domain/model.js';
import type { ThresholdRules } from '../../domain/thresholds.js';
import type { AlarmCommandRecord, AlarmHistory, AlarmHistoryEntry } from '../../ports/alarm-history.js';
import type { AlarmHistoryQuery, AlarmListFilter, AlarmReader, AlarmView } from '../../ports/alarm-reader.js';
import type { Clock } from '../../ports/clock.js';
import { sqliteCall } from './errors.js';
import type { SqliteAlarmLog } from './sqlite-alarm-log.js';
import { toRecordedEvent, type TransitionSqlRow } from './sqlite-queries.js';
import type { WriteGroup } from './write-group.js';

interface CommandSqlRow {
  device_id: string;
  at: number;
  by_client: string;
  rule_id: string;
  action: string;
  note: string | null;
  seconds: number | null;
  client_token: string | null;
  outcome: 'accepted' | 'rejected';
  reason: string | null;
  state: AlarmStatus | null;
  recorded_at: number;
}

const DEFAULT_HISTORY_LIMIT = 100;

/**
 * The alarm history in store.db: commands in `alarm_commands` (once per device, time, operator, rule and
 * action), transitions through the alarm log's `alarm_transitions` (once per alarm, time and state).
 */
export class SqliteAlarmHistory implements AlarmHistory {
  private readonly insertCommand: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly log: SqliteAlarmLog,
    private readonly clock: Clock,
    private readonly writes: WriteGroup,
  ) {
    this.insertCommand = db.prepare(
      `INSERT INTO alarm_commands
         (device_id, at, by_client, rule_id, action, note, seconds, client_token, outcome, reason, state, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (device_id, at, by_client, rule_id, action) DO NOTHING`,
    );
  }

  async record(entries: readonly AlarmHistoryEntry[]): Promise<void> {
    const transitions = entries.flatMap((entry) => (entry.kind === 'transition' ? [entry.event] : []));
    const commands = entries.flatMap((entry) => (entry.kind === 'command' ? [entry.command] : []));
    if (transitions.length > 0) await this.log.notify(transitions);
    if (commands.length === 0) return;
    const at = this.clock.now();
    this.writes.run('store.db alarm_commands write', () => {
      for (const c of commands) {
        this.insertCommand.run(
          c.deviceId, c.at, c.by, c.ruleId ?? '', c.action ?? '', c.note, c.seconds, c.clientToken, c.outcome, c.reason, c.state, at,
        );
      }
    });
  }
}

/**
 * The read side of alarms on store.db: lifecycle states decided from `alarm_state` with the rules in
 * force (the engine's own reading of its state), history from `alarm_transitions` and `alarm_commands`.
 */
export class SqliteAlarmReader implements AlarmReader {
  private readonly selectStates: Database.Statement<[], { device_id: string; state: string }>;
  private readonly selectStatesOfDevice: Database.Statement<[string], { device_id: string; state: string }>;

  constructor(
    private readonly db: Database.Database,
    private readonly rules: ThresholdRules,
  ) {
    // Only devices with a rule not at rest store any rule state ('"rules":[]' is the resting JSON).
    this.selectStates = db.prepare(`SELECT device_id, state FROM alarm_state WHERE state NOT LIKE '%"rules":[]%' ORDER BY device_id`);
    this.selectStatesOfDevice = db.prepare('SELECT device_id, state FROM alarm_state WHERE device_id = ?');
  }

  async listAlarms(filter: AlarmListFilter = {}): Promise<AlarmView[]> {
    const rows = sqliteCall('store.db alarm_state list', () =>
      filter.deviceId === undefined ? this.selectStates.all() : this.selectStatesOfDevice.all(filter.deviceId),
    );
    const views = rows.flatMap((row) => describeAlarms(row.device_id, JSON.parse(row.state) as unknown, this.rules));
    return filter.state === undefined ? views : views.filter((view) => view.state === filter.state);
  }

  async history(query: AlarmHistoryQuery): Promise<AlarmHistoryEntry[]> {
    const limit = query.limit ?? DEFAULT_HISTORY_LIMIT;
    const rule = query.ruleId === undefined ? '' : ' AND rule_id = ?';
    const params = query.ruleId === undefined ? [query.deviceId, limit] : [query.deviceId, query.ruleId, limit];
    const transitions = sqliteCall('store.db alarm history', () =>
      this.db.prepare(`SELECT * FROM alarm_transitions WHERE device_id = ?${rule} ORDER BY ts DESC LIMIT ?`).all(...params),
    ) as TransitionSqlRow[];
    const commands = sqliteCall('store.db alarm commands', () =>
      this.db.prepare(`SELECT * FROM alarm_commands WHERE device_id = ?${rule} ORDER BY at DESC LIMIT ?`).all(...params),
    ) as CommandSqlRow[];
    const entries: { ts: number; entry: AlarmHistoryEntry }[] = [
      ...transitions.map((row) => {
        const { recordedAt: _recordedAt, ...event } = toRecordedEvent(row);
        return { ts: row.ts, entry: { kind: 'transition', event } as const };
      }),
      ...commands.map((row) => ({ ts: row.at, entry: { kind: 'command', command: toCommandRecord(row) } as const })),
    ];
    // Newest first; at one time the transition a command caused counts as the newer (as in DynamoDB's sort key).
    entries.sort((a, b) => b.ts - a.ts || (a.entry.kind === 'transition' ? -1 : 1) - (b.entry.kind === 'transition' ? -1 : 1));
    return entries.slice(0, limit).map((item) => item.entry);
  }
}

/** A command as stored, with when the store recorded it (epoch ms). */
export type RecordedAlarmCommand = AlarmCommandRecord & { readonly recordedAt: number };

export interface CommandQuery {
  readonly deviceId?: string;
  /** Epoch ms of `at`, inclusive. */
  readonly since?: number;
  readonly limit?: number;
  /** By `at`. @default 'desc' */
  readonly order?: 'asc' | 'desc';
}

/** Recorded commands, by `at` (then device and operator). */
export function queryCommands(db: Database.Database, q: CommandQuery = {}): RecordedAlarmCommand[] {
  const terms: string[] = [];
  const params: (string | number)[] = [];
  if (q.deviceId !== undefined) {
    terms.push('device_id = ?');
    params.push(q.deviceId);
  }
  if (q.since !== undefined) {
    terms.push('at >= ?');
    params.push(q.since);
  }
  const where = terms.length === 0 ? '' : `WHERE ${terms.join(' AND ')}`;
  const dir = (q.order ?? 'desc') === 'asc' ? 'ASC' : 'DESC';
  const rows = db
    .prepare(`SELECT * FROM alarm_commands ${where} ORDER BY at ${dir}, device_id ${dir}, by_client ${dir} LIMIT ?`)
    .all(...params, q.limit ?? -1) as CommandSqlRow[];
  return rows.map((row) => ({ ...toCommandRecord(row), recordedAt: row.recorded_at }));
}

function toCommandRecord(row: CommandSqlRow): AlarmCommandRecord {
  return {
    deviceId: row.device_id,
    ruleId: row.rule_id === '' ? null : row.rule_id,
    action: row.action === '' ? null : row.action,
    by: row.by_client,
    note: row.note,
    seconds: row.seconds,
    clientToken: row.client_token,
    at: row.at,
    outcome: row.outcome,
    reason: row.reason,
    state: row.state,
  };
}
