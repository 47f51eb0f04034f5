import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { Reading } from '../../lambdas/domain/model.js';
import type { ReadingRow, ReadingsReader } from '../../lambdas/ports/readings-reader.js';
import { aReading, T0 } from './fixtures.js';

/** One reader under test, over a store it can fill. */
export interface ReadingsReaderHarness {
  readonly reader: ReadingsReader;
  /** Stores `readings` through the runtime's own time-series store. */
  write(readings: readonly Reading[]): Promise<void>;
  dispose(): Promise<void>;
}

const row = (r: Reading): ReadingRow => ({ deviceId: r.deviceId, ts: r.ts, seq: r.seq ?? null, type: r.type ?? null, metrics: r.metrics });

/** The ReadingsReader port's contract (lambdas/ports/readings-reader.ts), run against every reader. */
export function readingsReaderContract(name: string, make: () => Promise<ReadingsReaderHarness>): void {
  describe(`ReadingsReader contract: ${name}`, () => {
    let h: ReadingsReaderHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.dispose();
    });

    const minute = (i: number, overrides: Partial<Reading> = {}): Reading =>
      aReading({ ts: T0 + i * 60_000, seq: i, metrics: { temperature: 20 + i }, ...overrides });

    it("returns one device's readings newest first, with every field, and no other device's", async () => {
      const mine = [minute(0), minute(1, { type: undefined }), minute(2, { seq: undefined })];
      await h.write([...mine, minute(1, { deviceId: 'sensor-0002' })]);

      const rows = await h.reader.deviceReadings({ deviceId: 'sensor-0001' });

      expect(rows).toEqual(mine.map(row).reverse());
    });

    it('keeps to the range: since inclusive, until exclusive, in either order', async () => {
      await h.write([0, 1, 2, 3, 4].map((i) => minute(i)));
      const range = { deviceId: 'sensor-0001', since: T0 + 60_000, until: T0 + 3 * 60_000 };

      expect((await h.reader.deviceReadings(range)).map((r) => r.seq)).toEqual([2, 1]);
      expect((await h.reader.deviceReadings({ ...range, order: 'asc' })).map((r) => r.seq)).toEqual([1, 2]);
      expect((await h.reader.deviceReadings({ deviceId: 'sensor-0001', since: T0 + 3 * 60_000 })).map((r) => r.seq)).toEqual([4, 3]);
      expect((await h.reader.deviceReadings({ deviceId: 'sensor-0001', until: T0 + 60_000 })).map((r) => r.seq)).toEqual([0]);
    });

    it('gives the newest rows with a limit, or the oldest ones in ascending order', async () => {
      await h.write([0, 1, 2, 3, 4].map((i) => minute(i)));

      expect((await h.reader.deviceReadings({ deviceId: 'sensor-0001', limit: 2 })).map((r) => r.seq)).toEqual([4, 3]);
      expect((await h.reader.deviceReadings({ deviceId: 'sensor-0001', limit: 2, order: 'asc' })).map((r) => r.seq)).toEqual([0, 1]);
    });

    it('orders readings at the same time by seq, a reading without seq before seq 0', async () => {
      await h.write([aReading({ seq: 5 }), aReading({ seq: undefined }), aReading({ seq: 0 }), aReading({ seq: 12 })]);

      const rows = await h.reader.deviceReadings({ deviceId: 'sensor-0001', order: 'asc' });

      expect(rows.map((r) => r.seq)).toEqual([null, 0, 5, 12]);
    });

    it('reads back metrics whose names are reserved words in DynamoDB and SQL', async () => {
      const reading = aReading({ metrics: { timestamp: 1, name: 2, value: 3, ttl: 4, select: 5 } });
      await h.write([reading]);

      expect(await h.reader.deviceReadings({ deviceId: 'sensor-0001' })).toEqual([row(reading)]);
    });

    it('reads back metrics named like Object.prototype members as own properties', async () => {
      // `__proto__` is checked on the item functions (dynamodb-time-series.test.ts): dynalite drops
      // a map key of that name, which DynamoDB keeps.
      const metrics = JSON.parse('{"constructor": 2, "toString": 3, "hasOwnProperty": 4}') as Record<string, number>;
      await h.write([aReading({ metrics })]);

      const [read] = await h.reader.deviceReadings({ deviceId: 'sensor-0001' });

      expect(Object.entries(read?.metrics ?? {})).toEqual([['constructor', 2], ['toString', 3], ['hasOwnProperty', 4]]);
    });

    it("merges the fleet's newest readings across devices, newest first, within the range", async () => {
      await h.write([
        minute(0, { deviceId: 'a' }),
        minute(3, { deviceId: 'a' }),
        minute(1, { deviceId: 'b' }),
        minute(4, { deviceId: 'b' }),
        minute(2, { deviceId: 'c' }),
      ]);

      const newest = await h.reader.newestReadings({ limit: 3 });
      const recent = await h.reader.newestReadings({ limit: 10, since: T0 + 2 * 60_000, until: T0 + 4 * 60_000 });

      expect(newest.map((r) => `${r.deviceId}${r.seq}`)).toEqual(['b4', 'a3', 'c2']);
      expect(recent.map((r) => `${r.deviceId}${r.seq}`)).toEqual(['a3', 'c2']);
    });

    it("gives each device's newest reading, by device, for all devices or the ones named, within since", async () => {
      await h.write([
        minute(0, { deviceId: 'b' }),
        minute(3, { deviceId: 'b' }),
        minute(3, { deviceId: 'b', seq: 4 }),
        minute(1, { deviceId: 'a' }),
        minute(2, { deviceId: 'c' }),
      ]);

      const all = await h.reader.latestReadings();
      const named = await h.reader.latestReadings({ deviceIds: ['c', 'a', 'nobody'] });
      const recent = await h.reader.latestReadings({ since: T0 + 2 * 60_000 });

      expect(all.map((r) => `${r.deviceId}${r.seq}`)).toEqual(['a1', 'b4', 'c2']);
      expect(named.map((r) => `${r.deviceId}${r.seq}`)).toEqual(['a1', 'c2']);
      expect(recent.map((r) => `${r.deviceId}${r.seq}`)).toEqual(['b4', 'c2']);
    });

    it('returns nothing for a device that never reported', async () => {
      await h.write([minute(0)]);

      expect(await h.reader.deviceReadings({ deviceId: 'sensor-9999' })).toEqual([]);
    });
  });
}
