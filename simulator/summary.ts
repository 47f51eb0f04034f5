/**
 * The summary of one run: what `runFleet` returns, `--json` prints, and the workers' coordinator
 * adds up.
 */
import type { ResolvedFleetOptions } from './options.js';
import type { FleetStats } from './stats.js';
import type { VerifyResult } from './verify.js';

/** What a run did. `connected` is the most devices connected at once. */
export interface FleetSummary {
  readonly devices: number;
  readonly connected: number;
  /** Readings produced (silent periods excluded). */
  readonly generated: number;
  /** Readings published (first sends). */
  readonly sent: number;
  /** Readings acknowledged with PUBACK (QoS 1; 0 under QoS 0, where nothing is acknowledged). */
  readonly acked: number;
  /** Readings published again after a reconnect because their PUBACK had not come. */
  readonly resent: number;
  /** Readings produced while their device was disconnected (buffered, then sent). */
  readonly offline: number;
  /** Readings dropped because a device's buffer was full. */
  readonly dropped: number;
  /** Readings never sent: still buffered or in flight when the drain timeout ran out. */
  readonly unsent: number;
  readonly errors: number;
  readonly reconnects: number;
  /** Alarm events received for this fleet's devices (raised + cleared); null when not subscribed. */
  readonly alarms: number | null;
  readonly alarmsRaised: number | null;
  readonly alarmsCleared: number | null;
  /** Publish-to-PUBACK latency over the run; nulls when nothing was acknowledged. */
  readonly latencyMs: { readonly p50: number | null; readonly p99: number | null; readonly max: number | null };
  readonly durationMs: number;
  readonly seed: string;
  readonly qos: 0 | 1;
  readonly rate: number;
  readonly target: 'local' | 'aws';
  readonly endpoint: string;
  readonly lastError: string | null;
  /** The simulator's own CPU time and memory. `percentOfOneCore` is CPU time over wall time. */
  readonly cpu: { readonly userMs: number; readonly systemMs: number; readonly percentOfOneCore: number };
  readonly memory: { readonly rssMiB: number; readonly peakRssMiB: number; readonly heapUsedMiB: number };
  /** With `--workers`: how many processes ran the fleet (the figures are theirs together). */
  readonly workers?: number;
  /** With `verify`: what the local store holds of the acknowledged readings. */
  readonly verify?: VerifyResult;
}

const MiB = 1024 * 1024;

/** What the summary is made of, at the end of a run. */
export interface SummaryInput {
  readonly options: Pick<ResolvedFleetOptions, 'devices' | 'seed' | 'qos' | 'rate' | 'target'>;
  /** The endpoint as a URL. */
  readonly endpoint: string;
  readonly stats: FleetStats;
  /** Every device's outbox: what is left in them is unsent, what they dropped is dropped. */
  readonly outboxes: Iterable<{ readonly dropped: number; readonly queued: number; readonly inFlightCount: number }>;
  /** Whether an operator counted alarms (otherwise the alarm counts are null). */
  readonly subscribed: boolean;
  readonly durationMs: number;
  readonly cpu: NodeJS.CpuUsage;
  readonly verify: VerifyResult | undefined;
}

/** Builds the summary from the run's counters. */
export function buildSummary(input: SummaryInput): FleetSummary {
  const s = input.stats;
  const memory = process.memoryUsage();
  s.sampleMemory();
  let dropped = 0;
  let unsent = 0;
  for (const outbox of input.outboxes) {
    dropped += outbox.dropped;
    unsent += outbox.queued + outbox.inFlightCount;
  }
  const { subscribed, durationMs, cpu, verify } = input;
  const round1 = (n: number): number => Math.round(n * 10) / 10;
  const roundMs = (n: number | null): number | null => (n === null ? null : Math.round(n * 100) / 100);
  return {
    devices: input.options.devices,
    connected: s.maxConnected,
    generated: s.generated,
    sent: s.sent,
    acked: s.acked,
    resent: s.resent,
    offline: s.offline,
    dropped,
    unsent,
    errors: s.errors,
    reconnects: s.reconnects,
    alarms: subscribed ? s.alarms : null,
    alarmsRaised: subscribed ? s.alarmsRaised : null,
    alarmsCleared: subscribed ? s.alarmsCleared : null,
    latencyMs: { p50: roundMs(s.latency.quantile(0.5)), p99: roundMs(s.latency.quantile(0.99)), max: roundMs(s.latency.max()) },
    durationMs: Math.round(durationMs),
    seed: input.options.seed,
    qos: input.options.qos,
    rate: input.options.rate,
    target: input.options.target,
    endpoint: input.endpoint,
    lastError: s.lastError ?? null,
    cpu: {
      userMs: Math.round(cpu.user / 1000),
      systemMs: Math.round(cpu.system / 1000),
      percentOfOneCore: round1(((cpu.user + cpu.system) / 1000 / Math.max(1, durationMs)) * 100),
    },
    memory: { rssMiB: round1(memory.rss / MiB), peakRssMiB: round1(s.peakRss / MiB), heapUsedMiB: round1(memory.heapUsed / MiB) },
    ...(verify === undefined ? {} : { verify }),
  };
}
