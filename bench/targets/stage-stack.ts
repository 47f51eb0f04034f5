/**
 * Partial compositions of the local stack for bench/stages.ts, wired from the stack's own modules
 * as infra/local/stack.ts wires them, so that the difference between two stages is what one part
 * costs:
 * - `raw`: raw aedes (targets/raw-broker.ts: no auth, no rule, no stream), the floor;
 * - `ack`: broker, rule and the durable stream append (what a PUBACK waits for), no consumers;
 * - `ingest`: the same plus the ingest consumer (stream -> store.db);
 * - `alarms`: the same plus the alarms consumer (alarm state, alarm log) instead;
 * - `both`: both consumers, as `startLocalStack` runs them (without the broker notifier).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from '../../infra/pipeline.js';
import { makeKinesisRuleAction } from '../../infra/local/rule-action.js';
import { LocalStream } from '../../infra/local/stream/index.js';
import type { Durability } from '../../infra/local/stream/index.js';
import { EventSourceMapping } from '../../infra/local/event-source/index.js';
import { DeviceRegistry } from '../../infra/local/registry/index.js';
import { createBroker } from '../../infra/local/broker/index.js';
import { SqliteStore } from '../../lambdas/adapters/local/sqlite-store.js';
import { makeIngestHandler } from '../../lambdas/ingest/ingest-handler.js';
import { makeAlarmsHandler } from '../../lambdas/alarms/alarms-handler.js';
import { CounterMetrics } from '../../lambdas/adapters/local/observability.js';
import { loadThresholdsFile } from '../../lambdas/config/load-thresholds.js';
import { silentLog } from '../../lambdas/ports/observability.js';
import { systemClock } from '../../lambdas/ports/clock.js';
import { anonymousClients, benchDeviceId } from '../load/devices.js';
import type { PublisherCredentials } from '../load/publisher.js';
import { startRawBroker } from './raw-broker.js';

export const STAGES = ['raw', 'ack', 'ingest', 'alarms', 'both'] as const;
export type Stage = (typeof STAGES)[number];

/** A started stage: where to publish, as whom, how to wait for its consumers, how to stop it. */
export interface StageTarget {
  readonly url: string;
  readonly clients: readonly PublisherCredentials[];
  /** Resolves once every consumer of the stage has caught up with the stream. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

const THRESHOLDS = fileURLToPath(new URL('../../config/thresholds.json', import.meta.url));

async function startRaw(clients: number): Promise<StageTarget> {
  const broker = await startRawBroker();
  return { url: `mqtt://127.0.0.1:${broker.port}`, clients: anonymousClients(clients), settle: async () => undefined, stop: () => broker.stop() };
}

function consumersOf(stage: Stage, stream: LocalStream, store: SqliteStore): EventSourceMapping[] {
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
  return mappings;
}

/** Starts `stage` in a fresh temp dir with `clients` devices registered; `stop()` removes the dir. */
export async function startStage(stage: Stage, clients: number, durability: Durability): Promise<StageTarget> {
  if (stage === 'raw') return startRaw(clients);
  const dir = mkdtempSync(join(tmpdir(), 'ft-bench-stage-'));
  // Closed in reverse order, whatever step failed: a stage that cannot start must not leave its files.
  const cleanups: (() => unknown)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const registry = DeviceRegistry.open(join(dir, 'devices.db'));
    cleanups.push(() => registry.close());
    const stream = LocalStream.open({
      file: join(dir, 'stream.db'),
      streamName: pipeline.stream.name,
      shardCount: pipeline.stream.shardCount,
      retentionHours: pipeline.stream.retentionHours,
      durability,
    });
    cleanups.push(() => stream.close());
    const store = SqliteStore.open(join(dir, 'store.db'));
    cleanups.push(() => store.close());
    const broker = createBroker({
      registry,
      log: silentLog,
      onTelemetry: makeKinesisRuleAction({ sql: pipeline.rule.sql, partitionKey: pipeline.rule.partitionKey, stream, log: silentLog }),
    });
    const mappings = consumersOf(stage, stream, store);
    cleanups.push(async () => {
      for (const mapping of mappings) await mapping.stop();
    });
    cleanups.push(() => broker.close());
    const { mqttPort } = await broker.listen({ host: '127.0.0.1', mqttPort: 0 });
    for (const mapping of mappings) mapping.start();
    const credentials = await registry.upsertMany(Array.from({ length: clients }, (_, i) => ({ deviceId: benchDeviceId(i), type: 'env-sensor' })));
    return {
      url: `mqtt://127.0.0.1:${mqttPort}`,
      clients: credentials.map((c) => ({ clientId: c.deviceId, password: c.password })),
      async settle() {
        for (const mapping of mappings) await mapping.whenIdle({ timeoutMs: 300_000 });
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
