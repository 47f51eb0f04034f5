/**
 * Where the pipeline's time goes: the same QoS 1 flood (bench/publisher.ts, in its own process)
 * against partial compositions of the local stack in this process, each reporting the stack's CPU
 * microseconds per message:
 * - `ack`: broker, rule and the durable stream append (what a PUBACK waits for), no consumers;
 * - `ingest`: the same plus the ingest consumer (stream -> store.db);
 * - `alarms`: the same plus the alarms consumer (alarm state, alarm log) instead;
 * - `both`: both consumers, as `startLocalStack` runs them (without the broker notifier);
 * - `raw`: raw aedes (bench/raw-broker.ts: no auth, no rule, no stream) under the same flood, the
 *   floor the `ack` stage is measured against.
 *
 * The stages are wired here from the stack's own modules, as infra/local/stack.ts wires them, so
 * the difference between two stages is what one part costs. A measurement aid, not part of
 * `npm run bench`: `npx tsx bench/stages.ts [--messages-per-client N] [--runs N] [--stages raw,ack] [--durability full|normal|off]`.
 */
import { positiveIntegerFlag } from './flags.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { pipeline } from '../infra/pipeline.js';
import { makeKinesisRuleAction } from '../infra/local/rule-action.js';
import { LocalStream } from '../infra/local/stream/index.js';
import type { Durability } from '../infra/local/stream/index.js';
import { EventSourceMapping } from '../infra/local/event-source/index.js';
import { DeviceRegistry } from '../infra/local/registry/index.js';
import { createBroker } from '../infra/local/broker/index.js';
import { SqliteStore } from '../lambdas/adapters/local/sqlite-store.js';
import { makeIngestHandler } from '../lambdas/ingest/ingest-handler.js';
import { makeAlarmsHandler } from '../lambdas/alarms/alarms-handler.js';
import { CounterMetrics } from '../lambdas/adapters/local/observability.js';
import { loadThresholdsFile } from '../lambdas/config/load-thresholds.js';
import { silentLog } from '../lambdas/ports/observability.js';
import { systemClock } from '../lambdas/ports/clock.js';
import { forkPublishers } from './children.js';
import type { PublisherCredentials } from './publisher.js';
import { startRawBroker } from './raw-broker.js';
import { median, round } from './stats.js';

