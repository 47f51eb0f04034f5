import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import { RESEND_WINDOW_MS } from '../../../lambdas/adapters/local/sqlite-time-series.js';
import type { Reading } from '../../../lambdas/domain/model.js';
import { tempDir } from './temp-dir.js';

const T0 = Date.UTC(2025, 10, 25, 12, 0, 0);

/** A reading as the decoder makes it from a payload with seq and no ts: its time is its receive time. */
function untimed(receivedAt: number, seq: number, metrics: Record<string, number> = { temperature: 21.5 }): Reading {
  return { deviceId: 'sensor-1', ts: receivedAt, seq, type: 'env-sensor', metrics, receivedAt };
}

describe('a reading with seq and without ts, resent', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  const stored = () => store.queryReadings({ deviceId: 'sensor-1', order: 'asc' }).map((r) => ({ ts: r.ts, seq: r.seq }));

  beforeEach(() => {
    dir = tempDir();
    store = SqliteStore.open(join(dir.path, 'store.db'));
  });
  afterEach(() => {
    store.close();
    dir.remove();
  });

  it('is stored once, at its first receive time, when the resend comes in a later write', async () => {
    await store.timeSeries.write([untimed(T0, 7)]);
    await store.timeSeries.write([untimed(T0 + 4_000, 7)]);

    expect(stored()).toEqual([{ ts: T0, seq: 7 }]);
  });

  it('is stored once when the original and the resend are in the same write', async () => {
    await store.timeSeries.write([untimed(T0, 7), untimed(T0 + 1_500, 8), untimed(T0 + 2_000, 7)]);

    expect(stored()).toEqual([
      { ts: T0, seq: 7 },
      { ts: T0 + 1_500, seq: 8 },
    ]);
  });

  it('is stored once whatever order a replay of the stream writes the two copies again in', async () => {
    await store.timeSeries.write([untimed(T0, 7), untimed(T0 + 2_000, 7)]);
    await store.timeSeries.write([untimed(T0, 7), untimed(T0 + 2_000, 7)]);

    expect(stored()).toEqual([{ ts: T0, seq: 7 }]);
  });

  it('is a new reading when its content differs (a device whose seq restarted)', async () => {
    await store.timeSeries.write([untimed(T0, 1, { temperature: 21.5 })]);
    await store.timeSeries.write([untimed(T0 + 60_000, 1, { temperature: 22.0 })]);

    expect(stored()).toEqual([
      { ts: T0, seq: 1 },
      { ts: T0 + 60_000, seq: 1 },
    ]);
  });

  it('is a new reading when it comes after the resend window', async () => {
    await store.timeSeries.write([untimed(T0, 7)]);
    await store.timeSeries.write([untimed(T0 + RESEND_WINDOW_MS + 1, 7)]);

    expect(stored()).toHaveLength(2);
  });

  it('leaves readings that carry ts to their own identity (deviceId, ts, seq)', async () => {
    const timed = (ts: number, receivedAt: number): Reading => ({ ...untimed(receivedAt, 7), ts });
    await store.timeSeries.write([timed(T0 - 5_000, T0), timed(T0 - 5_000, T0 + 3_000), timed(T0 - 4_000, T0 + 3_000)]);

    expect(stored()).toEqual([
      { ts: T0 - 5_000, seq: 7 },
      { ts: T0 - 4_000, seq: 7 },
    ]);
  });
});
