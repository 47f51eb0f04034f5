/**
 * The stream consumers alone, for bench/consumers.ts: the event source mapping(s) reading the durable
 * stream, the handler modules and the SQLite store, wired as infra/local/stack.ts wires them, over a
 * backlog (load/backlog.ts), in a fresh temp dir. `stop({ drain: true })` runs until every record is
 * done, skipping the batching window of each shard's last partial batch, which would only add idle
 * time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { pipeline } from '../../infra/pipeline.js';
import { LocalStream } from '../../infra/local/stream/index.js';
import { EventSourceMapping } from '../../infra/local/event-source/index.js';
import { SqliteStore } from '../../lambdas/adapters/local/sqlite-store.js';
import { CounterMetrics } from '../../lambdas/adapters/local/observability.js';
import { makeIngestHandler } from '../../lambdas/ingest/ingest-handler.js';
import { makeAlarmsHandler } from '../../lambdas/alarms/alarms-handler.js';
import { loadThresholdsFile } from '../../lambdas/config/load-thresholds.js';
import { silentLog } from '../../lambdas/ports/observability.js';
import { systemClock } from '../../lambdas/ports/clock.js';
import { appendBacklog } from '../load/backlog.js';

export const CONSUMERS = ['ingest', 'alarms', 'both'] as const;
export type ConsumerChoice = (typeof CONSUMERS)[number];

export interface ConsumerBenchOptions {
  readonly consumer: ConsumerChoice;
  readonly records: number;
  readonly devices: number;
  /** Writes a V8 CPU profile of the consuming phase (not the append) to this file. */
  readonly cpuProfile?: string;
}

export interface ConsumerRun {
  readonly consumer: ConsumerChoice;
  readonly records: number;
  /** Records per second from start to drained. */
  readonly recordsPerS: number;
  /** This process's CPU time (user + system) per record, microseconds. */
  readonly cpuUsPerRecord: number;
  /** What the consumers left behind, to check a run did the work (readings stored, transitions logged). */
  readonly counters: Readonly<Record<string, number>>;
}

const THRESHOLDS = fileURLToPath(new URL('../../config/thresholds.json', import.meta.url));

/** The mapping(s) of `consumer`, with the pipeline's settings (infra/pipeline.ts). */
function mappingsOf(consumer: ConsumerChoice, stream: LocalStream, store: SqliteStore, metrics: CounterMetrics): EventSourceMapping[] {
  const mappings: EventSourceMapping[] = [];
  if (consumer !== 'alarms') {
    const handler = store.groupWrites(makeIngestHandler({ store: store.timeSeries, rejects: store.rejects, clock: systemClock, metrics, log: silentLog }));
    mappings.push(new EventSourceMapping({ consumer: 'ingest', stream, settings: pipeline.consumers.ingest, functionName: `${pipeline.name}-ingest`, handler }));
  }
  if (consumer !== 'ingest') {
    const rules = loadThresholdsFile(THRESHOLDS);
    const notifier = store.commitBefore(store.alarmLog);
    const handler = store.groupWrites(makeAlarmsHandler({ rules, states: store.alarmStates, notifier, clock: systemClock, metrics, log: silentLog }));
    mappings.push(new EventSourceMapping({ consumer: 'alarms', stream, settings: pipeline.consumers.alarms, functionName: `${pipeline.name}-alarms`, handler }));
  }
  return mappings;
}

/** One run: a fresh data dir, the backlog, then the consumer(s) drained. */
export async function runConsumers(options: ConsumerBenchOptions): Promise<ConsumerRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ft-bench-consumers-'));
  const stream = LocalStream.open({
    file: join(dir, 'stream.db'),
    streamName: pipeline.stream.name,
    shardCount: pipeline.stream.shardCount,
    retentionHours: pipeline.stream.retentionHours,
    durability: 'full',
  });
  const store = SqliteStore.open(join(dir, 'store.db'));
  const metrics = new CounterMetrics();
  try {
    await appendBacklog(stream, options.records, options.devices);
    const mappings = mappingsOf(options.consumer, stream, store, metrics);
    const profiler = options.cpuProfile === undefined ? undefined : new Session();
    if (profiler !== undefined) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    for (const mapping of mappings) mapping.start();
    await Promise.all(mappings.map((mapping) => mapping.stop({ drain: true })));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    if (profiler !== undefined && options.cpuProfile !== undefined) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(options.cpuProfile, JSON.stringify(profile));
      profiler.disconnect();
    }
    const counters = metrics.snapshot();
    if (options.consumer !== 'alarms' && counters['ReadingsStored'] !== options.records) {
      throw new Error(`ingest stored ${counters['ReadingsStored'] ?? 0} of ${options.records} readings`);
    }
    return {
      consumer: options.consumer,
      records: options.records,
      recordsPerS: options.records / seconds,
      cpuUsPerRecord: (cpu.user + cpu.system) / options.records,
      counters: { ...counters, transitionsLogged: store.queryTransitions({ limit: 1_000_000 }).length },
    };
  } finally {
    await stream.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
