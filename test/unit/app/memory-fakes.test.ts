import { describe, it, expect } from 'vitest';
import {
  CapturingLog,
  CountingMetrics,
  FakeClock,
  InMemoryAlarmStateStore,
  InMemoryRejectSink,
  InMemoryTimeSeriesStore,
  RecordingNotifier,
} from '../../../lambdas/adapters/memory/index.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import type { Reading } from '../../../lambdas/domain/model.js';
import { METRIC } from '../../../lambdas/ports/observability.js';

const reading = (deviceId: string, ts: number, seq?: number, value = 1): Reading => ({
  deviceId,
  ts,
  metrics: { v: value },
  receivedAt: ts,
  ...(seq === undefined ? {} : { seq }),
});

describe('InMemoryTimeSeriesStore', () => {
  it('upserts by deviceId, ts and seq and lists readings in series order', async () => {
    const store = new InMemoryTimeSeriesStore();

    await store.write([reading('b', 1), reading('a', 2, 1), reading('a', 2), reading('a', 1)]);
    await store.write([reading('a', 2, 1, 9)]);

    expect(store.readings().map((r) => [r.deviceId, r.ts, r.seq, r.metrics.v])).toEqual([
      ['a', 1, undefined, 1],
      ['a', 2, undefined, 1],
      ['a', 2, 1, 9],
      ['b', 1, undefined, 1],
    ]);
  });

  it('throws a RetryableError on the next writes when told to, then recovers', async () => {
    const store = new InMemoryTimeSeriesStore();
    store.failNextWrites(1);

    await expect(store.write([reading('a', 1)])).rejects.toBeInstanceOf(RetryableError);
    await expect(store.write([reading('a', 1)])).resolves.toEqual({ rejected: [] });
  });

  it('refuses more readings than one write takes', async () => {
    const store = new InMemoryTimeSeriesStore({ maxReadingsPerWrite: 1 });

    await expect(store.write([reading('a', 1), reading('a', 2)])).rejects.toThrow('exceeds maxReadingsPerWrite 1');
  });
});

describe('InMemoryAlarmStateStore', () => {
  const record = (version: number, lastSeen = 0) => ({ deviceId: 'd1', version, lastSeen, state: { v: 1 }, outbox: [] });

  it('saves only on the expected version and refuses a version that is not the next one', async () => {
    const store = new InMemoryAlarmStateStore();

    expect(await store.save(record(1), undefined)).toBe(true);
    expect(await store.save(record(1), undefined)).toBe(false);
    expect(await store.save(record(2), 1)).toBe(true);
    expect(await store.save(record(2), 1)).toBe(false);
    await expect(store.save(record(5), 3)).rejects.toThrow('is not +1');
    expect(store.conflicts).toBe(2);
  });

  it('lists devices last seen strictly before a time, as fresh copies', async () => {
    const store = new InMemoryAlarmStateStore();
    store.put({ ...record(1, 10), deviceId: 'early' });
    store.put({ ...record(1, 20), deviceId: 'late' });

    const listed = await store.listSeenBefore(20);

    expect(listed.map((r) => r.deviceId)).toEqual(['early']);
    expect(await store.load('missing')).toBeUndefined();
  });
});

describe('the other fakes', () => {
  it('record, fail on demand and count', async () => {
    const sink = new InMemoryRejectSink();
    sink.failNext(1);
    const notifier = new RecordingNotifier({ failTimes: 1 });
    const clock = new FakeClock(5);
    const metrics = new CountingMetrics();
    const log = new CapturingLog();

    await expect(sink.reject([])).rejects.toBeInstanceOf(RetryableError);
    await expect(notifier.notify([])).rejects.toBeInstanceOf(RetryableError);
    await notifier.notify([]);
    clock.advance(10);
    metrics.count(METRIC.alarmsRaised);
    metrics.count(METRIC.alarmsRaised, 2, { name: 'x', value: 'y' });
    log.debug('d');
    log.warn('w', { k: 1 });

    expect([sink.calls, notifier.calls, clock.now()]).toEqual([1, 2, 15]);
    expect([metrics.total(METRIC.alarmsRaised), metrics.total(METRIC.alarmsRaised, { name: 'x', value: 'y' }), metrics.total(METRIC.alarmsCleared)]).toEqual([3, 2, 0]);
    expect(log.entries).toEqual([{ level: 'debug', message: 'd' }, { level: 'warn', message: 'w', extra: { k: 1 } }]);
  });
});
