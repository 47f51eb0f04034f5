/**
 * The local composition root: the whole pipeline on embedded parts, wired from the same pipeline
 * definition and the same handler modules as the AWS stack. `main.ts` is its command line; tests,
 * the demo and the benchmarks start it in-process through `startLocalStack`.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from '../pipeline.js';
import type { ThresholdRules } from '../../lambdas/domain/thresholds.js';
import type { Clock, Log } from '../../lambdas/ports/index.js';
import { systemClock } from '../../lambdas/ports/index.js';
import { makeIngestHandler } from '../../lambdas/ingest/ingest-handler.js';
import { makeAlarmsHandler } from '../../lambdas/alarms/alarms-handler.js';
import { makeOfflineHandler } from '../../lambdas/offline/offline-handler.js';
import { fanOutNotifier } from '../../lambdas/adapters/fan-out-notifier.js';
import { SqliteStore } from '../../lambdas/adapters/local/sqlite-store.js';
import { BrokerNotifier } from '../../lambdas/adapters/local/broker-notifier.js';
import { WebhookNotifier } from '../../lambdas/adapters/local/webhook-notifier.js';
import { CounterMetrics } from '../../lambdas/adapters/local/observability.js';
import { makeKinesisRuleAction } from './rule-action.js';
import { LocalStream } from './stream/index.js';
import { EventSourceMapping } from './event-source/index.js';
import { DeviceRegistry } from './registry/index.js';
import { createBroker } from './broker/index.js';
import { startConsole, type ConsoleServer } from './console/index.js';

export interface LocalStackOptions {
  /** Where every file lives (devices.db, stream.db, store.db). */
  readonly dataDir: string;
  readonly host?: string;
  /** 0 picks a free port. @default 1883 */
  readonly mqttPort?: number;
  /** 0 picks a free port; null disables MQTT over WebSocket. @default 8083 */
  readonly wsPort?: number | null;
  readonly thresholds: ThresholdRules;
  /** Alarm events are also POSTed here, with retries. */
  readonly webhookUrl?: string;
  /** How often the silent-device check runs. @default pipeline.offlineCheck.everyMinutes */
  readonly offlineCheckIntervalMs?: number;
  /** Shards of the local stream (a new data directory only: no resharding). @default pipeline.stream.shardCount */
  readonly shardCount?: number;
  /** PRAGMA synchronous of the stream: 'full' makes a PUBACK survive power loss. @default 'full' */
  readonly durability?: 'full' | 'normal' | 'off';
  readonly log: Log;
  readonly clock?: Clock;
  /**
   * Port of the console (the fleet dashboard, always on 127.0.0.1); 0 picks a free port; null or
   * absent: no console. `npm start` passes --http-port (8080).
   * @default null
   */
  readonly httpPort?: number | null;
  /** The console's access token. @default a new random 32-byte token, base64url */
  readonly consoleToken?: string;
}

export interface LocalStack {
  readonly mqttPort: number;
  readonly wsPort: number | undefined;
  readonly dataDir: string;
  readonly metrics: CounterMetrics;
  readonly stream: LocalStream;
  readonly store: SqliteStore;
  readonly registry: DeviceRegistry;
  /** The console's port, undefined without a console. */
  readonly httpPort: number | undefined;
  /** The console's address with its token (`http://127.0.0.1:<port>/?token=...`), undefined without a console. */
  readonly consoleUrl: string | undefined;
  /** The console's access token, undefined without a console. */
  readonly consoleToken: string | undefined;
  /** Resolves once both consumers have caught up with everything appended so far. */
  whenIdle(): Promise<void>;
  /** Runs the silent-device check now (the timer runs it on its own too). */
  checkSilence(): Promise<{ checked: number; raised: number }>;
  /** Stops accepting messages, drains in-flight batches, saves checkpoints, closes the files. */
  stop(): Promise<void>;
}

/** In-flight batches get this long to finish on stop (Ctrl-C must exit within 2 s). */
const DRAIN_TIMEOUT_MS = 1_200;

