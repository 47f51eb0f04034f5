/**
 * What one stream consumer costs per record, alone: the event source mapping reading the durable
 * stream, the handler module, and the SQLite store, wired as infra/local/stack.ts wires them, over
 * a backlog appended beforehand by the pipeline's own rule action (so the records are the exact
 * envelope the broker path writes). No broker, no MQTT: the difference from bench/stages.ts is that
 * the consumer's CPU is measured alone, not as a share of a flood.
 *
 * Each run, in a fresh temp dir:
 * 1. appends `--records` records (default 100,000) from `--devices` devices (default 1,000): env-sensor
 *    readings with seq, ts, temperature, humidity and battery; a few devices run hot or low on battery,
 *    so the alarm rules of config/thresholds.json raise and clear alarms;
 * 2. starts the mapping(s) of `--consumer` (ingest, alarms or both) with the pipeline's settings
 *    (infra/pipeline.ts) and drains them: `stop({ drain: true })` runs until every record is done,
 *    skipping the batching window of each shard's last partial batch, which would only add idle time;
 * 3. reports records per second and this process's CPU microseconds per record (process.cpuUsage,
 *    user + system, from start to drained).
 * The median of `--runs` (default 3) is printed as JSON on stdout; each run on stderr.
 *
 * A measurement aid, not part of `npm run bench`:
 *   npx tsx bench/consumers.ts [--consumer ingest|alarms|both] [--records N] [--devices N] [--runs N] [--cpu-profile FILE]
 * Profile one consumer (only while it consumes, not while the backlog is appended), then open the file
 * in Chrome DevTools or read its self and inclusive times:
 *   npx tsx bench/consumers.ts --consumer alarms --runs 1 --cpu-profile /tmp/alarms.cpuprofile
 */
import { positiveIntegerFlag } from './flags.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pipeline, telemetryTopic } from '../infra/pipeline.js';
import { makeKinesisRuleAction } from '../infra/local/rule-action.js';
import { LocalStream } from '../infra/local/stream/index.js';
import { EventSourceMapping } from '../infra/local/event-source/index.js';
import { SqliteStore } from '../lambdas/adapters/local/sqlite-store.js';
import { CounterMetrics } from '../lambdas/adapters/local/observability.js';
import { makeIngestHandler } from '../lambdas/ingest/ingest-handler.js';
import { makeAlarmsHandler } from '../lambdas/alarms/alarms-handler.js';
import { loadThresholdsFile } from '../lambdas/config/load-thresholds.js';
import { silentLog } from '../lambdas/ports/observability.js';
import { systemClock } from '../lambdas/ports/clock.js';
import { median, round } from './stats.js';

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

const THRESHOLDS = fileURLToPath(new URL('../config/thresholds.json', import.meta.url));
/** Appends issued before waiting for their commit: about one group commit each. */
const APPEND_WAVE = 2_000;

/** The payload device `device` sends as its `seq`-th reading, at event time `ts`. */
export function envSensorPayload(device: number, seq: number, ts: number): Buffer {
  const wave = Math.sin((seq + device) / 7);
  // One device in 25 runs hot (crosses the overheat rule's 80 and its clear bound 75 every ~40 s);
  // one in 100 has a failing battery (below battery-low's 3.3); the rest idle near room temperature.
  const temperature = device % 25 === 0 ? 72 + 12 * wave : 21 + 2 * wave;
  const battery = device % 100 === 7 ? 3.2 + 0.2 * wave : 3.7 - (device % 9) / 50;
  const message = {
    ts,
    seq,
    type: 'env-sensor',
    metrics: { temperature: round2(temperature), humidity: round2(45 + 8 * wave), battery: round2(battery) },
  };
  return Buffer.from(JSON.stringify(message));
}

/** Appends the backlog through the pipeline's rule action, as the broker would for each PUBLISH. */
async function appendBacklog(stream: LocalStream, records: number, devices: number): Promise<void> {
  const action = makeKinesisRuleAction({ sql: pipeline.rule.sql, partitionKey: pipeline.rule.partitionKey, stream, log: silentLog });
  const perDevice = Math.ceil(records / devices);
  // Event time ends about now, one reading per device per second (ts must not be in the future).
  const start = Date.now() - perDevice * 1_000;
  let pending: Promise<void>[] = [];
  for (let i = 0; i < records; i++) {
    const device = i % devices;
    const seq = Math.floor(i / devices);
    const ts = start + seq * 1_000;
    const deviceId = `sensor-${String(device).padStart(5, '0')}`;
    const appended = action({ topic: telemetryTopic(deviceId), payload: envSensorPayload(device, seq, ts), clientId: deviceId, qos: 1, receivedAt: ts + 40 });
    if (appended === undefined) throw new Error(`the rule did not append the reading of ${deviceId}`);
    pending.push(appended);
    if (pending.length === APPEND_WAVE) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
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
    const mappings: EventSourceMapping[] = [];
    if (options.consumer !== 'alarms') {
      const handler = store.groupWrites(makeIngestHandler({ store: store.timeSeries, rejects: store.rejects, clock: systemClock, metrics, log: silentLog }));
      mappings.push(
        new EventSourceMapping({ consumer: 'ingest', stream, settings: pipeline.consumers.ingest, functionName: `${pipeline.name}-ingest`, handler }),
      );
    }
    if (options.consumer !== 'ingest') {
      const rules = loadThresholdsFile(THRESHOLDS);
      const notifier = store.commitBefore(store.alarmLog);
      const handler = store.groupWrites(makeAlarmsHandler({ rules, states: store.alarmStates, notifier, clock: systemClock, metrics, log: silentLog }));
      mappings.push(
        new EventSourceMapping({ consumer: 'alarms', stream, settings: pipeline.consumers.alarms, functionName: `${pipeline.name}-alarms`, handler }),
      );
    }
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

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function consumerFlag(args: readonly string[]): ConsumerChoice {
  const at = args.indexOf('--consumer');
  if (at === -1) return 'both';
  const value = args[at + 1];
  if (!CONSUMERS.includes(value as ConsumerChoice)) throw new Error(`--consumer must be one of ${CONSUMERS.join(', ')}`);
  return value as ConsumerChoice;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const options: ConsumerBenchOptions = {
    consumer: consumerFlag(args),
    records: positiveIntegerFlag(args, '--records', 100_000),
    devices: positiveIntegerFlag(args, '--devices', 1_000),
    ...(args.includes('--cpu-profile') ? { cpuProfile: args[args.indexOf('--cpu-profile') + 1] ?? 'consumers.cpuprofile' } : {}),
  };
  const runs: ConsumerRun[] = [];
  for (let i = 0, n = positiveIntegerFlag(args, '--runs', 3); i < n; i++) {
    const run = await runConsumers(options);
    runs.push(run);
    process.stderr.write(
      `run ${i + 1} ${run.consumer}: ${Math.round(run.recordsPerS)} records/s, ${round(run.cpuUsPerRecord, 1)} us CPU per record ${JSON.stringify(run.counters)}\n`,
    );
  }
  const summary = {
    consumer: options.consumer,
    records: options.records,
    devices: options.devices,
    recordsPerS: round(median(runs.map((r) => r.recordsPerS))),
    cpuUsPerRecord: round(median(runs.map((r) => r.cpuUsPerRecord)), 1),
    runs: runs.map((r) => ({ recordsPerS: round(r.recordsPerS), cpuUsPerRecord: round(r.cpuUsPerRecord, 1) })),
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}
