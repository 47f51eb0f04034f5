/**
 * The fleet's counters, and the snapshots that progress lines and the summary are made of.
 */
import { LatencyHistogram } from './histogram.js';
import type { HistogramData } from './histogram.js';

/** Running counters of one fleet. */
export class FleetStats {
  /** Devices connected now. */
  connected = 0;
  /** The most connected at once. */
  maxConnected = 0;
  /** Readings produced (not counting silent periods). */
  generated = 0;
  /** Readings produced while their device was disconnected (buffered). */
  offline = 0;
  /** First publishes of readings. */
  sent = 0;
  /** Publishes of readings sent again after a reconnect (their PUBACK had not arrived). */
  resent = 0;
  /** PUBACKs received (QoS 1), each reading counted once. */
  acked = 0;
  /** Connection failures, refusals and unexpected disconnects. */
  errors = 0;
  /** Reconnections after a device had been connected. */
  reconnects = 0;
  /** Alarm events received for this fleet's devices, by state. */
  alarms = 0;
  alarmsRaised = 0;
  alarmsCleared = 0;
  /** Last error seen, for the summary. */
  lastError: string | undefined;
  /** Publish-to-PUBACK latency, whole run and since the last progress tick. */
  readonly latency = new LatencyHistogram();
  readonly recentLatency = new LatencyHistogram();
  peakRss = 0;

  recordAck(ms: number): void {
    this.acked += 1;
    this.latency.record(ms);
    this.recentLatency.record(ms);
  }

  recordError(err: unknown): void {
    this.errors += 1;
    this.lastError = err instanceof Error ? err.message : String(err);
  }

  setConnected(delta: 1 | -1): void {
    this.connected += delta;
    if (this.connected > this.maxConnected) this.maxConnected = this.connected;
  }

  sampleMemory(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.peakRss) this.peakRss = rss;
    return rss;
  }
}

/** One progress snapshot. Rates are per second over the last interval. */
export interface FleetSnapshot {
  /** Seconds since the fleet started. */
  readonly elapsedS: number;
  readonly devices: number;
  readonly connected: number;
  readonly sent: number;
  readonly acked: number;
  readonly sentPerS: number;
  readonly ackedPerS: number;
  readonly errors: number;
  readonly alarms: number;
  /** Readings waiting in outboxes (buffered) and awaiting PUBACK. */
  readonly buffered: number;
  readonly inFlight: number;
  /** Over the last interval; null when nothing was acknowledged. */
  readonly latencyMs: { readonly p50: number | null; readonly p99: number | null };
  readonly rssMiB: number;
  /** The interval's latency histogram, when asked for (`progressHistograms`: workers send it to be merged). */
  readonly recentLatency?: HistogramData;
}

/** What one progress snapshot is made of. */
export interface SnapshotInput {
  readonly stats: FleetStats;
  readonly devices: number;
  readonly elapsedS: number;
  /** Seconds since the previous snapshot, and its counters, for the rates. */
  readonly intervalS: number;
  readonly previous: { readonly sent: number; readonly acked: number };
  readonly outboxes: Iterable<{ readonly queued: number; readonly inFlightCount: number }>;
  readonly rssMiB: number;
  /** The last snapshot of a run gives the whole run's latency instead of the last interval's. */
  readonly final: boolean;
  /** Include the interval's histogram. */
  readonly withHistogram?: boolean;
}

/** One progress snapshot of a fleet's counters. */
export function snapshotOf(input: SnapshotInput): FleetSnapshot {
  const s = input.stats;
  let buffered = 0;
  let inFlight = 0;
  for (const outbox of input.outboxes) {
    buffered += outbox.queued;
    inFlight += outbox.inFlightCount;
  }
  const recent = input.final ? s.latency : s.recentLatency;
  return {
    elapsedS: input.elapsedS,
    devices: input.devices,
    connected: s.connected,
    sent: s.sent,
    acked: s.acked,
    sentPerS: (s.sent - input.previous.sent) / input.intervalS,
    ackedPerS: (s.acked - input.previous.acked) / input.intervalS,
    errors: s.errors,
    alarms: s.alarms,
    buffered,
    inFlight,
    latencyMs: { p50: recent.quantile(0.5), p99: recent.quantile(0.99) },
    rssMiB: input.rssMiB,
    ...(input.withHistogram === true && !input.final ? { recentLatency: s.recentLatency.toData() } : {}),
  };
}