export const STAGES = ['raw', 'ack', 'ingest', 'alarms', 'both'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageRun {
  readonly stage: Stage;
  /** Publishes acknowledged per second. */
  readonly ackedPerS: number;
  /** Messages per second until every consumer of the stage had caught up. */
  readonly donePerS: number;
  /** This process's CPU time per message, microseconds. */
  readonly cpuUsPerMessage: number;
}

const THRESHOLDS = fileURLToPath(new URL('../config/thresholds.json', import.meta.url));

export interface StageOptions {
  readonly clients: number;
  readonly messagesPerClient: number;
  readonly inflight: number;
  /** The stream's durability ('normal': no fsync before an append resolves, to see what waiting for the disk costs). @default 'full' */
  readonly durability?: Durability;
}

/** Floods `url` from a publisher process; CPU is this process's, from the first publish to `settle()`'s end. */
async function flood(url: string, clients: readonly PublisherCredentials[], options: StageOptions, settle: () => Promise<void>): Promise<Omit<StageRun, 'stage'>> {
  const publishers = await forkPublishers({ url, clients, inflight: options.inflight, mode: { kind: 'flood', messagesPerClient: options.messagesPerClient } });
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const result = await publishers.go();
  await settle();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const total = clients.length * options.messagesPerClient;
  if (result.acked !== total) throw new Error(`publishers: ${result.acked} of ${total} acknowledged; ${result.errors.join('; ')}`);
  return {
    ackedPerS: result.acked / ((result.lastAckAt - result.firstPublishAt) / 1000),
    donePerS: result.acked / seconds,
    cpuUsPerMessage: (cpu.user + cpu.system) / result.acked,
  };
}

const deviceIds = (clients: number): string[] => Array.from({ length: clients }, (_, i) => `bench-${String(i).padStart(5, '0')}`);

/** The `raw` stage: the same flood against raw aedes. */
async function runRaw(options: StageOptions): Promise<StageRun> {
  const broker = await startRawBroker();
  try {
    const clients = deviceIds(options.clients).map((clientId) => ({ clientId, password: 'unused' }));
    return { stage: 'raw', ...(await flood(`mqtt://127.0.0.1:${broker.port}`, clients, options, async () => undefined)) };
  } finally {
    await broker.stop();
  }
}

/** One flood of `clients` x `messagesPerClient` QoS 1 messages against one stage. */
export async function runStage(stage: Stage, options: StageOptions): Promise<StageRun> {
  if (stage === 'raw') return runRaw(options);
  const dir = mkdtempSync(join(tmpdir(), 'ft-bench-stage-'));
  // Closed in reverse order, whatever step failed: a stage that cannot start must not leave its files.
  const cleanups: (() => unknown)[] = [];
  try {
    const registry = DeviceRegistry.open(join(dir, 'devices.db'));
    cleanups.push(() => registry.close());
    const stream = LocalStream.open({
      file: join(dir, 'stream.db'),
      streamName: pipeline.stream.name,
      shardCount: pipeline.stream.shardCount,
      retentionHours: pipeline.stream.retentionHours,
      durability: options.durability ?? 'full',
    });
    cleanups.push(() => stream.close());
    const store = SqliteStore.open(join(dir, 'store.db'));
    cleanups.push(() => store.close());
    const broker = createBroker({
      registry,
      log: silentLog,
      onTelemetry: makeKinesisRuleAction({ sql: pipeline.rule.sql, partitionKey: pipeline.rule.partitionKey, stream, log: silentLog }),
    });
    const metrics = new CounterMetrics();
    const mappings: EventSourceMapping[] = [];
    if (stage === 'ingest' || stage === 'both') {
      const handler = makeIngestHandler({ store: store.timeSeries, rejects: store.rejects, clock: systemClock, metrics, log: silentLog });
      mappings.push(new EventSourceMapping({ consumer: 'ingest', stream, settings: pipeline.consumers.ingest, handler }));
    }
    if (stage === 'alarms' || stage === 'both') {
      const handler = makeAlarmsHandler({ rules: loadThresholdsFile(THRESHOLDS), states: store.alarmStates, notifier: store.alarmLog, clock: systemClock, metrics, log: silentLog });
      mappings.push(new EventSourceMapping({ consumer: 'alarms', stream, settings: pipeline.consumers.alarms, handler }));
    }
    cleanups.push(async () => {
      for (const mapping of mappings) await mapping.stop();
    });
    cleanups.push(() => broker.close());
    const { mqttPort } = await broker.listen({ host: '127.0.0.1', mqttPort: 0 });
    for (const mapping of mappings) mapping.start();
    const entries = deviceIds(options.clients).map((deviceId) => ({ deviceId, type: 'env-sensor' }));
    const credentials = await registry.upsertMany(entries);
    const clients = credentials.map((c) => ({ clientId: c.deviceId, password: c.password }));
    const run = await flood(`mqtt://127.0.0.1:${mqttPort}`, clients, options, async () => {
      for (const mapping of mappings) await mapping.whenIdle({ timeoutMs: 300_000 });
    });
    return { stage, ...run };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `--durability full|normal|off`: the stream's durability (LocalStreamOptions.durability). @default full */
function durabilityFlag(args: readonly string[]): Durability {
  const at = args.indexOf('--durability');
  if (at === -1) return 'full';
  const value = args[at + 1];
  if (value !== 'full' && value !== 'normal' && value !== 'off') throw new Error(`--durability takes full, normal or off; got ${JSON.stringify(value ?? '')}`);
  return value;
}

/** `--stages raw,ack`: only these stages, in this order. @default every stage */
function stageList(args: readonly string[]): readonly Stage[] {
  const at = args.indexOf('--stages');
  if (at === -1) return STAGES;
  const names = (args[at + 1] ?? '').split(',');
  const unknown = names.filter((name) => !(STAGES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) throw new Error(`--stages takes a comma-separated list of ${STAGES.join(', ')}; got ${JSON.stringify(args[at + 1] ?? '')}`);
  return names as Stage[];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const runs = positiveIntegerFlag(args, '--runs', 3);
  const options = { clients: 100, messagesPerClient: positiveIntegerFlag(args, '--messages-per-client', 1_000), inflight: 16, durability: durabilityFlag(args) };
  const stages = stageList(args);
  const byStage = new Map<Stage, StageRun[]>(stages.map((s) => [s, []]));
  for (let i = 0; i < runs; i++) {
    for (const stage of stages) {
      const run = await runStage(stage, options);
      byStage.get(stage)?.push(run);
      process.stderr.write(`run ${i + 1} ${stage}: acked ${Math.round(run.ackedPerS)}/s, done ${Math.round(run.donePerS)}/s, ${round(run.cpuUsPerMessage, 1)} us CPU per message\n`);
    }
  }
  const summary = stages.map((stage) => {
    const list = byStage.get(stage) ?? [];
    return {
      stage,
      ackedPerS: round(median(list.map((r) => r.ackedPerS))),
      donePerS: round(median(list.map((r) => r.donePerS))),
      cpuUsPerMessage: round(median(list.map((r) => r.cpuUsPerMessage)), 1),
    };
  });
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  process.exit(0);
}
