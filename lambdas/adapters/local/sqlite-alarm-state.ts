import type Database from 'better-sqlite3';
import type { AlarmEvent } from '../../domain/model.js';
import type { AlarmStateStore, DeviceAlarmRecord } from '../../ports/alarm-state-store.js';
import { sqliteCall } from './errors.js';
import type { WriteGroup } from './write-group.js';

interface AlarmStateRow {
  device_id: string;
  version: number;
  last_seen: number;
  state: string;
  outbox: string;
}

/**
 * The alarm-state port on the local SQLite store (`alarm_state` table; DynamoDB on AWS). `save` is the
 * same optimistic conditional write as DynamoDB's `ConditionExpression` on version: an UPDATE guarded
 * by `version = ?`, or an INSERT that does nothing when the row exists; zero rows changed means
 * another writer got there first.
 */
export class SqliteAlarmStateStore implements AlarmStateStore {
  private readonly selectOne: Database.Statement<[string], AlarmStateRow>;
  private readonly insertNew: Database.Statement;
  private readonly updateIfVersion: Database.Statement;
  private readonly selectSeenBefore: Database.Statement<[number], AlarmStateRow>;

  constructor(
    db: Database.Database,
    private readonly writes: WriteGroup,
  ) {
    this.selectOne = db.prepare('SELECT * FROM alarm_state WHERE device_id = ?');
    this.insertNew = db.prepare(
      `INSERT INTO alarm_state (device_id, version, last_seen, state, outbox) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (device_id) DO NOTHING`,
    );
    this.updateIfVersion = db.prepare(
      'UPDATE alarm_state SET version = ?, last_seen = ?, state = ?, outbox = ? WHERE device_id = ? AND version = ?',
    );
    this.selectSeenBefore = db.prepare('SELECT * FROM alarm_state WHERE last_seen < ? ORDER BY last_seen, device_id');
  }

  async load(deviceId: string): Promise<DeviceAlarmRecord | undefined> {
    const row = sqliteCall(`store.db alarm_state load ${deviceId}`, () => this.selectOne.get(deviceId));
    return row === undefined ? undefined : toRecord(row);
  }

  async save(next: DeviceAlarmRecord, expectedVersion: number | undefined): Promise<boolean> {
    const state = JSON.stringify(next.state ?? null);
    const outbox = JSON.stringify(next.outbox);
    const result = this.writes.run(`store.db alarm_state save ${next.deviceId}`, () =>
      expectedVersion === undefined
        ? this.insertNew.run(next.deviceId, next.version, next.lastSeen, state, outbox)
        : this.updateIfVersion.run(next.version, next.lastSeen, state, outbox, next.deviceId, expectedVersion),
    );
    return result.changes === 1;
  }

  async listSeenBefore(before: number): Promise<readonly DeviceAlarmRecord[]> {
    const rows = sqliteCall('store.db alarm_state listSeenBefore', () => this.selectSeenBefore.all(before));
    return rows.map(toRecord);
  }
}

function toRecord(row: AlarmStateRow): DeviceAlarmRecord {
  return {
    deviceId: row.device_id,
    version: row.version,
    lastSeen: row.last_seen,
    state: JSON.parse(row.state) as unknown,
    outbox: JSON.parse(row.outbox) as AlarmEvent[],
  };
}
