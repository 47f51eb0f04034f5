import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import type { AlarmEvent } from '../../../lambdas/domain/model.js';
import type { DeviceAlarmRecord } from '../../../lambdas/ports/alarm-state-store.js';
import { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import { GroupedWritesLostError, WriteGroup } from '../../../lambdas/adapters/local/write-group.js';
import { aReading, anAlarmEvent, T0 } from '../../contract/fixtures.js';
import { tempDir } from './temp-dir.js';

function aRecord(deviceId: string, version = 1): DeviceAlarmRecord {
  return { deviceId, version, lastSeen: T0, state: { v: 1, rules: [] }, outbox: [] };
}

describe('SqliteStore grouped writes', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let reader: Database.Database;
  /** What another connection (the console, the query CLI) sees committed. */
  const committedDevices = (): string[] =>
    (reader.prepare('SELECT device_id FROM alarm_state ORDER BY device_id').pluck().all() as string[]);

  beforeEach(() => {
    dir = tempDir();
    const file = join(dir.path, 'store.db');
    store = SqliteStore.open(file);
    reader = new Database(file, { readonly: true });
  });
  afterEach(() => {
    reader.close();
    store.close();
    dir.remove();
  });

  it('commits the writes of an invocation together, before its promise settles', async () => {
    const seenDuring: string[][] = [];
    const handler = store.groupWrites(async (deviceIds: readonly string[]) => {
      for (const id of deviceIds) {
        expect(await store.alarmStates.save(aRecord(id), undefined)).toBe(true);
        seenDuring.push(committedDevices());
      }
      return 'done';
    });

    const result = await handler(['d1', 'd2', 'd3']);

    expect(result).toBe('done');
    expect(seenDuring).toEqual([[], [], []]);
    expect(committedDevices()).toEqual(['d1', 'd2', 'd3']);
  });

  it('sees its own uncommitted writes, so a conditional write on a version it just saved succeeds', async () => {
    const handler = store.groupWrites(async () => {
      await store.alarmStates.save(aRecord('d1', 1), undefined);
      const loaded = await store.alarmStates.load('d1');
      const stale = await store.alarmStates.save(aRecord('d1', 2), undefined);
      const next = await store.alarmStates.save(aRecord('d1', 2), loaded?.version);
      return { loaded: loaded?.version, stale, next };
    });

    expect(await handler()).toEqual({ loaded: 1, stale: false, next: true });
    expect(reader.prepare('SELECT version FROM alarm_state').pluck().get()).toBe(2);
  });

  it('commits pending writes before a wrapped notifier is called', async () => {
    const seenByNotifier: string[][] = [];
    const notifier = store.commitBefore({
      notify: async (_events: readonly AlarmEvent[]) => {
        seenByNotifier.push(committedDevices());
      },
    });
    const handler = store.groupWrites(async () => {
      await store.alarmStates.save(aRecord('d1'), undefined);
      await notifier.notify([anAlarmEvent({ deviceId: 'd1' })]);
    });

    await handler();

    expect(seenByNotifier).toEqual([['d1']]);
  });

  it('commits at the end of the event-loop turn, so no lock is held while the handler waits on I/O', async () => {
    let seenWhileWaiting: string[] = [];
    const handler = store.groupWrites(async () => {
      await store.alarmStates.save(aRecord('d1'), undefined);
      await new Promise((resolve) => setTimeout(resolve, 5));
      seenWhileWaiting = committedDevices();
    });

    await handler();

    expect(seenWhileWaiting).toEqual(['d1']);
  });

  it('keeps the writes of an invocation that fails, as separate commits would have', async () => {
    const handler = store.groupWrites(async () => {
      await store.alarmStates.save(aRecord('d1'), undefined);
      throw new Error('function error');
    });

    await expect(handler()).rejects.toThrow('function error');

    expect(committedDevices()).toEqual(['d1']);
  });

  it('commits each write on its own outside an invocation', async () => {
    await store.alarmStates.save(aRecord('d1'), undefined);
    await store.timeSeries.write([aReading({ deviceId: 'd1', ts: T0 })]);

    expect(committedDevices()).toEqual(['d1']);
    expect(reader.prepare('SELECT count(*) FROM readings').pluck().get()).toBe(1);
  });

  it('commits grouped writes still pending when the store is closed', async () => {
    let release!: () => void;
    const handler = store.groupWrites(async () => {
      await store.alarmStates.save(aRecord('d1'), undefined);
      await new Promise<void>((resolve) => (release = resolve));
    });
    const running = handler();
    await Promise.resolve();

    store.close();
    release();
    await running;

    expect(committedDevices()).toEqual(['d1']);
  });
});

