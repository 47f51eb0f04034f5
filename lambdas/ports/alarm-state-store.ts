import type { AlarmEvent } from '../domain/model.js';

/**
 * One device's alarm state as stored: one item per device (DynamoDB) or row (SQLite), so one
 * conditional write covers every rule of the device.
 */
export interface DeviceAlarmRecord {
  readonly deviceId: string;
  /** Optimistic-concurrency version: 1 on first save, +1 on each save. */
  readonly version: number;
  /** Event time of the newest reading applied, epoch ms (the offline check scans on it). */
  readonly lastSeen: number;
  /** The state machine's per-device state (lambdas/domain/alarm-engine.ts), opaque to stores: stored as JSON. */
  readonly state: unknown;
  /** Transitions decided but not yet confirmed published (outbox): flushed before anything else. */
  readonly outbox: readonly OutboxEntry[];
  /**
   * When the scheduled check must visit the device even without a reading (a snooze ends, a reminder
   * is due), epoch ms; absent when nothing is pending. Stores index it (sparsely) for listDueBy.
   */
  readonly wakeAt?: number;
}

/**
 * A transition waiting in the outbox. `pendingSince` (epoch ms) is when its writer saved it: while
 * it is recent, that writer is publishing it right now and nobody else may; once older than the
 * lease (or 0: its writer gave up), the next writer publishes it. Stores keep it as part of the entry.
 */
export interface OutboxEntry extends AlarmEvent {
  readonly pendingSince?: number;
}

export interface AlarmStateStore {
  load(deviceId: string): Promise<DeviceAlarmRecord | undefined>;
  /**
   * Saves `next` only if the stored version is still `expectedVersion` (undefined: the item must not
   * exist yet). Returns false when another writer got there first; nothing is written then.
   */
  save(next: DeviceAlarmRecord, expectedVersion: number | undefined): Promise<boolean>;
  /** Devices whose lastSeen is before `before` (epoch ms): the offline check's candidates. */
  listSeenBefore(before: number): Promise<readonly DeviceAlarmRecord[]>;
  /** Devices whose wakeAt is at or before `now` (epoch ms): the offline check's other candidates. */
  listDueBy(now: number): Promise<readonly DeviceAlarmRecord[]>;
}
