/**
 * One fleet's figures from its workers' (`--workers`): counts are added, PUBACK latency quantiles
 * come from the workers' merged histograms (never averaged: the p99 of two processes is not the mean
 * of their p99s), the memory and CPU are the workers' together.
 */
import { LatencyHistogram } from './histogram.js';
import type { HistogramData } from './histogram.js';
import type { FleetSnapshot } from './stats.js';
import type { FleetSummary } from './summary.js';
import type { VerifyResult } from './verify.js';

/** One worker's result: its summary and its whole-run latency histogram. */
export interface WorkerResult {
  readonly summary: FleetSummary;
  readonly latency: HistogramData;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const roundMs = (n: number | null): number | null => (n === null ? null : Math.round(n * 100) / 100);
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** Adds nullable counts: null only when every worker's is null (none counted alarms). */
function sumNullable(values: readonly (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : sum(present);
}

function mergeVerify(results: readonly VerifyResult[]): VerifyResult {
  const missing = sum(results.map((v) => v.missing));
  return {
    checked: sum(results.map((v) => v.checked)),
    stored: sum(results.map((v) => v.stored)),
    missing,
    duplicates: sum(results.map((v) => v.duplicates)),
    missingExamples: results.flatMap((v) => v.missingExamples).slice(0, 10),
    ok: results.every((v) => v.ok),
    waitedMs: Math.max(...results.map((v) => v.waitedMs)),
  };
}

/**
 * The fleet's summary from its workers'. `connected` is the sum of each worker's most connected at
 * once (they hold their connections over the same period); `durationMs` the longest worker's.
 */
export function mergeSummaries(workers: readonly WorkerResult[]): FleetSummary & { readonly workers: number } {
  const first = workers[0];
  if (first === undefined) throw new RangeError('no worker results to merge');
  const s = workers.map((w) => w.summary);
  const latency = new LatencyHistogram();
  for (const w of workers) latency.add(w.latency);
  const add = (pick: (x: FleetSummary) => number): number => sum(s.map(pick));
  const verifies = s.map((x) => x.verify).filter((v): v is VerifyResult => v !== undefined);
  return {
    devices: add((x) => x.devices),
    connected: add((x) => x.connected),
    generated: add((x) => x.generated),
    sent: add((x) => x.sent),
    acked: add((x) => x.acked),
    resent: add((x) => x.resent),
    offline: add((x) => x.offline),
    dropped: add((x) => x.dropped),
    unsent: add((x) => x.unsent),
    errors: add((x) => x.errors),
    reconnects: add((x) => x.reconnects),
    alarms: sumNullable(s.map((x) => x.alarms)),
    alarmsRaised: sumNullable(s.map((x) => x.alarmsRaised)),
    alarmsCleared: sumNullable(s.map((x) => x.alarmsCleared)),
    latencyMs: { p50: roundMs(latency.quantile(0.5)), p99: roundMs(latency.quantile(0.99)), max: roundMs(latency.max()) },
    durationMs: Math.max(...s.map((x) => x.durationMs)),
    seed: first.summary.seed,
    qos: first.summary.qos,
    rate: first.summary.rate,
    target: first.summary.target,
    endpoint: first.summary.endpoint,
    lastError: s.find((x) => x.lastError !== null)?.lastError ?? null,
    cpu: {
      userMs: add((x) => x.cpu.userMs),
      systemMs: add((x) => x.cpu.systemMs),
      percentOfOneCore: round1(add((x) => x.cpu.percentOfOneCore)),
    },
    memory: {
      rssMiB: round1(add((x) => x.memory.rssMiB)),
      peakRssMiB: round1(add((x) => x.memory.peakRssMiB)),
      heapUsedMiB: round1(add((x) => x.memory.heapUsedMiB)),
    },
    ...(verifies.length === 0 ? {} : { verify: mergeVerify(verifies) }),
    workers: workers.length,
  };
}

/**
 * One progress snapshot of the fleet from each worker's latest. Rates and counts are added; the
 * interval's p50/p99 come from the merged histograms the workers sent with their snapshots.
 */
export function mergeSnapshots(snapshots: readonly FleetSnapshot[]): FleetSnapshot {
  const latency = new LatencyHistogram();
  for (const s of snapshots) if (s.recentLatency !== undefined) latency.add(s.recentLatency);
  const add = (pick: (x: FleetSnapshot) => number): number => sum(snapshots.map(pick));
  return {
    elapsedS: Math.max(0, ...snapshots.map((s) => s.elapsedS)),
    devices: add((s) => s.devices),
    connected: add((s) => s.connected),
    sent: add((s) => s.sent),
    acked: add((s) => s.acked),
    sentPerS: add((s) => s.sentPerS),
    ackedPerS: add((s) => s.ackedPerS),
    errors: add((s) => s.errors),
    alarms: add((s) => s.alarms),
    buffered: add((s) => s.buffered),
    inFlight: add((s) => s.inFlight),
    latencyMs: { p50: latency.quantile(0.5), p99: latency.quantile(0.99) },
    rssMiB: add((s) => s.rssMiB),
  };
}
