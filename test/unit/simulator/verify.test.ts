/**
 * `--verify` on the AWS read path: the stack's DynamoDB readings table (dynalite, a real DynamoDB on
 * 127.0.0.1) read back through the readings port, with the same verdicts as locally: missing
 * readings named, duplicates counted, a large fleet checked on a seeded sample of its devices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbReadingsReader } from '../../../lambdas/adapters/aws/dynamodb-readings-reader.js';
import { READINGS_TABLE_KEYS } from '../../../lambdas/adapters/aws/dynamodb-readings-schema.js';
import { DynamoDbTimeSeriesStore } from '../../../lambdas/adapters/aws/dynamodb-time-series.js';
import type { Reading } from '../../../lambdas/domain/model.js';
import { readerSource } from '../../../simulator/verify-aws.js';
import { sampleOf, verifyStored } from '../../../simulator/verify.js';
import { startDynalite, type Dynalite } from '../../helpers/dynalite.js';

const T0 = 1_764_028_800_000;

describe('--verify against the AWS readings table', () => {
  let db: Dynalite;
  let reader: DynamoDbReadingsReader;

  beforeAll(async () => {
    db = await startDynalite();
    const tableName = await db.createTable(READINGS_TABLE_KEYS);
    const store = new DynamoDbTimeSeriesStore({ client: db.client, tableName });
    const reading = (deviceId: string, seq: number): Reading => ({ deviceId, ts: T0 + seq * 1000, seq, type: 'env-sensor', metrics: { temperature: 20 + seq }, receivedAt: T0 + seq * 1000 });
    // sim-00001 has seqs 0-4; sim-00002 lacks seq 3; an earlier run's reading (before T0) must not count.
    await store.write([0, 1, 2, 3, 4].map((seq) => reading('sim-00001', seq)));
    await store.write([0, 1, 2, 4].map((seq) => reading('sim-00002', seq)));
    await store.write([{ ...reading('sim-00002', 3), ts: T0 - 60_000 }]);
    reader = new DynamoDbReadingsReader({ client: db.client, tableName });
  }, 30_000);

  afterAll(async () => {
    await db?.stop();
  });

  const verify = (acked: Record<string, number[]>, extra: Partial<Parameters<typeof verifyStored>[0]> = {}) =>
    verifyStored({
      open: () => Promise.resolve(readerSource(reader)),
      storeName: 'the readings table',
      acked: new Map(Object.entries(acked)),
      since: T0,
      timeoutMs: 300,
      pollMs: 50,
      ...extra,
    });

  it('finds every acknowledged reading that was stored', async () => {
    const result = await verify({ 'sim-00001': [0, 1, 2, 3, 4] });

    expect(result).toMatchObject({ ok: true, checked: 5, stored: 5, missing: 0, duplicates: 0 });
  });

  it('names what is missing, not counting a reading from before the run', async () => {
    const result = await verify({ 'sim-00001': [0, 1, 2, 3, 4], 'sim-00002': [0, 1, 2, 3, 4] });

    expect(result).toMatchObject({ ok: false, checked: 10, stored: 9, missing: 1, missingExamples: [{ deviceId: 'sim-00002', seq: 3 }] });
  });

  it('checks only a sample of the devices when told, and says how many', async () => {
    const result = await verify({ 'sim-00001': [0, 1, 2, 3, 4], 'sim-00002': [0, 1, 2, 3, 4], 'sim-00003': [] }, { sampleDevices: 1, seed: 'a' });

    expect(result.sampledDevices).toBe(1);
    expect([0, 5]).toContain(result.checked);
  });

  it('gives up with a clear error when the store cannot be opened in time', async () => {
    await expect(
      verify({ 'sim-00001': [0] }, { open: () => Promise.reject(new Error('stack FleetTelemetry not found in eu-west-1')), storeName: 'the readings table of stack FleetTelemetry' }),
    ).rejects.toThrow('cannot open the readings table of stack FleetTelemetry: stack FleetTelemetry not found in eu-west-1');
  });
});

describe('--verify against a store that gives back no seq (Timestream)', () => {
  it('says the check needs the DynamoDB store instead of calling every reading missing', async () => {
    // Timestream keeps seq only as the record version: its reader returns seq null (no local Timestream to run).
    const reader = {
      deviceReadings: () => Promise.resolve([{ deviceId: 'sim-00001', ts: T0, seq: null, type: 'env-sensor', metrics: { temperature: 1 } }]),
      newestReadings: () => Promise.resolve([]),
      latestReadings: () => Promise.resolve([]),
    };
    await expect(
      verifyStored({ open: () => Promise.resolve(readerSource(reader)), storeName: 'Timestream', acked: new Map([['sim-00001', [0]]]), since: T0, timeoutMs: 100 }),
    ).rejects.toThrow(/gives back no seq .*--verify needs the DynamoDB readings store/);
  });
});

describe('sampleOf', () => {
  it('draws the same sample for the same seed, without repeats, and everything when the sample is not smaller', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `sim-${i}`);
    const a = sampleOf(ids, 10, 'seed-1');

    expect(sampleOf(ids, 10, 'seed-1')).toEqual(a);
    expect(new Set(a).size).toBe(10);
    expect(sampleOf(ids, 10, 'seed-2')).not.toEqual(a);
    expect(sampleOf(ids, 100, 'seed-1')).toEqual(ids);
    expect(sampleOf(ids, undefined, 'seed-1')).toEqual(ids);
  });
});
