/**
 * Parts 1, 2 and 6 of `npm run bench`: the raw broker against the pipeline with the same publishers
 * in the same run, latency at a fixed offered load, and the price of the durable append.
 *
 * Runs are interleaved (broker, pipeline, broker, pipeline...) so a slow moment of a shared machine
 * hits both sides alike, and every run starts a fresh target and a fresh publisher process.
 */
import { performance } from 'node:perf_hooks';
import { forkPublishers } from './children.js';
import type { PublisherConfig, PublisherCredentials, PublisherResult } from './publisher.js';
import type { BenchFigure } from './stats.js';
import { figure, latencySummary, median, round } from './stats.js';
import { startRawBroker } from './raw-broker.js';
import { startPipeline } from './targets.js';
import { startThreadCpuMeter } from './thread-cpu.js';

export interface FloodOptions {
  readonly runs: number;
  /** Publisher connections. */
  readonly clients: number;
  /** Messages each connection sends. */
  readonly messagesPerClient: number;
  /** QoS 1 publishes outstanding per connection. */
  readonly inflight: number;
  /** Also run the pipeline with the stream not flushed (durability 'off'), for part 6. */
  readonly durabilityOff: boolean;
  readonly progress: (line: string) => void;
}

/** One flood run's figures. */
export interface FloodRun {
  readonly ackedPerS: number;
  /** Pipeline only: every reading committed in store.db. */
  readonly storedPerS: number | undefined;
  /** CPU of the process under test (this one) from the first publish to the end, % of one core. */
  readonly targetCpuPct: number;
  /** CPU of the publishers' process over their publishing, % of one core. */
  readonly publisherCpuPct: number;
  readonly rssMiB: number;
  /** Pipeline only, on Linux: CPU µs per message of the main thread, the consumers' worker, and the other threads. */
  readonly threadUsPerMessage?: { readonly main: number; readonly consumers: number; readonly other: number };
}

const MiB = 1024 * 1024;

async function flood(url: string, clients: readonly PublisherCredentials[], options: FloodOptions): Promise<{ result: PublisherResult; cpuStart: NodeJS.CpuUsage; perfStart: number }> {
  const config: PublisherConfig = { url, clients, inflight: options.inflight, mode: { kind: 'flood', messagesPerClient: options.messagesPerClient } };
  const publishers = await forkPublishers(config);
  const cpuStart = process.cpuUsage();
  const perfStart = performance.now();
  const result = await publishers.go();
  const total = options.clients * options.messagesPerClient;
  if (result.acked !== total) throw new Error(`publishers: ${result.acked} of ${total} acknowledged; ${result.errors.join('; ')}`);
  return { result, cpuStart, perfStart };
}

function cpuPct(start: NodeJS.CpuUsage, perfStart: number): number {
  const used = process.cpuUsage(start);
  return ((used.user + used.system) / 1000 / (performance.now() - perfStart)) * 100;
}

/** One flood against raw aedes. */
export async function floodRawBroker(options: FloodOptions): Promise<FloodRun> {
  const broker = await startRawBroker();
  try {
    const clients = Array.from({ length: options.clients }, (_, i) => ({ clientId: `bench-${String(i).padStart(5, '0')}`, password: 'unused' }));
    const { result, cpuStart, perfStart } = await flood(`mqtt://127.0.0.1:${broker.port}`, clients, options);
    const targetCpuPct = cpuPct(cpuStart, perfStart);
    const seconds = (result.lastAckAt - result.firstPublishAt) / 1000;
    if (broker.received() !== result.acked) throw new Error(`raw broker: tap saw ${broker.received()} publishes, ${result.acked} acknowledged`);
    return {
      ackedPerS: result.acked / seconds,
      storedPerS: undefined,
      targetCpuPct,
      publisherCpuPct: (result.cpuMs / (seconds * 1000)) * 100,
      rssMiB: process.memoryUsage.rss() / MiB,
    };
  } finally {
    await broker.stop();
  }
}

/** One flood against the full local stack; waits until every reading is committed in store.db and counts the rows. */
export async function floodPipeline(options: FloodOptions & { readonly durability: 'full' | 'off'; readonly shards?: number }): Promise<FloodRun> {
  const target = await startPipeline({ publishers: options.clients, durability: options.durability, ...(options.shards === undefined ? {} : { shards: options.shards }) });
  try {
    const total = options.clients * options.messagesPerClient;
    const stored = target.whenStored(total, 300_000);
    const threads = startThreadCpuMeter();
    const { result, cpuStart, perfStart } = await flood(`mqtt://127.0.0.1:${target.port}`, target.credentials, options);
    const storedAt = await stored;
    const targetCpuPct = cpuPct(cpuStart, perfStart);
    const split = threads.read();
    const rows = target.stack.store.countReadings();
    if (rows !== total) throw new Error(`pipeline: store.db holds ${rows} readings, ${total} were acknowledged`);
    const ackSeconds = (result.lastAckAt - result.firstPublishAt) / 1000;
    return {
      ackedPerS: result.acked / ackSeconds,
      storedPerS: total / ((storedAt - result.firstPublishAt) / 1000),
      targetCpuPct,
      publisherCpuPct: (result.cpuMs / (ackSeconds * 1000)) * 100,
      rssMiB: process.memoryUsage.rss() / MiB,
      ...(threads.available
        ? { threadUsPerMessage: { main: split.mainUs / total, consumers: split.busiestOtherUs / total, other: split.restUs / total } }
        : {}),
    };
  } finally {
    await target.stop();
  }
}

