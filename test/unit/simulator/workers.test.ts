import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../simulator/histogram.js';
import { mergeSnapshots, mergeSummaries } from '../../../simulator/merge.js';
import type { FleetSnapshot } from '../../../simulator/stats.js';
import type { FleetSummary } from '../../../simulator/summary.js';
import { shardsOf, workerCount } from '../../../simulator/workers.js';

function histogramOf(samples: readonly number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const s of samples) h.record(s);
  return h;
}

function summaryOf(over: Partial<FleetSummary>): FleetSummary {
  return {
    devices: 10, connected: 10, generated: 100, sent: 100, acked: 100, resent: 0, offline: 0, dropped: 0, unsent: 0, errors: 0,
    reconnects: 0, alarms: null, alarmsRaised: null, alarmsCleared: null, latencyMs: { p50: 1, p99: 1, max: 1 }, durationMs: 1000,
    seed: 's', qos: 1, rate: 1, target: 'local', endpoint: 'mqtt://127.0.0.1:1883', lastError: null,
    cpu: { userMs: 100, systemMs: 10, percentOfOneCore: 11 }, memory: { rssMiB: 100, peakRssMiB: 120, heapUsedMiB: 50 },
    ...over,
  };
}

describe('LatencyHistogram as data between processes', () => {
  it('gives back the same quantiles after toData and add', () => {
    const original = histogramOf([0.5, 1, 2, 3, 250, 1000]);
    const copy = new LatencyHistogram();
    copy.add(original.toData());

    expect(copy.count).toBe(6);
    expect([copy.quantile(0.5), copy.quantile(0.99), copy.max()]).toEqual([original.quantile(0.5), original.quantile(0.99), original.max()]);
  });

  it('refuses a bucket that is not one', () => {
    expect(() => new LatencyHistogram().add({ buckets: [[-1, 3]], maxMs: 1 })).toThrow(/not a histogram bucket/);
  });
});

describe('mergeSummaries', () => {
  it("adds the workers' counts and takes p99 from their merged histograms, not the mean of their p99s", () => {
    // One fast worker (99 samples of 1 ms) and one slow one (1 sample of 500 ms): over all 100 samples
    // the p99 is 1 ms; the mean of the two p99s would be about 250 ms.
    const fast = histogramOf(Array.from({ length: 99 }, () => 1));
    const slow = histogramOf([500]);
    const merged = mergeSummaries([
      { summary: summaryOf({ acked: 99, sent: 99, latencyMs: { p50: 1, p99: 1, max: 1 } }), latency: fast.toData() },
      { summary: summaryOf({ acked: 1, sent: 1, errors: 2, lastError: 'boom', latencyMs: { p50: 500, p99: 500, max: 500 } }), latency: slow.toData() },
    ]);

    expect(merged).toMatchObject({ workers: 2, devices: 20, connected: 20, acked: 100, sent: 100, errors: 2, lastError: 'boom' });
    expect(merged.latencyMs.p99).toBeLessThan(1.03);
    expect(merged.latencyMs.max).toBe(500);
    expect(merged.cpu).toEqual({ userMs: 200, systemMs: 20, percentOfOneCore: 22 });
    expect(merged.memory.rssMiB).toBe(200);
  });

  it('keeps the alarm counts of the worker that counted them, and null when none did', () => {
    const h = histogramOf([1]).toData();
    const counted = mergeSummaries([
      { summary: summaryOf({ alarms: 3, alarmsRaised: 2, alarmsCleared: 1 }), latency: h },
      { summary: summaryOf({}), latency: h },
    ]);
    const none = mergeSummaries([{ summary: summaryOf({}), latency: h }]);

    expect([counted.alarms, counted.alarmsRaised, counted.alarmsCleared]).toEqual([3, 2, 1]);
    expect(none.alarms).toBeNull();
  });

  it('fails the merged verification when any worker found readings missing', () => {
    const h = histogramOf([1]).toData();
    const verify = (missing: number) => ({ checked: 10, stored: 10 - missing, missing, duplicates: 0, missingExamples: missing ? [{ deviceId: 'sim-00002', seq: 4 }] : [], ok: missing === 0, waitedMs: 100 * (missing + 1) });
    const merged = mergeSummaries([
      { summary: summaryOf({ verify: verify(0) }), latency: h },
      { summary: summaryOf({ verify: verify(1) }), latency: h },
    ]);

    expect(merged.verify).toEqual({ checked: 20, stored: 19, missing: 1, duplicates: 0, missingExamples: [{ deviceId: 'sim-00002', seq: 4 }], ok: false, waitedMs: 200 });
  });
});

describe('mergeSnapshots', () => {
  it("adds the workers' live figures and merges their interval histograms", () => {
    const snapshot = (over: Partial<FleetSnapshot>): FleetSnapshot => ({
      elapsedS: 5, devices: 10, connected: 10, sent: 50, acked: 50, sentPerS: 10, ackedPerS: 10, errors: 0, alarms: 0, buffered: 0,
      inFlight: 1, latencyMs: { p50: 1, p99: 1 }, rssMiB: 100, ...over,
    });
    const merged = mergeSnapshots([
      snapshot({ recentLatency: histogramOf([1, 1, 1]).toData() }),
      snapshot({ elapsedS: 6, connected: 7, recentLatency: histogramOf([400]).toData() }),
    ]);

    expect(merged).toMatchObject({ elapsedS: 6, devices: 20, connected: 17, sentPerS: 20, inFlight: 2, rssMiB: 200 });
    expect(merged.latencyMs.p99).toBe(400);
  });
});

describe('workerCount and shardsOf', () => {
  it('picks enough workers with auto to keep each under the open-file limit', () => {
    expect(workerCount('auto', 100_000, 20_000)).toBe(10);
    expect(workerCount('auto', 30_000, 4_096)).toBe(8);
    expect(workerCount('auto', 500, undefined)).toBe(1);
  });

  it('refuses more workers than devices', () => {
    expect(() => workerCount(3, 2, 20_000)).toThrow('--workers: 3 workers for 2 devices');
  });

  it('splits a fleet into contiguous shards that cover it once', () => {
    expect(shardsOf(10, 3)).toEqual([{ first: 0, count: 4 }, { first: 4, count: 3 }, { first: 7, count: 3 }]);
    expect(shardsOf(5000, 2)).toEqual([{ first: 0, count: 2500 }, { first: 2500, count: 2500 }]);
  });
});
