import { describe, it, expect } from 'vitest';
import { storeReadings } from '../../../lambdas/app/store-readings.js';
import type { StoreReadingsDeps } from '../../../lambdas/app/store-readings.js';
import {
  CapturingLog,
  CountingMetrics,
  FakeClock,
  InMemoryRejectSink,
  InMemoryTimeSeriesStore,
} from '../../../lambdas/adapters/memory/index.js';
import type { StreamRecord } from '../../../lambdas/domain/model.js';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { BASE_TIME, makeRawRecord, makeRecord } from '../../fixtures/domain/records.js';

const NOW = BASE_TIME + 60_000;

function setup(options: { maxReadingsPerWrite?: number } = {}) {
  const store = new InMemoryTimeSeriesStore(options);
  const rejects = new InMemoryRejectSink();
  const metrics = new CountingMetrics();
  const log = new CapturingLog();
  const deps: StoreReadingsDeps = { store, rejects, clock: new FakeClock(NOW), metrics, log };
  return { store, rejects, metrics, log, deps };
}

function validRecords(count: number, deviceId = 'd1'): StreamRecord[] {
  return Array.from({ length: count }, (_, i) => makeRecord({ deviceId, payload: { ts: BASE_TIME - count + i, seq: i, metrics: { temperature: 20 + (i % 10) } } }));
}

