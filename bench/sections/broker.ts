/**
 * The `broker` and `durability` sections: raw aedes against the full local stack under the same
 * publishers in the same run, and the price of the durable append (the stack with the stream not
 * flushed).
 *
 * Runs are interleaved (broker, pipeline, broker, pipeline...) so a slow moment of a shared machine
 * hits both sides alike, and every run starts a fresh target and a fresh publisher process.
 */
import type { BenchFigure } from '../report/figure.js';
import { figure } from '../report/figure.js';
import { median, round, spread } from '../report/stats.js';
import type { FloodOptions, FloodRun } from './floods.js';
import { describeRun, floodPipeline, floodRawBroker } from './floods.js';
import type { BenchProfile, SectionContext } from './section.js';

export interface BrokerComparison {
  readonly figures: BenchFigure[];
  /** Median stored rate of the pipeline (durability full), for the latency section's offered load. */
  readonly sustainedPerS: number;
  /** The pipeline's runs (durability full, the pipeline's own shard count), for the shards section. */
  readonly pipelineRuns: readonly FloodRun[];
}

/** The flood every flood section runs, at the profile's sizes. */
export function floodOptions(profile: BenchProfile, progress: (line: string) => void): FloodOptions {
  return { runs: profile.runs, ...profile.flood, progress };
}

interface ComparisonRuns {
  readonly raw: FloodRun[];
  readonly full: FloodRun[];
  readonly off: FloodRun[];
}

async function interleavedRuns(options: FloodOptions & { readonly durabilityOff: boolean }): Promise<ComparisonRuns> {
  const runs: ComparisonRuns = { raw: [], full: [], off: [] };
  for (let i = 1; i <= options.runs; i++) {
    const raw = await floodRawBroker(options);
    runs.raw.push(raw);
    options.progress(`  run ${i} ${describeRun('raw aedes', raw)}`);
    const full = await floodPipeline({ ...options, durability: 'full' });
    runs.full.push(full);
    options.progress(`  run ${i} ${describeRun('pipeline (durability full)', full)}`);
    if (options.durabilityOff) {
      const off = await floodPipeline({ ...options, durability: 'off' });
      runs.off.push(off);
      options.progress(`  run ${i} ${describeRun('pipeline (durability off)', off)}`);
    }
  }
  return runs;
}

/** Median CPU µs per message by thread, when measured (Linux). */
function threadDetail(runs: readonly FloodRun[]): Record<string, number> {
  const measured = runs.flatMap((r) => (r.threadUsPerMessage === undefined ? [] : [r.threadUsPerMessage]));
  if (measured.length === 0) return {};
  const med = (pick: (t: NonNullable<FloodRun['threadUsPerMessage']>) => number) => round(median(measured.map(pick)), 1);
  return { mainThreadUsPerMsg: med((t) => t.main), consumersThreadUsPerMsg: med((t) => t.consumers), otherThreadsUsPerMsg: med((t) => t.other) };
}

function comparisonFigures({ raw, full, off }: ComparisonRuns, messagesPerRun: number): BenchFigure[] {
  const rawRates = raw.map((r) => r.ackedPerS);
  const cpu = (runs: FloodRun[]) => round(median(runs.map((r) => r.targetCpuPct)));
  const pubCpu = (runs: FloodRun[]) => round(median(runs.map((r) => r.publisherCpuPct)));
  const stored = (runs: FloodRun[]) => runs.map((r) => r.storedPerS as number);
  const figures: BenchFigure[] = [
    figure('broker-baseline', 'msg/s', rawRates, null, {
      note: `raw aedes, in-process publish tap: QoS 1 publishes acknowledged/s (at least ${messagesPerRun} messages per run, each run at least ${round(Math.min(...raw.map((r) => r.seconds)), 1)} s)`,
      detail: { brokerCpuPct: cpu(raw), publisherCpuPct: pubCpu(raw), medianSeconds: round(median(raw.map((r) => r.seconds)), 1) },
    }),
    figure('pipeline-vs-broker', 'msg/s', stored(full), rawRates, {
      note: 'full local stack (durability full): first publish to last reading committed in store.db (rows counted), against raw aedes acknowledged',
      detail: { stackCpuPct: cpu(full), publisherCpuPct: pubCpu(full), rssMiB: round(median(full.map((r) => r.rssMiB))), ...threadDetail(full) },
    }),
    figure('pipeline-acked-vs-broker', 'msg/s', full.map((r) => r.ackedPerS), rawRates, {
      note: 'full local stack: QoS 1 publishes acknowledged/s (each PUBACK after the durable append), against raw aedes',
    }),
  ];
  if (off.length > 0) {
    figures.push(
      figure('durability-price', 'msg/s', stored(full), stored(off), {
        note: "pipeline stored/s with the stream group-committed and fsynced (durability 'full'; store.db also fsynced before alarm events leave) against not flushed ('off'); consumer positions kept in store.db in both",
        detail: { acknowledgedFullPerS: round(median(full.map((r) => r.ackedPerS))), acknowledgedOffPerS: round(median(off.map((r) => r.ackedPerS))) },
      }),
    );
  }
  return figures;
}

/** Raw aedes against the pipeline, interleaved; with `durabilityOff`, also the pipeline with the stream not flushed. */
export async function runBrokerComparison(options: FloodOptions & { readonly durabilityOff: boolean }): Promise<BrokerComparison> {
  options.progress(
    `broker vs pipeline: ${options.runs} runs each, ${options.clients} QoS 1 publishers x ${options.messagesPerClient} messages, ${options.inflight} in flight each` +
      (options.rawMinDurationMs > 0 ? `; each raw aedes flood lasts at least ${options.rawMinDurationMs / 1000} s` : ''),
  );
  const runs = await interleavedRuns(options);
  const rawRates = runs.raw.map((r) => r.ackedPerS);
  options.progress(
    `  raw aedes: median ${Math.round(median(rawRates)).toLocaleString('en-US')} msg/s, runs ${Math.round(Math.min(...rawRates)).toLocaleString('en-US')} to ${Math.round(Math.max(...rawRates)).toLocaleString('en-US')} (spread ${(spread(rawRates) * 100).toFixed(1)}%)`,
  );
  const full = runs.full.map((r) => r.storedPerS as number);
  return { figures: comparisonFigures(runs, options.clients * options.messagesPerClient), sustainedPerS: median(full), pipelineRuns: runs.full };
}

/** `--only broker` and `--only durability`: one comparison serves both. */
export async function brokerSection({ profile, chosen, shared, progress }: SectionContext): Promise<readonly BenchFigure[]> {
  const comparison = await runBrokerComparison({ ...floodOptions(profile, progress), durabilityOff: chosen.has('durability') });
  shared.sustainedPerS = comparison.sustainedPerS;
  shared.pipelineRuns = comparison.pipelineRuns;
  return comparison.figures.filter((f) => (f.name === 'durability-price' ? chosen.has('durability') : chosen.has('broker')));
}
