import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { Reading } from '../../lambdas/domain/model.js';
import type { TimeSeriesStore } from '../../lambdas/ports/time-series-store.js';
import { aReading, sortedBy, T0 } from './fixtures.js';

/** A stored reading as the contract compares it: the reading less its receive time. */
export interface StoredReading {
  readonly deviceId: string;
  readonly ts: number;
  readonly seq?: number;
  readonly type?: string;
  readonly metrics: Readonly<Record<string, number>>;
}

/** One adapter under test, with a way to read back what it stored. */
export interface TimeSeriesHarness {
  readonly store: TimeSeriesStore;
  /** Everything stored, in any order. */
  stored(): Promise<readonly StoredReading[]>;
  dispose(): Promise<void>;
}

const key = (r: StoredReading): string => `${r.deviceId}|${String(r.ts).padStart(16, '0')}|${r.seq ?? ''}`;

function asStored(r: Reading): StoredReading {
  return {
    deviceId: r.deviceId,
    ts: r.ts,
    ...(r.seq === undefined ? {} : { seq: r.seq }),
    ...(r.type === undefined ? {} : { type: r.type }),
    metrics: r.metrics,
  };
}

/** The TimeSeriesStore port's contract (lambdas/ports/time-series-store.ts), run against every adapter. */
export function timeSeriesStoreContract(name: string, make: () => Promise<TimeSeriesHarness>): void {
  describe(`TimeSeriesStore contract: ${name}`, () => {
    let h: TimeSeriesHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.dispose();
    });

    it('stores every reading of a write with its fields, with and without seq and type', async () => {
      const readings = [
        aReading(),
        aReading({ deviceId: 'sensor-0002', ts: T0 + 1_000, seq: 0, metrics: { battery: 3.2 } }),
        aReading({ ts: T0 + 2_000, seq: undefined, type: undefined }),
      ];

      const outcome = await h.store.write(readings);

      expect(outcome.rejected).toEqual([]);
      expect(sortedBy(await h.stored(), key)).toEqual(sortedBy(readings.map(asStored), key));
    });

    it('keeps one reading when the same reading is written twice (idempotent upsert)', async () => {
      const readings = [aReading(), aReading({ seq: undefined, ts: T0 + 500 })];

      await h.store.write(readings);
      await h.store.write(readings);

      expect(sortedBy(await h.stored(), key)).toEqual(sortedBy(readings.map(asStored), key));
    });

    it('replaces the metrics when a later write has the same deviceId, ts and seq', async () => {
      await h.store.write([aReading({ metrics: { temperature: 20 } })]);

      await h.store.write([aReading({ metrics: { temperature: 21, humidity: 40 }, receivedAt: T0 + 99 })]);

      expect(await h.stored()).toEqual([asStored(aReading({ metrics: { temperature: 21, humidity: 40 } }))]);
    });

    it('keeps readings apart that differ only in seq, including none and 0', async () => {
      const readings = [aReading({ seq: undefined }), aReading({ seq: 0 }), aReading({ seq: 1 })];

      await h.store.write(readings);

      expect(await h.stored()).toHaveLength(3);
    });

    it('keeps readings apart that differ only in device or time', async () => {
      const readings = [aReading(), aReading({ deviceId: 'sensor-0002' }), aReading({ ts: T0 + 1 })];

      await h.store.write(readings);

      expect(await h.stored()).toHaveLength(3);
    });

    it('takes a write of exactly maxReadingsPerWrite readings', async () => {
      const max = h.store.maxReadingsPerWrite;
      const readings = Array.from({ length: max }, (_, i) => aReading({ ts: T0 + i, seq: i }));

      const outcome = await h.store.write(readings);

      expect(Number.isSafeInteger(max) && max > 0).toBe(true);
      expect(outcome.rejected).toEqual([]);
      expect(await h.stored()).toHaveLength(max);
    });

    it('does nothing for an empty write', async () => {
      const outcome = await h.store.write([]);

      expect(outcome.rejected).toEqual([]);
      expect(await h.stored()).toEqual([]);
    });
  });
}