describe('storeReadings', () => {
  it('stores every valid reading and reports nothing to retry', async () => {
    const { store, rejects, metrics, deps } = setup();

    const outcome = await storeReadings(validRecords(3), deps);

    expect(outcome.failed).toEqual([]);
    expect(store.readings().map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(rejects.calls).toBe(0);
    expect(metrics.total(METRIC.readingsStored)).toBe(3);
    expect(metrics.total(METRIC.recordsRetried)).toBe(0);
  });

  it('keeps a poison record from the middle of a batch with its reason and original payload, stores the rest and does not fail it', async () => {
    const { store, rejects, metrics, deps } = setup();
    const [first, last] = validRecords(2);
    const poison = makeRecord({ deviceId: 'd1', payload: { metrics: { temperature: '22.4' } } });

    const outcome = await storeReadings([first as StreamRecord, poison, last as StreamRecord], deps);

    expect(outcome.failed).toEqual([]);
    expect(store.size).toBe(2);
    expect(rejects.messages).toEqual([
      {
        reason: 'metrics.temperature: not a finite number',
        stage: 'decode',
        deviceId: 'd1',
        topic: 'dt/fleet/d1/telemetry',
        payload: Buffer.from('{"metrics":{"temperature":"22.4"}}').toString('base64'),
        record: poison.ref,
        rejectedAt: NOW,
      },
    ]);
    expect(metrics.total(METRIC.readingsRejected, { name: 'field', value: 'metrics' })).toBe(1);
  });

  it('keeps an unreadable envelope with the raw record data', async () => {
    const { rejects, deps } = setup();
    const broken = makeRawRecord('not an envelope');

    await storeReadings([broken], deps);

    expect(rejects.messages).toEqual([{ reason: 'envelope: not valid JSON', stage: 'decode', payload: Buffer.from('not an envelope').toString('base64'), record: broken.ref, rejectedAt: NOW }]);
  });

  it('sends all the rejects of a batch in one call and counts them by field', async () => {
    const { rejects, metrics, deps } = setup();
    const records = [
      makeRecord({ deviceId: 'd1', payload: { metrics: { a: 'x' } } }),
      makeRecord({ deviceId: 'd1', payload: { metrics: {}, ts: 1 } }),
      makeRecord({ deviceId: 'd1', payload: { metrics: { a: 1 }, ts: 1.5 } }),
      makeRecord({ deviceId: 'd1', payload: 'nope' }),
    ];

    await storeReadings(records, deps);

    expect(rejects.calls).toBe(1);
    expect(rejects.messages.map((m) => m.reason)).toEqual([
      'metrics.a: not a finite number',
      'metrics: empty (1 to 100 entries required)',
      'ts: not a non-negative integer of epoch milliseconds',
      'payload: not valid JSON',
    ]);
    expect(metrics.total(METRIC.readingsRejected, { name: 'field', value: 'metrics' })).toBe(2);
    expect(metrics.total(METRIC.readingsRejected, { name: 'field', value: 'ts' })).toBe(1);
    expect(metrics.total(METRIC.readingsRejected, { name: 'field', value: 'payload' })).toBe(1);
  });

  it('keeps the readings the store refuses, with the store reason, and stores the others', async () => {
    const { store, rejects, metrics, deps } = setup();
    store.rejectWhen((r) => r.seq === 1 || r.seq === 3, 'The record timestamp is outside the time range of the data ingestion window.');
    const records = validRecords(5);

    const outcome = await storeReadings(records, deps);

    expect(outcome.failed).toEqual([]);
    expect(store.readings().map((r) => r.seq)).toEqual([0, 2, 4]);
    expect(rejects.messages).toEqual(
      [1, 3].map((i) => ({
        reason: 'The record timestamp is outside the time range of the data ingestion window.',
        stage: 'store',
        deviceId: 'd1',
        topic: 'dt/fleet/d1/telemetry',
        payload: Buffer.from(JSON.stringify({ ts: BASE_TIME - 5 + i, seq: i, metrics: { temperature: 20 + i } })).toString('base64'),
        record: records[i]?.ref,
        rejectedAt: NOW,
      })),
    );
    expect(metrics.total(METRIC.readingsStored)).toBe(3);
    expect(metrics.total(METRIC.readingsRejected, { name: 'field', value: 'store' })).toBe(2);
  });

  it('writes in chunks of the store maximum', async () => {
    const { store, deps } = setup({ maxReadingsPerWrite: 100 });

    await storeReadings(validRecords(250), deps);

    expect(store.writeSizes).toEqual([100, 100, 50]);
    expect(store.size).toBe(250);
  });

  it('fails exactly the records of a throttled chunk, in stream order, and stores the other chunks', async () => {
    const { store, metrics, deps } = setup({ maxReadingsPerWrite: 100 });
    store.failNextWrites(1);
    const poison = makeRecord({ deviceId: 'd1', payload: '{}' });
    const records = validRecords(250);
    records.splice(50, 0, poison);

    const outcome = await storeReadings(records, deps);

    const firstChunk = records.slice(0, 101).filter((r) => r !== poison);
    expect(outcome.failed).toEqual(firstChunk.map((r) => r.ref));
    expect(store.size).toBe(150);
    expect(metrics.total(METRIC.recordsRetried)).toBe(100);
    expect(metrics.total(METRIC.readingsStored)).toBe(150);
  });

  it('fails the whole invocation on an error a retry of the records cannot fix', async () => {
    const { store, deps } = setup({ maxReadingsPerWrite: 10 });
    store.failNextWrites(1, { error: new Error('AccessDeniedException') });

    await expect(storeReadings(validRecords(30), deps)).rejects.toThrow('AccessDeniedException');
  });

  it('fails the poison records when the reject sink cannot keep them, so no reject is lost', async () => {
    const { store, rejects, metrics, log, deps } = setup();
    rejects.failNext(1);
    const poison = makeRecord({ deviceId: 'd1', payload: { metrics: { a: null } } });
    const refused = makeRecord({ deviceId: 'd2', payload: { metrics: { a: 1 } } });
    store.rejectWhen((r) => r.deviceId === 'd2', 'Measure value too large');

    const outcome = await storeReadings([...validRecords(2), poison, refused], deps);

    expect(outcome.failed).toEqual([poison.ref, refused.ref]);
    expect(store.size).toBe(2);
    expect(metrics.total(METRIC.readingsRejected)).toBe(0);
    expect(metrics.total(METRIC.recordsRetried)).toBe(2);
    expect(log.at('error').map((e) => e.message)).toEqual(['reject sink failed, the rejected records will be retried']);
  });

  it('stores a replayed batch once (idempotent upsert)', async () => {
    const { store, deps } = setup();
    const records = validRecords(5);

    await storeReadings(records, deps);
    await storeReadings(records, deps);

    expect(store.size).toBe(5);
  });

  it('without a store (timeSeriesStore=none) still keeps the malformed records with their reasons, and counts nothing as stored', async () => {
    const { rejects, metrics, deps } = setup();
    const [first, last] = validRecords(2);
    const poison = makeRecord({ deviceId: 'd1', payload: { metrics: { temperature: '22.4' } } });

    const outcome = await storeReadings([first as StreamRecord, poison, last as StreamRecord], { ...deps, store: undefined });

    expect(outcome.failed).toEqual([]);
    expect(rejects.messages).toEqual([
      expect.objectContaining({ reason: 'metrics.temperature: not a finite number', stage: 'decode', deviceId: 'd1', record: poison.ref }),
    ]);
    expect(metrics.total(METRIC.readingsStored)).toBe(0);
    expect(metrics.total(METRIC.recordsRetried)).toBe(0);
  });

  it('without a store, fails the malformed records when the reject sink cannot keep them, so they are not lost', async () => {
    const { rejects, deps } = setup();
    rejects.failNext(1);
    const poison = makeRecord({ deviceId: 'd1', payload: { metrics: { temperature: '22.4' } } });

    const outcome = await storeReadings([...validRecords(1), poison], { ...deps, store: undefined });

    expect(outcome.failed).toEqual([poison.ref]);
  });

  it('does nothing for an empty batch', async () => {
    const { store, rejects, deps } = setup();

    expect(await storeReadings([], deps)).toEqual({ failed: [] });
    expect(store.writeSizes).toEqual([]);
    expect(rejects.calls).toBe(0);
  });

  it('fails the invocation when the store names a reading it was not given', async () => {
    const { deps } = setup();
    const lying = { maxReadingsPerWrite: 100, write: async () => ({ rejected: [{ index: 5, reason: 'x' }] }) };

    await expect(storeReadings(validRecords(2), { ...deps, store: lying })).rejects.toThrow('store rejected index 5 of a 2-reading write');
  });
});
