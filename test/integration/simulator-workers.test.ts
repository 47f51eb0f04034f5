/**
 * `--workers` against the real local stack: 2 worker processes x 2,500 devices. Every acknowledged
 * reading is stored once, and the one merged summary's figures are the sum of the workers' (the
 * PUBACK latency quantiles from their merged histograms, not averaged).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../simulator/histogram.js';
import type { WorkerResult } from '../../simulator/merge.js';
import type { FleetSummary } from '../../simulator/summary.js';
import { runWorkersDetailed } from '../../simulator/workers.js';
import { startTestStack, type TestStack } from '../helpers/local-stack.js';

describe('the simulator in 2 worker processes against the local stack', () => {
  let dataDir: string;
  let t: TestStack;
  let summary: FleetSummary & { readonly workers: number };
  let workers: readonly WorkerResult[];
  let stored: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ft-sim-workers-'));
    t = await startTestStack({ rules: [] }, { dataDir });
    ({ summary, workers } = await runWorkersDetailed(
      {
        devices: 5000,
        rate: 0.5,
        durationS: 8,
        endpoint: t.url,
        dataDir,
        profile: 'env-sensor',
        seed: 'workers-15',
        rampPerS: 1000,
        alarms: true,
        verify: true,
        verifyTimeoutS: 40,
        lingerS: 0,
        // A CI machine busy with other tests may take a while to answer 5,000 CONNECTs.
        connectTimeoutMs: 30_000,
      },
      2,
    ));
    await t.stack.whenIdle();
    stored = t.stack.store.countReadings({});
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('splits the fleet into two halves of 2,500 devices, all connected', () => {
    expect(summary.workers).toBe(2);
    expect(workers.map((w) => w.summary.devices)).toEqual([2500, 2500]);
    expect(workers.map((w) => w.summary.connected)).toEqual([2500, 2500]);
    // Slow CONNACKs on a loaded machine are retried (counted as errors), not lost: everything got through.
    expect([summary.unsent, summary.dropped]).toEqual([0, 0]);
  });

  it('stores every acknowledged reading exactly once', () => {
    expect(summary.acked).toBeGreaterThan(10_000);
    expect(summary.acked).toBe(summary.sent);
    expect(summary.verify).toMatchObject({ ok: true, missing: 0, duplicates: 0, checked: summary.acked });
    expect(stored).toBe(summary.acked - summary.resent);
  });

  it("gives one summary whose counts are the sum of the workers'", () => {
    const add = (pick: (s: FleetSummary) => number): number => workers.reduce((n, w) => n + pick(w.summary), 0);
    expect(summary).toMatchObject({
      devices: add((s) => s.devices),
      connected: add((s) => s.connected),
      generated: add((s) => s.generated),
      sent: add((s) => s.sent),
      acked: add((s) => s.acked),
      resent: add((s) => s.resent),
      dropped: add((s) => s.dropped),
      unsent: add((s) => s.unsent),
      errors: add((s) => s.errors),
      reconnects: add((s) => s.reconnects),
    });
    expect(summary.verify?.checked).toBe(add((s) => s.verify?.checked ?? 0));
  });

  it("takes PUBACK p50 and p99 from the workers' merged histograms", () => {
    const merged = new LatencyHistogram();
    for (const w of workers) merged.add(w.latency);
    const round = (n: number | null): number | null => (n === null ? null : Math.round(n * 100) / 100);

    expect(merged.count).toBe(summary.acked);
    expect(summary.latencyMs.p50).toBe(round(merged.quantile(0.5)));
    expect(summary.latencyMs.p99).toBe(round(merged.quantile(0.99)));
    // Each worker's own p99 came from its own histogram: the merge is not their mean.
    for (const w of workers) {
      const own = new LatencyHistogram();
      own.add(w.latency);
      expect(w.summary.latencyMs.p99).toBe(round(own.quantile(0.99)));
    }
  });

  it('gives every device the id and readings of one fleet: ids run on across the workers without a gap', () => {
    const devices = new Set(t.stack.store.queryReadings({ limit: 1_000_000 }).map((r) => r.deviceId));
    expect(devices.size).toBe(5000);
    expect(devices.has('sim-00001')).toBe(true);
    expect(devices.has('sim-02501')).toBe(true);
    expect(devices.has('sim-05000')).toBe(true);
  });
});
