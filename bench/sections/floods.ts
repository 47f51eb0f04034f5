/**
 * The flood runs the broker, durability and shards sections share: one QoS 1 flood against raw
 * aedes or against the full local stack, each on a fresh target with a fresh publisher process.
 */
import { performance } from 'node:perf_hooks';
import { anonymousClients } from '../load/devices.js';
import { flood } from '../load/flood.js';
import { startPipeline } from '../targets/pipeline.js';
import { startRawBroker } from '../targets/raw-broker.js';
import { startThreadCpuMeter } from '../targets/thread-cpu.js';

export interface FloodOptions {
  readonly runs: number;
  /** Publisher connections. */
  readonly clients: number;
  /** Messages each connection sends (at least, against raw aedes: see `rawMinDurationMs`). */
  readonly messagesPerClient: number;
  /** QoS 1 publishes outstanding per connection. */
  readonly inflight: number;
  /** Each raw-broker flood goes on until it has lasted this long (ms). */
  readonly rawMinDurationMs: number;
  readonly progress: (line: string) => void;
}

/** One flood run's figures. */
export interface FloodRun {
  readonly ackedPerS: number;
  /** Pipeline only: every reading committed in store.db. */
  readonly storedPerS: number | undefined;
  /** First publish to last PUBACK, seconds. */
  readonly seconds: number;
  /** CPU of the process under test (this one) from the first publish to the end, % of one core. */
  readonly targetCpuPct: number;
  /** CPU of the publishers' process over their publishing, % of one core. */
  readonly publisherCpuPct: number;
  readonly rssMiB: number;
  /** Pipeline only, on Linux: CPU µs per message of the main thread, the consumers' worker, and the other threads. */
  readonly threadUsPerMessage?: { readonly main: number; readonly consumers: number; readonly other: number };
}

const MiB = 1024 * 1024;

function cpuPct(start: NodeJS.CpuUsage, perfStart: number): number {
  const used = process.cpuUsage(start);
  return ((used.user + used.system) / 1000 / (performance.now() - perfStart)) * 100;
}

/** One flood against raw aedes, for at least `rawMinDurationMs`. */
export async function floodRawBroker(options: FloodOptions): Promise<FloodRun> {
  const broker = await startRawBroker();
  try {
    const { result, cpuStart, perfStart } = await flood(`mqtt://127.0.0.1:${broker.port}`, anonymousClients(options.clients), {
      messagesPerClient: options.messagesPerClient,
      inflight: options.inflight,
      minDurationMs: options.rawMinDurationMs,
    });
    const targetCpuPct = cpuPct(cpuStart, perfStart);
    const seconds = (result.lastAckAt - result.firstPublishAt) / 1000;
    if (broker.received() !== result.acked) throw new Error(`raw broker: tap saw ${broker.received()} publishes, ${result.acked} acknowledged`);
    return {
      ackedPerS: result.acked / seconds,
      storedPerS: undefined,
      seconds,
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
      seconds: ackSeconds,
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

/** One progress line: the rates, and where the CPU went. */
export function describeRun(what: string, run: FloodRun): string {
  const stored = run.storedPerS === undefined ? '' : `, stored ${Math.round(run.storedPerS).toLocaleString('en-US')}/s`;
  const t = run.threadUsPerMessage;
  const threads = t === undefined ? '' : `; CPU per message: main ${t.main.toFixed(1)} us, consumers ${t.consumers.toFixed(1)} us, other threads ${t.other.toFixed(1)} us`;
  return `${what}: acked ${Math.round(run.ackedPerS).toLocaleString('en-US')}/s${stored} over ${run.seconds.toFixed(1)} s (target CPU ${Math.round(run.targetCpuPct)}%, publishers CPU ${Math.round(run.publisherCpuPct)}%${threads})`;
}
