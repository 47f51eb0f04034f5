/** The sizes of `npm run bench` (full) and `npm run bench -- --quick` (CI: only that it runs). */
import type { BenchProfile } from './sections/section.js';

export const PROFILES: Readonly<Record<'quick' | 'full', BenchProfile>> = {
  quick: {
    runs: 3,
    // No minimum duration: CI checks that the floods run, not their rate, and must stay fast.
    flood: { clients: 100, messagesPerClient: 30, inflight: 16, rawMinDurationMs: 0 },
    latency: { durationMs: 600, fixedRate: 1_000, halfSustained: false },
    useCases: { records: 5_000 },
    dynamodb: { records: 2_000 },
    store: { readings: 5_000, devices: 100, querySizes: [10_000, 100_000], queries: 100 },
    // Long enough that readings fall due after a slow connect storm on a loaded CI machine.
    scale: { devices: 100, rate: 2, durationS: 3, rampPerS: 2_000 },
    // 2 is the broker comparison's own runs, reused: only 1 shard costs runs here.
    shardCounts: [1, 2],
  },
  full: {
    runs: 3,
    // Raw aedes takes 100,000 messages in about a second, too short a run to be more than noise (the
    // same run's three baselines spread from 121k to 165k msg/s): it floods for at least 3 s.
    flood: { clients: 100, messagesPerClient: 1_000, inflight: 16, rawMinDurationMs: 3_000 },
    latency: { durationMs: 6_000, fixedRate: 1_000, halfSustained: true },
    useCases: { records: 100_000 },
    dynamodb: { records: 20_000 },
    store: { readings: 100_000, devices: 100, querySizes: [100_000, 1_000_000, 10_000_000], queries: 500 },
    scale: { devices: 10_000, rate: 0.1, durationS: 60, rampPerS: 500 },
    shardCounts: [1, 2, 4],
  },
};
