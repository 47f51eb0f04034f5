import type Database from 'better-sqlite3';
import type { AlarmEvent } from '../../domain/model.js';
import type { AlarmStateStore, DeviceAlarmRecord } from '../../ports/alarm-state-store.js';
import { sqliteCall } from './errors.js';
import type { WriteGroup } from './write-group.js';

/** Devices whose last record is remembered (about 1 KB each). */
const MAX_REMEMBERED = 100_000;

interface AlarmStateRow {
  device_id: string;
  version: number;
  last_seen: number;
  state: string;
  outbox: string;
  wake_at: number | null;
}

/**
 * The alarm-state port on the local SQLite store (`alarm_state` table; DynamoDB on AWS). `save` is the
 * same optimistic conditional write as DynamoDB's `ConditionExpression` on version: an UPDATE guarded
 * by `version = ?`, or an INSERT that does nothing when the row exists; zero rows changed means
 * another writer got there first.
 *
 * It remembers the record it last loaded or saved per device (without an outbox), so the alarms
 * consumer's load of a device it saved a batch ago costs no SELECT and no JSON.parse (measured with
 * bench/consumers.ts: the load was ~6% of the consumer's CPU). A remembered record can only be stale
 * when another connection wrote the device since; the conditional write then finds another version,
 * returns false and forgets it, and the caller's reload reads the file. A record with an outbox is
 * never remembered: publishing an outbox must start from what the file holds. Records are shared, not
 * copied: callers treat them as the readonly values the port declares.
 */
export class SqliteAlarmStateStore implements AlarmStateStore {
  private readonly selectOne: Database.Statement<[string], AlarmStateRow>;
  private readonly insertNew: Database.Statement;
  private readonly updateIfVersion: Database.Statement;
  private readonly selectSeenBefore: Database.Statement<[number], AlarmStateRow>;
  private readonly selectDueBy: Database.Statement<[number], AlarmStateRow>;
  private readonly remembered = new Map<string, DeviceAlarmRecord>();

  constructor(
    db: Database.Database,
    private readonly writes: WriteGroup,
  ) {
    this.selectOne = db.prepare('SELECT * FROM alarm_state WHERE device_id = ?');
    this.insertNew = db.prepare(
      `INSERT INTO alarm_state (device_id, version, last_seen, state, outbox, wake_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (device_id) DO NOTHING`,
    );
    this.updateIfVersion = db.prepare(
      'UPDATE alarm_state SET version = ?, last_seen = ?, state = ?, outbox = ?, wake_at = ? WHERE device_id = ? AND version = ?',
    );
    this.selectDueBy = db.prepare('SELECT * FROM alarm_state WHERE wake_at IS NOT NULL AND wake_at <= ? ORDER BY wake_at, device_id');
    this.selectSeenBefore = db.prepare('SELECT * FROM alarm_state WHERE last_seen < ? ORDER BY last_seen, device_id');
  }

  async load(deviceId: string): Promise<DeviceAlarmRecord | undefined> {
    const known = this.remembered.get(deviceId);
    if (known !== undefined) return known;
    const row = sqliteCall(`store.db alarm_state load ${deviceId}`, () => this.selectOne.get(deviceId));
    if (row === undefined) return undefined;
    const record = toRecord(row);
    this.remember(record);
    return record;
  }

  async save(next: DeviceAlarmRecord, expectedVersion: number | undefined): Promise<boolean> {
    const state = JSON.stringify(next.state ?? null);
    const outbox = JSON.stringify(next.outbox);
    const wakeAt = next.wakeAt ?? null;
    const result = this.writes.run(`store.db alarm_state save ${next.deviceId}`, () =>
      expectedVersion === undefined
        ? this.insertNew.run(next.deviceId, next.version, next.lastSeen, state, outbox, wakeAt)
        : this.updateIfVersion.run(next.version, next.lastSeen, state, outbox, wakeAt, next.deviceId, expectedVersion),
    );
    if (result.changes === 1) this.remember(next);
    else this.remembered.delete(next.deviceId);
    return result.changes === 1;
  }

  private remember(record: DeviceAlarmRecord): void {
    if (record.outbox.length > 0) {
      this.remembered.delete(record.deviceId);
      return;
    }
    // Bounded: a fleet bigger than this only pays the SELECT again for the devices forgotten.
    if (this.remembered.size >= MAX_REMEMBERED && !this.remembered.has(record.deviceId)) this.remembered.clear();
    this.remembered.set(record.deviceId, record);
  }

  async listDueBy(now: number): Promise<readonly DeviceAlarmRecord[]> {
    const rows = sqliteCall('store.db alarm_state listDueBy', () => this.selectDueBy.all(now));
    return rows.map(toRecord);
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
    ...(row.wake_at === null ? {} : { wakeAt: row.wake_at }),
  };
}
