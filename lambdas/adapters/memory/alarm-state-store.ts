import type { DeviceAlarmRecord, AlarmStateStore } from '../../ports/alarm-state-store.js';
import { InvariantError } from '../../domain/errors.js';

/** Runs inside the next save, before its condition is checked: a concurrent writer's moment. */
type BeforeSaveHook = (store: InMemoryAlarmStateStore, next: DeviceAlarmRecord) => Promise<void> | void;

/**
 * The alarm state store with the real conditional semantics: a save succeeds only if the stored
 * version is the expected one (none for a first save), and the new version must be the expected one
 * plus one, as the port requires. Records go through JSON, as they would into DynamoDB or SQLite, so
 * state that is not plain JSON shows up in tests.
 */
export class InMemoryAlarmStateStore implements AlarmStateStore {
  /** Saves attempted, and those refused because another writer got there first. */
  saves = 0;
  conflicts = 0;
  private readonly items = new Map<string, string>();
  private readonly hooks: BeforeSaveHook[] = [];
  private inHook = false;

  async load(deviceId: string): Promise<DeviceAlarmRecord | undefined> {
    return this.get(deviceId);
  }

  async save(next: DeviceAlarmRecord, expectedVersion: number | undefined): Promise<boolean> {
    // Saves made by a hook (the concurrent writer) do not trigger the next hook themselves.
    const hook = this.inHook ? undefined : this.hooks.shift();
    if (hook !== undefined) {
      this.inHook = true;
      try {
        await hook(this, next);
      } finally {
        this.inHook = false;
      }
    }
    this.saves += 1;
    if (next.version !== (expectedVersion ?? 0) + 1) {
      throw new InvariantError(`${next.deviceId}: version ${next.version} after expected ${String(expectedVersion)} is not +1`);
    }
    const current = this.get(next.deviceId);
    if (current?.version !== expectedVersion) {
      this.conflicts += 1;
      return false;
    }
    this.items.set(next.deviceId, JSON.stringify(next));
    return true;
  }

  async listSeenBefore(before: number): Promise<readonly DeviceAlarmRecord[]> {
    return [...this.items.keys()]
      .map((deviceId) => this.get(deviceId) as DeviceAlarmRecord)
      .filter((record) => record.lastSeen < before);
  }

  async listDueBy(now: number): Promise<readonly DeviceAlarmRecord[]> {
    return [...this.items.keys()]
      .map((deviceId) => this.get(deviceId) as DeviceAlarmRecord)
      .filter((record) => record.wakeAt !== undefined && record.wakeAt <= now);
  }

  /**
   * Lets `hook` run inside the next save (once), before the condition: simulates a concurrent writer.
   * Hooks queue up, one per save.
   */
  beforeNextSave(hook: BeforeSaveHook): void {
    this.hooks.push(hook);
  }

  /** Every stored record (the in-memory reader lists them all). */
  listAll(): DeviceAlarmRecord[] {
    return [...this.items.keys()].map((deviceId) => this.get(deviceId) as DeviceAlarmRecord);
  }

  /** Writes a record unconditionally (seeding a test). */
  put(record: DeviceAlarmRecord): void {
    this.items.set(record.deviceId, JSON.stringify(record));
  }

  /** The stored record, a fresh copy. */
  get(deviceId: string): DeviceAlarmRecord | undefined {
    const json = this.items.get(deviceId);
    return json === undefined ? undefined : (JSON.parse(json) as DeviceAlarmRecord);
  }
}
