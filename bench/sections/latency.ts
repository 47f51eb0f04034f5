/**
 * The `latency` section: publish-to-stored and publish-to-alarm latency through the full local stack
 * at fixed offered loads (a fixed rate, and half the sustained rate the broker section measured);
 * the raw broker's publish-to-PUBACK under the same load is the baseline. Runs are interleaved.
 */
import { forkPublishers } from '../load/children.js';
import { anonymousClients } from '../load/devices.js';
import type { BenchFigure } from '../report/figure.js';
import { figure } from '../report/figure.js';
import { latencySummary, median, round } from '../report/stats.js';
import { startPipeline } from '../targets/pipeline.js';
import { startRawBroker } from '../targets/raw-broker.js';
import { floodOptions, runBrokerComparison } from './broker.js';
import type { SectionContext } from './section.js';

export interface LatencyOptions {
  readonly runs: number;
  readonly clients: number;
  readonly inflight: number;
  /** Offered loads, messages/s over all clients. */
  readonly rates: readonly { readonly label: string; readonly rate: number }[];
  readonly durationMs: number;
  readonly progress: (line: string) => void;
}

interface LatencyRun {
  readonly stored: ReturnType<typeof latencySummary>;
  readonly alarm: ReturnType<typeof latencySummary>;
  readonly ack: ReturnType<typeof latencySummary>;
}

/**
 * Readings between battery-low toggles of a device; each toggle is one transition (the rule has no
 * debounce). About four transitions per device per run, at most one reading in 40.
 */
function alarmEvery(rate: number, options: LatencyOptions): number {
  const perDevice = (rate * options.durationMs) / 1000 / options.clients;
  return Math.max(2, Math.min(40, Math.floor(perDevice / 4)));
}

async function pacedRaw(rate: number, options: LatencyOptions): Promise<ReturnType<typeof latencySummary>> {
  const broker = await startRawBroker();
  try {
    const clients = anonymousClients(options.clients);
    const publishers = await forkPublishers({
      url: `mqtt://127.0.0.1:${broker.port}`,
      clients,
      inflight: options.inflight,
      mode: { kind: 'paced', rate, durationMs: options.durationMs, alarmEvery: alarmEvery(rate, options) },
    });
    const result = await publishers.go();
    return latencySummary(result.ackLatencyMs);
  } finally {
    await broker.stop();
  }
}

async function pacedPipeline(rate: number, options: LatencyOptions): Promise<LatencyRun> {
  const target = await startPipeline({ publishers: options.clients, operator: true, sampleLatency: true });
  try {
    const publishers = await forkPublishers({
      url: `mqtt://127.0.0.1:${target.port}`,
      clients: target.credentials,
      inflight: options.inflight,
      mode: { kind: 'paced', rate, durationMs: options.durationMs, alarmEvery: alarmEvery(rate, options) },
      ...(target.operator === undefined ? {} : { operator: target.operator }),
    });
    const result = await publishers.go();
    await target.whenStored(result.acked, 60_000);
    if (result.alarmLatencyMs.length === 0) throw new Error('pipeline latency: the operator received no alarm event');
    return { stored: latencySummary(target.storedLatencyMs), alarm: latencySummary(result.alarmLatencyMs), ack: latencySummary(result.ackLatencyMs) };
  } finally {
    await target.stop();
  }
}

/** Publish-to-stored and publish-to-alarm latency at fixed offered loads; the raw broker's publish-to-PUBACK at the same load is the baseline. */
export async function runLatency(options: LatencyOptions): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  for (const { label, rate } of options.rates) {
    options.progress(`latency at ${Math.round(rate).toLocaleString('en-US')} msg/s (${label}): ${options.runs} runs of ${options.durationMs / 1000} s each`);
    const raw: ReturnType<typeof latencySummary>[] = [];
    const runs: LatencyRun[] = [];
    for (let i = 0; i < options.runs; i++) {
      raw.push(await pacedRaw(rate, options));
      runs.push(await pacedPipeline(rate, options));
      const r = runs[i] as LatencyRun;
      options.progress(
        `  run ${i + 1}: stored p50 ${round(r.stored.p50, 1)} / p99 ${round(r.stored.p99, 1)} ms, alarm p50 ${round(r.alarm.p50, 1)} / p99 ${round(r.alarm.p99, 1)} ms (${r.alarm.count} events), PUBACK p50 ${round(r.ack.p50, 1)} ms; raw aedes PUBACK p50 ${round((raw[i] as LatencyRun['ack']).p50, 1)} ms`,
      );
    }
    const at = `@${Math.round(rate)}/s`;
    const rawOf = (k: 'p50' | 'p99' | 'max') => raw.map((s) => s[k]);
    for (const k of ['p50', 'p99', 'max'] as const) {
      figures.push(
        figure(`latency-stored-${k}${at}`, 'ms', runs.map((r) => r.stored[k]), rawOf(k), {
          digits: 1,
          note: k === 'p50' ? `publish to reading committed in store.db at ${label}; baseline: raw aedes publish to PUBACK at the same load` : undefined,
        }),
      );
    }
    for (const k of ['p50', 'p99', 'max'] as const) {
      figures.push(
        figure(`latency-alarm-${k}${at}`, 'ms', runs.map((r) => r.alarm[k]), rawOf(k), {
          digits: 1,
          note: k === 'p50' ? `publish to alarm event received by a subscribed operator (${median(runs.map((r) => r.alarm.count))} events per run); baseline as above` : undefined,
        }),
      );
    }
    figures.push(
      figure(`latency-puback-p50${at}`, 'ms', runs.map((r) => r.ack.p50), rawOf('p50'), {
        digits: 1,
        note: 'publish to PUBACK through the pipeline (after the durable append) against raw aedes',
      }),
    );
  }
  return figures;
}

/** `--only latency`: measures the sustained rate first when the broker section did not run. */
export async function latencySection({ profile, shared, progress }: SectionContext): Promise<readonly BenchFigure[]> {
  const { latency } = profile;
  if (shared.sustainedPerS === undefined && latency.halfSustained) {
    progress('latency: measuring the sustained rate first (one pipeline flood per run)');
    shared.sustainedPerS = (await runBrokerComparison({ ...floodOptions(profile, progress), durabilityOff: false })).sustainedPerS;
  }
  const half = shared.sustainedPerS === undefined || !latency.halfSustained ? undefined : Math.max(100, Math.round(shared.sustainedPerS / 2));
  return runLatency({
    runs: profile.runs,
    clients: profile.flood.clients,
    inflight: profile.flood.inflight,
    rates: [
      ...(half === undefined ? [] : [{ label: 'half the sustained rate', rate: half }]),
      { label: `a fixed ${latency.fixedRate.toLocaleString('en-US')} msg/s`, rate: latency.fixedRate },
    ],
    durationMs: latency.durationMs,
    progress,
  });
}
