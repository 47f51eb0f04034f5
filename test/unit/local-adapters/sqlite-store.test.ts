import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import type { Reading } from '../../../lambdas/domain/model.js';
import { StoreSchemaError } from '../../../lambdas/adapters/local/errors.js';
import { SCHEMA_VERSION } from '../../../lambdas/adapters/local/sqlite-schema.js';
import { SqliteStore, StoreNotFoundError } from '../../../lambdas/adapters/local/sqlite-store.js';
import { aReading, aRecordRef, aRejectedMessage, anAlarmEvent, T0 } from '../../contract/fixtures.js';
import { tempDir } from './temp-dir.js';

describe('SqliteStore', () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;
  const opened: SqliteStore[] = [];
  const open = (options?: Parameters<typeof SqliteStore.open>[1]): SqliteStore => {
    const store = SqliteStore.open(file, options);
    opened.push(store);
    return store;
  };

  beforeEach(() => {
    dir = tempDir();
    file = join(dir.path, 'nested', 'store.db');
  });
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
    dir.remove();
  });

  describe('open', () => {
    it('creates the file and its folder in WAL mode at the current schema version', () => {
      open();

      const raw = new Database(file, { readonly: true });
      try {
        expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(raw.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: SCHEMA_VERSION }]);
      } finally {
        raw.close();
      }
    });

    it('keeps the data and the single version row when the file is opened again', async () => {
      const first = open();
      await first.timeSeries.write([aReading()]);
      first.close();

      const again = open();

      expect(again.countReadings()).toBe(1);
      const raw = new Database(file, { readonly: true });
      try {
        expect(raw.prepare('SELECT count(*) AS n FROM schema_version').get()).toEqual({ n: 1 });
      } finally {
        raw.close();
      }
    });

    it('refuses a file written by a newer schema, naming both versions', () => {
      open().close();
      const raw = new Database(file);
      raw.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
      raw.close();

      expect(() => open()).toThrow(StoreSchemaError);
      expect(() => open()).toThrow(`version ${SCHEMA_VERSION + 1} is newer than this code's ${SCHEMA_VERSION}`);
    });

    it('refuses a read-only open of a missing file without creating it', () => {
      expect(() => open({ readonly: true })).toThrow(StoreNotFoundError);
      expect(() => open({ readonly: true })).toThrow(`no store at ${file}`);
    });

    it('refuses a read-only open of a SQLite file that is not a store', () => {
      open().close();
      const raw = new Database(file);
      raw.exec('DROP TABLE schema_version');
      raw.close();

      expect(() => open({ readonly: true })).toThrow(/not a fleet-telemetry store/);
    });

    it('lets a read-only reader see what a writer still holding the file has committed', async () => {
      const writer = open();
      await writer.timeSeries.write([aReading()]);

      const reader = open({ readonly: true });
      await writer.timeSeries.write([aReading({ ts: T0 + 1 })]);

      expect(reader.countReadings()).toBe(2);
    });

    it('opens read-only a store whose writer has closed', async () => {
      const writer = open();
      await writer.timeSeries.write([aReading()]);
      writer.close();

      const reader = open({ readonly: true });

      expect(reader.queryReadings()).toHaveLength(1);
    });

    it('refuses writes through a read-only store, as a non-retryable error', async () => {
      open().close();
      const reader = open({ readonly: true });

      const write = reader.timeSeries.write([aReading()]);

      await expect(write).rejects.toThrow(/readonly/);
      await expect(reader.timeSeries.write([aReading()])).rejects.not.toBeInstanceOf(RetryableError);
    });
  });

  describe('time series', () => {
    it('refuses readings SQLite cannot hold faithfully, with a reason, and stores the rest', async () => {
      const store = open();
      const readings: Reading[] = [
        aReading({ ts: T0 + 0.5 }),
        aReading({ seq: 2 }),
        aReading({ seq: -3 }),
        aReading({ seq: 4, metrics: { temperature: Number.NaN } }),
        aReading({ seq: 5, receivedAt: Number.POSITIVE_INFINITY }),
      ];

      const outcome = await store.timeSeries.write(readings);

      expect(outcome.rejected).toEqual([
        { index: 0, reason: `ts: ${T0 + 0.5} is not an integer epoch ms` },
        { index: 2, reason: 'seq: -3 is not a non-negative integer' },
        { index: 3, reason: 'metrics.temperature: not a finite number' },
        { index: 4, reason: 'receivedAt: Infinity is not an integer epoch ms' },
      ]);
      expect(store.queryReadings().map((r) => r.seq)).toEqual([2]);
    });

    it('throws RetryableError when another connection holds the write lock past busy_timeout', async () => {
      const store = open({ busyTimeoutMs: 20 });
      const other = new Database(file);
      other.exec('BEGIN IMMEDIATE');
      try {
        await expect(store.timeSeries.write([aReading()])).rejects.toBeInstanceOf(RetryableError);
        await expect(store.alarmStates.save({ deviceId: 'd', version: 1, lastSeen: T0, state: {}, outbox: [] }, undefined)).rejects.toBeInstanceOf(RetryableError);
        await expect(store.rejects.reject([aRejectedMessage()])).rejects.toThrow(/store.db rejects write: database is locked/);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
    });

    it('writes again once the lock is released', async () => {
      const store = open({ busyTimeoutMs: 20 });
      const other = new Database(file);
      other.exec('BEGIN IMMEDIATE');
      await expect(store.timeSeries.write([aReading()])).rejects.toBeInstanceOf(RetryableError);
      other.exec('ROLLBACK');
      other.close();

      await store.timeSeries.write([aReading()]);

      expect(store.countReadings()).toBe(1);
    });
  });

  describe('queryReadings', () => {
    let store: SqliteStore;
    beforeEach(async () => {
      store = open();
      await store.timeSeries.write([
        aReading({ deviceId: 'a', ts: T0, seq: 1 }),
        aReading({ deviceId: 'a', ts: T0 + 1_000, seq: 2 }),
        aReading({ deviceId: 'a', ts: T0 + 2_000, seq: undefined, type: undefined, metrics: { battery: 3.1 } }),
        aReading({ deviceId: 'b', ts: T0 + 500, seq: 1 }),
        aReading({ deviceId: 'b', ts: T0 + 1_500, seq: 2 }),
      ]);
    });

    it('returns the reading shape with null for a missing seq or type', () => {
      expect(store.queryReadings({ deviceId: 'a', limit: 1 })).toEqual([
        { deviceId: 'a', ts: T0 + 2_000, seq: null, type: null, metrics: { battery: 3.1 } },
      ]);
    });

    it('returns the newest first by default, and the oldest first with order asc', () => {
      expect(store.queryReadings().map((r) => `${r.deviceId}@${r.ts - T0}`)).toEqual(['a@2000', 'b@1500', 'a@1000', 'b@500', 'a@0']);
      expect(store.queryReadings({ order: 'asc', limit: 2 }).map((r) => `${r.deviceId}@${r.ts - T0}`)).toEqual(['a@0', 'b@500']);
    });

    it('filters by device and by a since (inclusive) to until (exclusive) window', () => {
      const rows = store.queryReadings({ since: T0 + 500, until: T0 + 2_000 });

      expect(rows.map((r) => `${r.deviceId}@${r.ts - T0}`)).toEqual(['b@1500', 'a@1000', 'b@500']);
      expect(store.queryReadings({ deviceId: 'b', since: T0 + 1_000 }).map((r) => r.ts - T0)).toEqual([1_500]);
    });

    it('counts with the same filters', () => {
      expect(store.countReadings()).toBe(5);
      expect(store.countReadings({ deviceId: 'a' })).toBe(3);
      expect(store.countReadings({ since: T0 + 1_000, until: T0 + 2_000 })).toBe(2);
    });

    it('finds the newest readings across many devices as a full sort would', async () => {
      // Deterministic pseudo-random fleet: devices with overlapping time ranges and gaps.
      let x = 42;
      const rand = (n: number): number => {
        x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
        return x % n;
      };
      const readings = Array.from({ length: 2_000 }, (_, i) =>
        aReading({ deviceId: `d${rand(37)}`, ts: T0 + rand(100_000), seq: i }),
      );
      await store.timeSeries.write(readings);
      const all = store.queryReadings({ since: 0 });
      const key = (r: { deviceId: string; ts: number; seq: number | null }): string => `${r.deviceId}@${r.ts}#${r.seq}`;

      for (const q of [
        { limit: 25 },
        { limit: 25, order: 'asc' as const },
        { limit: 10, since: T0 + 40_000, until: T0 + 60_000 },
        { limit: 10, until: T0 + 5_000 },
        { limit: 10, since: T0 + 99_000, order: 'asc' as const },
      ]) {
        const fromAll = all
          .filter((r) => (q.since === undefined || r.ts >= q.since) && (q.until === undefined || r.ts < q.until))
          .sort((a, b) => (a.ts - b.ts || (a.seq ?? -1) - (b.seq ?? -1) || (a.deviceId < b.deviceId ? -1 : 1)) * (q.order === 'asc' ? 1 : -1))
          .slice(0, q.limit);
        expect(store.queryReadings(q).map(key), JSON.stringify(q)).toEqual(fromAll.map(key));
      }
    });

    it('knows when each device was last seen, whatever order its readings arrived in', async () => {
      await store.timeSeries.write([aReading({ deviceId: 'b', ts: T0 - 60_000, receivedAt: T0 + 99_999 })]);

      expect(store.lastSeen()).toEqual([
        { deviceId: 'a', ts: T0 + 2_000, receivedAt: T0 + 15 },
        { deviceId: 'b', ts: T0 + 1_500, receivedAt: T0 + 99_999 },
      ]);
    });
  });

  describe('rejects', () => {
    it('shows a UTF-8 payload as text and a binary one as base64, with its record', async () => {
      const store = open();
      const binary = Buffer.from([0xc3, 0x28, 0x00]).toString('base64');
      await store.rejects.reject([
        aRejectedMessage({ record: aRecordRef({ sequenceNumber: '1' }) }),
        aRejectedMessage({ payload: binary, record: aRecordRef({ sequenceNumber: '2' }), rejectedAt: T0 + 31 }),
      ]);

      const rows = store.queryRejects();

      expect(rows.map((r) => [r.payloadEncoding, r.payload])).toEqual([
        ['base64', binary],
        ['utf8', '{"metrics":{"temperature":"hot"}}'],
      ]);
      expect(rows[1]).toMatchObject({
        reason: 'metrics.temperature: not a finite number',
        stage: 'decode',
        deviceId: 'sensor-0001',
        topic: 'dt/fleet/sensor-0001/telemetry',
        record: aRecordRef({ sequenceNumber: '1' }),
        rejectedAt: T0 + 30,
      });
    });

    it('keeps a record rejected again by a redelivered batch once', async () => {
      const store = open();
      const message = aRejectedMessage();

      await store.rejects.reject([message]);
      await store.rejects.reject([{ ...message, rejectedAt: message.rejectedAt + 5_000 }]);

      expect(store.queryRejects()).toHaveLength(1);
    });

    it('filters by device, since and limit', async () => {
      const store = open();
      await store.rejects.reject([
        aRejectedMessage({ deviceId: 'a', rejectedAt: T0, record: aRecordRef({ sequenceNumber: '1' }) }),
        aRejectedMessage({ deviceId: 'b', rejectedAt: T0 + 1, record: aRecordRef({ sequenceNumber: '2' }) }),
        aRejectedMessage({ deviceId: 'a', rejectedAt: T0 + 2, record: aRecordRef({ sequenceNumber: '3' }) }),
      ]);

      expect(store.queryRejects({ deviceId: 'a' }).map((r) => r.record.sequenceNumber)).toEqual(['3', '1']);
      expect(store.queryRejects({ since: T0 + 1 }).map((r) => r.record.sequenceNumber)).toEqual(['3', '2']);
      expect(store.queryRejects({ limit: 1, order: 'asc' }).map((r) => r.record.sequenceNumber)).toEqual(['1']);
    });
  });

  describe('alarm log', () => {
    const raised = anAlarmEvent();
    const cleared = anAlarmEvent({ state: 'OK', previousState: 'ALARM', value: 74, threshold: 75, ts: T0 + 60_000 });
    const battery = anAlarmEvent({
      alarmId: 'sensor-0002/battery-low', deviceId: 'sensor-0002', ruleId: 'battery-low', metric: 'battery',
      severity: 'warning', value: 3.2, threshold: 3.3, ts: T0 + 10_000,
    });

    it('keeps each alarm at its newest transition, stamped with when it was recorded', async () => {
      const store = open({ clock: { now: () => T0 + 99 } });

      await store.alarmLog.notify([raised, battery, cleared]);

      expect(store.queryAlarmStates()).toEqual([
        { ...cleared, recordedAt: T0 + 99 },
        { ...battery, recordedAt: T0 + 99 },
      ]);
      expect(store.queryAlarmStates({ state: 'ALARM' }).map((a) => a.alarmId)).toEqual(['sensor-0002/battery-low']);
      expect(store.queryAlarmStates({ deviceId: 'sensor-0001' }).map((a) => a.state)).toEqual(['OK']);
    });

    it('logs a transition republished late without moving the current state back', async () => {
      const store = open();
      await store.alarmLog.notify([cleared]);

      await store.alarmLog.notify([raised]);

      expect(store.queryTransitions().map((t) => t.state)).toEqual(['OK', 'ALARM']);
      expect(store.queryAlarmStates().map((a) => a.state)).toEqual(['OK']);
    });

    it('lists transitions newest first, filtered by device, since and limit', async () => {
      const store = open();
      await store.alarmLog.notify([raised, battery, cleared]);

      expect(store.queryTransitions().map((t) => t.ts - T0)).toEqual([60_000, 10_000, 0]);
      expect(store.queryTransitions({ deviceId: 'sensor-0001', limit: 1 }).map((t) => t.state)).toEqual(['OK']);
      expect(store.queryTransitions({ since: T0 + 10_000, order: 'asc' }).map((t) => t.alarmId)).toEqual([
        'sensor-0002/battery-low',
        'sensor-0001/overheat',
      ]);
    });
  });
});