export const DATA_FILES = {
  devices: 'devices.db',
  stream: 'stream.db',
  store: 'store.db',
} as const;

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const { log } = options;
  const clock = options.clock ?? systemClock;
  const metrics = new CounterMetrics();

  const registry = DeviceRegistry.open(join(dataDir, DATA_FILES.devices));
  const stream = LocalStream.open({
    file: join(dataDir, DATA_FILES.stream),
    streamName: pipeline.stream.name,
    shardCount: options.shardCount ?? pipeline.stream.shardCount,
    retentionHours: pipeline.stream.retentionHours,
    durability: options.durability ?? 'full',
    clock,
  });
  const store = SqliteStore.open(join(dataDir, DATA_FILES.store));

  const broker = createBroker({
    registry,
    log,
    onTelemetry: makeKinesisRuleAction({ sql: pipeline.rule.sql, partitionKey: pipeline.rule.partitionKey, stream, log }),
  });

  const notifiers = [store.alarmLog, new BrokerNotifier((topic, payload) => broker.publish(topic, payload, { qos: 1 }))];
  if (options.webhookUrl) notifiers.push(new WebhookNotifier({ url: options.webhookUrl }));
  const notifier = fanOutNotifier(notifiers);

  const ingest = new EventSourceMapping({
    consumer: 'ingest',
    stream,
    settings: pipeline.consumers.ingest,
    functionName: `${pipeline.name}-ingest`,
    handler: makeIngestHandler({ store: store.timeSeries, rejects: store.rejects, clock, metrics, log }),
    log,
    clock,
  });
  const alarms = new EventSourceMapping({
    consumer: 'alarms',
    stream,
    settings: pipeline.consumers.alarms,
    functionName: `${pipeline.name}-alarms`,
    handler: makeAlarmsHandler({ rules: options.thresholds, states: store.alarmStates, notifier, clock, metrics, log }),
    log,
    clock,
  });
  const offline = makeOfflineHandler({ rules: options.thresholds, states: store.alarmStates, notifier, clock, metrics, log });

  const ports = await broker.listen({
    host: options.host ?? '127.0.0.1',
    mqttPort: options.mqttPort ?? 1883,
    ...(options.wsPort === null ? {} : { wsPort: options.wsPort ?? 8083 }),
  });
  ingest.start();
  alarms.start();

  let offlineRun: Promise<unknown> = Promise.resolve();
  const checkSilence = () => {
    const run = offline({});
    offlineRun = run.catch(() => undefined);
    return run;
  };
  const offlineTimer = setInterval(() => {
    checkSilence().catch((error: unknown) => log.error('offline check failed', { error: String(error) }));
  }, options.offlineCheckIntervalMs ?? pipeline.offlineCheck.everyMinutes * 60_000);
  offlineTimer.unref();

  let consoleServer: ConsoleServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // First, so no page reads a store being closed.
      await consoleServer?.close();
      clearInterval(offlineTimer);
      await broker.close();
      // A record that keeps failing must not hold the shutdown: its checkpoint stays, the next start retries it.
      await Promise.all([ingest.stop({ drain: true, drainTimeoutMs: DRAIN_TIMEOUT_MS }), alarms.stop({ drain: true, drainTimeoutMs: DRAIN_TIMEOUT_MS })]);
      await offlineRun;
      await stream.close();
      store.close();
      registry.close();
    })());

  if (options.httpPort !== undefined && options.httpPort !== null) {
    try {
      consoleServer = await startConsole({
        store,
        stream,
        registry,
        metrics,
        thresholds: options.thresholds,
        port: options.httpPort,
        log,
        clock,
        ...(options.consoleToken === undefined ? {} : { token: options.consoleToken }),
      });
    } catch (error) {
      await stop();
      throw error;
    }
  }

  return {
    mqttPort: ports.mqttPort,
    wsPort: ports.wsPort,
    dataDir,
    metrics,
    stream,
    store,
    registry,
    httpPort: consoleServer?.port,
    consoleUrl: consoleServer?.url,
    consoleToken: consoleServer?.token,
    whenIdle: async () => {
      await Promise.all([ingest.whenIdle(), alarms.whenIdle()]);
    },
    checkSilence,
    stop,
  };
}
