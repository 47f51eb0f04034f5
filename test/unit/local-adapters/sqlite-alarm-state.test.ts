import { join } from 'node:path';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { DeviceAlarmRecord } from '../../../lambdas/ports/alarm-state-store.js';
import { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import { anAlarmEvent, T0 } from '../../contract/fixtures.js';
import { tempDir } from './temp-dir.js';

function aRecord(version: number, overrides: Partial<DeviceAlarmRecord> = {}): DeviceAlarmRecord {
  return { deviceId: 'd1', version, lastSeen: T0 + version, state: { v: 1, rules: [], mark: version }, outbox: [], ...overrides };
}

describe('SqliteAlarmStateStore remembering records', () => {
  let dir: ReturnType<typeof tempDir>;
  let mine: SqliteStore;
  let other: SqliteStore;
  let file: string;
  /** What the file holds, through a connection that remembers nothing yet. */
  const inFile = async (): Promise<DeviceAlarmRecord | undefined> => {
    const fresh = SqliteStore.open(file);
    try {
      return await fresh.alarmStates.load('d1');
    } finally {
      fresh.close();
    }
  };

  beforeEach(() => {
    dir = tempDir();
    file = join(dir.path, 'store.db');
    mine = SqliteStore.open(file);
    // Another writer on the same file: the offline check in another thread, say.
    other = SqliteStore.open(file);
  });
  afterEach(() => {
    mine.close();
    other.close();
    dir.remove();
  });

  it('never writes over another connection\'s newer record: a write based on an older one is refused and the reload reads the file', async () => {
    await mine.alarmStates.save(aRecord(1), undefined);
    const theirs = await other.alarmStates.load('d1');
    await other.alarmStates.save(aRecord(2), theirs?.version);

    // What updateDevice does: load, write the next version on top of it, reload when refused.
    const attempts: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const loaded = await mine.alarmStates.load('d1');
      attempts.push(loaded?.version ?? 0);
      if (await mine.alarmStates.save(aRecord((loaded?.version ?? 0) + 1), loaded?.version)) break;
    }

    expect(attempts.at(-1)).toBe(2);
    expect(await inFile()).toEqual(aRecord(3));
  });

  it('reads a record with an outbox from the file every time, since another writer may have published it', async () => {
    const event = anAlarmEvent({ deviceId: 'd1' });
    await mine.alarmStates.save(aRecord(1, { outbox: [{ ...event, pendingSince: T0 }] }), undefined);
    await other.alarmStates.save(aRecord(2), 1);

    expect(await mine.alarmStates.load('d1')).toEqual(aRecord(2));
  });

  it('gives back what it saved, as the file holds it', async () => {
    await mine.alarmStates.save(aRecord(1), undefined);
    await mine.alarmStates.save(aRecord(2), 1);

    expect(await mine.alarmStates.load('d1')).toEqual(await inFile());
  });
});