describe('WriteGroup', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Database.Database;

  beforeEach(() => {
    dir = tempDir();
    db = new Database(join(dir.path, 'group.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
  });
  afterEach(() => {
    db.close();
    dir.remove();
  });

  it('fails every invocation in flight when SQLite rolled the group back, since writes that had returned are gone', async () => {
    const group = new WriteGroup(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    let resumeFirst!: () => void;
    const first = group.scope(async () => {
      group.run('t insert', () => insert.run('a'));
      await new Promise<void>((resolve) => (resumeFirst = resolve));
    });
    const second = group.scope(async () => {
      group.run('t insert', () => insert.run('b'));
      // What SQLite does on its own after SQLITE_FULL or an I/O error inside a transaction.
      db.exec('ROLLBACK');
    });

    const firstRun = first();
    await Promise.resolve();
    const secondRun = second();
    resumeFirst();

    await expect(secondRun).rejects.toBeInstanceOf(GroupedWritesLostError);
    await expect(firstRun).rejects.toBeInstanceOf(RetryableError);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(0);
  });

  it('starts a fresh transaction after a lost one, so later invocations succeed', async () => {
    const group = new WriteGroup(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    const lost = group.scope(async () => {
      group.run('t insert', () => insert.run('a'));
      db.exec('ROLLBACK');
    });
    const next = group.scope(async () => {
      group.run('t insert', () => insert.run('b'));
    });

    await expect(lost()).rejects.toBeInstanceOf(GroupedWritesLostError);
    await next();

    expect(db.prepare('SELECT k FROM t').pluck().all()).toEqual(['b']);
  });

  describe('durability before notifying', () => {
    /** What another connection sees committed. */
    const committedKeys = (): string[] => {
      const other = new Database(join(dir.path, 'group.db'), { readonly: true });
      try {
        return other.prepare('SELECT k FROM t ORDER BY k').pluck().all() as string[];
      } finally {
        other.close();
      }
    };

    it('makes the committed writes durable before the notifier hears of any event', async () => {
      const steps: string[] = [];
      const group = new WriteGroup(db, {
        makeDurable: async () => {
          steps.push(`durable after commit of ${committedKeys().join(',')}`);
        },
      });
      const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
      const notifier = group.commitBefore({ notify: async (events) => void steps.push(`notified of ${events.length}`) });

      await group.scope(async () => {
        group.run('t insert', () => insert.run('outbox'));
        await notifier.notify([anAlarmEvent({ deviceId: 'd1' })]);
      })();

      expect(steps).toEqual(['durable after commit of outbox', 'notified of 1']);
    });

    it('commits and makes durable on demand, for a reply that reports the writes outside the process', async () => {
      const steps: string[] = [];
      const group = new WriteGroup(db, { makeDurable: async () => void steps.push(`durable after commit of ${committedKeys().join(',')}`) });
      const insert = db.prepare('INSERT INTO t (k) VALUES (?)');

      await group.scope(async () => {
        group.run('t insert', () => insert.run('command'));
        await group.commitDurably();
        steps.push('replied');
      })();

      expect(steps).toEqual(['durable after commit of command', 'replied']);
    });

    it('costs no fsync when there is nothing to tell', async () => {
      let syncs = 0;
      const group = new WriteGroup(db, { makeDurable: async () => void (syncs += 1) });
      const notifier = group.commitBefore({ notify: async () => undefined });

      await group.scope(async () => notifier.notify([]))();

      expect(syncs).toBe(0);
    });

    it('keeps the events from the notifier when the fsync fails, so the invocation fails and its outbox is retried', async () => {
      const heard: number[] = [];
      const group = new WriteGroup(db, { makeDurable: () => Promise.reject(new RetryableError('fsync: EIO')) });
      const notifier = group.commitBefore({ notify: async (events) => void heard.push(events.length) });

      await expect(notifier.notify([anAlarmEvent({ deviceId: 'd1' })])).rejects.toThrow('fsync: EIO');
      expect(heard).toEqual([]);
    });
  });

  it('commits a grouped write made outside any invocation at the end of the event-loop turn, not on its own', async () => {
    const group = new WriteGroup(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');

    group.runGrouped('t insert', () => insert.run('a'));
    group.runGrouped('t insert', () => insert.run('b'));
    const before = db.inTransaction;
    await new Promise((resolve) => setImmediate(resolve));

    expect(before).toBe(true);
    expect(db.inTransaction).toBe(false);
    const other = new Database(join(dir.path, 'group.db'), { readonly: true });
    expect(other.prepare('SELECT k FROM t ORDER BY k').pluck().all()).toEqual(['a', 'b']);
    other.close();
  });
});
