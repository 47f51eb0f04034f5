import { describe, expect, it } from 'vitest';
import { CapturingLog, CountingMetrics, FakeClock, InMemoryRejectSink } from '../../../lambdas/adapters/memory/index.js';
import { storeReadings } from '../../../lambdas/app/store-readings.js';
import { InvariantError } from '../../../lambdas/domain/errors.js';
import type { Reading } from '../../../lambdas/domain/model.js';
import type { TimeSeriesStore, WriteOutcome } from '../../../lambdas/ports/time-series-store.js';
import { BASE_TIME, makeRecord } from '../../fixtures/domain/records.js';

/** A store that answers every write with the same outcome, whatever it was given: one that breaks the port. */
function storeAnswering(outcome: WriteOutcome): TimeSeriesStore & { written: Reading[][] } {
  const written: Reading[][] = [];
  return {
    maxReadingsPerWrite: 100,
    written,
    write(readings) {
      written.push([...readings]);
      return Promise.resolve(outcome);
    },
  };
}

const twoReadings = [0, 1].map((seq) => makeRecord({ deviceId: 'd1', payload: { ts: BASE_TIME + seq, seq, metrics: { temperature: 20 } } }));

describe('storeReadings against a store that names readings it was not given to retry', () => {
  it.each([
    ['an index outside the write', { rejected: [], retry: [2] }],
    ['the same index twice', { rejected: [], retry: [1, 1] }],
    ['an index it also rejected', { rejected: [{ index: 0, reason: 'out of range' }], retry: [0] }],
  ])('fails loudly on %s rather than lose or double a record', async (_name, outcome) => {
    const store = storeAnswering(outcome);
    const rejects = new InMemoryRejectSink();

    const result = storeReadings(twoReadings, { store, rejects, clock: new FakeClock(BASE_TIME), metrics: new CountingMetrics(), log: new CapturingLog() });

    await expect(result).rejects.toBeInstanceOf(InvariantError);
    await expect(result).rejects.toThrow('-reading write to retry');
    expect(store.written).toHaveLength(1);
    expect(rejects.calls).toBe(0);
  });
});