function describeRun(what: string, run: FloodRun): string {
  const stored = run.storedPerS === undefined ? '' : `, stored ${Math.round(run.storedPerS).toLocaleString('en-US')}/s`;
  const t = run.threadUsPerMessage;
  const threads = t === undefined ? '' : `; CPU per message: main ${t.main.toFixed(1)} us, consumers ${t.consumers.toFixed(1)} us, other threads ${t.other.toFixed(1)} us`;
  return `${what}: acked ${Math.round(run.ackedPerS).toLocaleString('en-US')}/s${stored} (target CPU ${Math.round(run.targetCpuPct)}%, publishers CPU ${Math.round(run.publisherCpuPct)}%${threads})`;
}

export interface BrokerComparison {
  readonly figures: BenchFigure[];
  /** Median stored rate of the pipeline (durability full), for the latency part's offered load. */
  readonly sustainedPerS: number;
  /** The pipeline's runs (durability full, the pipeline's own shard count), for the shards part. */
  readonly pipelineRuns: readonly FloodRun[];
}

/** Part 1 (and part 6 with `durabilityOff`): raw aedes against the pipeline, interleaved. */
export async function runBrokerComparison(options: FloodOptions): Promise<BrokerComparison> {
  const raw: FloodRun[] = [];
  const full: FloodRun[] = [];
  const off: FloodRun[] = [];
  const total = options.clients * options.messagesPerClient;
  options.progress(`broker vs pipeline: ${options.runs} runs each, ${options.clients} QoS 1 publishers x ${options.messagesPerClient} messages, ${options.inflight} in flight each`);
  for (let i = 0; i < options.runs; i++) {
    raw.push(await floodRawBroker(options));
    options.progress(`  run ${i + 1} ${describeRun('raw aedes', raw[i] as FloodRun)}`);
    full.push(await floodPipeline({ ...options, durability: 'full' }));
    options.progress(`  run ${i + 1} ${describeRun('pipeline (durability full)', full[i] as FloodRun)}`);
    if (options.durabilityOff) {
      off.push(await floodPipeline({ ...options, durability: 'off' }));
      options.progress(`  run ${i + 1} ${describeRun('pipeline (durability off)', off[i] as FloodRun)}`);
    }
  }
  const rawRates = raw.map((r) => r.ackedPerS);
  const cpu = (runs: FloodRun[]) => round(median(runs.map((r) => r.targetCpuPct)));
  const pubCpu = (runs: FloodRun[]) => round(median(runs.map((r) => r.publisherCpuPct)));
  const figures: BenchFigure[] = [
    figure('broker-baseline', 'msg/s', rawRates, null, {
      note: `raw aedes, in-process publish tap: QoS 1 publishes acknowledged/s (${total} messages per run)`,
      detail: { brokerCpuPct: cpu(raw), publisherCpuPct: pubCpu(raw) },
    }),
    figure(
      'pipeline-vs-broker',
      'msg/s',
      full.map((r) => r.storedPerS as number),
      rawRates,
      {
        note: 'full local stack (durability full): first publish to last reading committed in store.db (rows counted), against raw aedes acknowledged',
        detail: { stackCpuPct: cpu(full), publisherCpuPct: pubCpu(full), rssMiB: round(median(full.map((r) => r.rssMiB))), ...threadDetail(full) },
      },
    ),
    figure('pipeline-acked-vs-broker', 'msg/s', full.map((r) => r.ackedPerS), rawRates, {
      note: 'full local stack: QoS 1 publishes acknowledged/s (each PUBACK after the durable append), against raw aedes',
    }),
  ];
  if (options.durabilityOff) {
    figures.push(
      figure('durability-price', 'msg/s', full.map((r) => r.storedPerS as number), off.map((r) => r.storedPerS as number), {
        note: "pipeline stored/s with the stream group-committed and fsynced (durability 'full'; store.db also fsynced before alarm events leave) against not flushed ('off'); consumer positions kept in store.db in both",
        detail: { acknowledgedFullPerS: round(median(full.map((r) => r.ackedPerS))), acknowledgedOffPerS: round(median(off.map((r) => r.ackedPerS))) },
      }),
    );
  }
  return { figures, sustainedPerS: median(full.map((r) => r.storedPerS as number)), pipelineRuns: full };
}

/** Median CPU µs per message by thread, when measured (Linux). */
function threadDetail(runs: readonly FloodRun[]): Record<string, number> {
  const measured = runs.flatMap((r) => (r.threadUsPerMessage === undefined ? [] : [r.threadUsPerMessage]));
  if (measured.length === 0) return {};
  const med = (pick: (t: NonNullable<FloodRun['threadUsPerMessage']>) => number) => round(median(measured.map(pick)), 1);
  return { mainThreadUsPerMsg: med((t) => t.main), consumersThreadUsPerMsg: med((t) => t.consumers), otherThreadsUsPerMsg: med((t) => t.other) };
}

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
    const clients = Array.from({ length: options.clients }, (_, i) => ({ clientId: `bench-${String(i).padStart(5, '0')}`, password: 'unused' }));
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

/** Part 2: publish-to-stored and publish-to-alarm latency at fixed offered loads; the raw broker's publish-to-PUBACK at the same load is the baseline. */
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
