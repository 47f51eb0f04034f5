/**
 * The local composition root: the whole pipeline on embedded parts, wired from the same pipeline
 * definition and the same handler modules as the AWS stack. `main.ts` is its command line; tests,
 * the demo and the benchmarks start it in-process through `startLocalStack`.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { commandTopic, pipeline } from '../pipeline.js';
import type { ThresholdRules } from '../../lambdas/domain/thresholds.js';
import type { Clock } from '../../lambdas/ports/clock.js';
import type { Log } from '../../lambdas/ports/observability.js';
import { systemClock } from '../../lambdas/ports/clock.js';
import { SqliteStore } from '../../lambdas/adapters/local/sqlite-store.js';
import { makeKinesisRuleAction } from './rule-action.js';
import { makeLambdaRuleAction } from './lambda-rule-action.js';
import type { AlarmCommandEnvelope } from '../../lambdas/alarm-commands/alarm-commands-handler.js';
import { CommandReplyWaiters } from './command-reply-waiters.js';
import type { CommandReply } from './cli/alarm-command-client.js';
import type { AlarmCommand } from '../../lambdas/domain/alarm-command.js';
import { DEFAULT_MIN_FREE_BYTES, FreeSpaceGuard, LocalStream } from './stream/index.js';
import type { FreeSpaceProbe } from './stream/index.js';
import { startConsumerHost } from './consumers/host.js';
import type { ConsumerHost, ConsumersMode } from './consumers/host.js';
import type { IngestBatchCommitted } from './consumers/compose.js';
import type { MetricsView } from './consumers/metrics-view.js';
import type { SilenceCheckSummary } from './consumers/protocol.js';
import { DeviceRegistry } from './registry/index.js';
import { createBroker } from './broker/index.js';
import type { Broker, BrokerOptions, BrokerStats } from './broker/index.js';
import type { RuleMessage } from './iot-sql/index.js';
import { intakeStatus, startConsole, type ConsoleServer } from './console/index.js';
import { ConfigError } from '../../lambdas/domain/errors.js';
import { SwappableThresholds } from './thresholds/swappable-thresholds.js';
import { startThresholdsReload } from './thresholds/thresholds-reload.js';
import type { ThresholdsReload } from './thresholds/thresholds-reload.js';

export interface LocalStackOptions {
  /** Where every file lives (devices.db, stream.db, store.db). */
  readonly dataDir: string;
  readonly host?: string;
  /** 0 picks a free port. @default 1883 */
  readonly mqttPort?: number;
  /** 0 picks a free port; null disables MQTT over WebSocket. @default 8083 */
  readonly wsPort?: number | null;
  /** The rules in force at start. */
  readonly thresholds: ThresholdRules;
  /**
   * The file `thresholds` was read from: watched while the stack runs, and each valid change put in
   * force within seconds (logged with the rules added, changed and removed; an invalid file is refused
   * with its reason and the rules in force stay). Absent: the rules never change.
   */
  readonly thresholdsFile?: string;
  /** Alarm events are also POSTed here, with retries. */
  readonly webhookUrl?: string;
  /** How often the silent-device check runs. @default pipeline.offlineCheck.everyMinutes */
  readonly offlineCheckIntervalMs?: number;
  /** Shards of the local stream (a new data directory only: no resharding). @default pipeline.stream.shardCount */
  readonly shardCount?: number;
  /** How durable a stream append (and so a PUBACK) is: 'full' survives power loss (the WAL is fsynced first), 'normal' a process crash only, 'off' neither. @default 'full' */
  readonly durability?: 'full' | 'normal' | 'off';
  readonly log: Log;
  /** The consumers' clock; needs consumers 'in-process'. @default systemClock */
  readonly clock?: Clock;
  /**
   * Where the consumers run: 'worker' (a worker thread: the broker's thread only receives, evaluates
   * the rule and appends) or 'in-process' (one thread; for a custom clock or a debugger).
   * @default 'worker', or 'in-process' when a clock is given
   */
  readonly consumers?: ConsumersMode;
  /** Called after each ingest write commits (benchmarks time storage with it). */
  readonly onIngestBatch?: (batch: IngestBatchCommitted) => void;
  /**
   * Port of the console (the fleet dashboard, always on 127.0.0.1); 0 picks a free port; null or
   * absent: no console. `npm start` passes --http-port (8080).
   * @default null
   */
  readonly httpPort?: number | null;
  /** The console's access token. @default a new random 32-byte token, base64url */
  readonly consoleToken?: string;
  /**
   * New telemetry is refused while the data directory's file system has less free space than this, so
   * the consumers can always store what was acknowledged (stream/free-space.ts). 0 disables it.
   * @default 256 MiB
   */
  readonly minFreeBytes?: number;
  /** How the free space is measured. @default statfs of the data directory */
  readonly freeSpaceProbe?: FreeSpaceProbe;
  /** How often it is measured. @default 1_000 (ms) */
  readonly freeSpaceCheckMs?: number;
  /** Open MQTT connections at most. @default 20,000 */
  readonly maxConnections?: number;
  /** MQTT connections being authenticated at once; more wait unread. @default 1,000 */
  readonly maxUnauthenticated?: number;
  /** Waits before the local Lambda action retries a failed command (AWS: one and two minutes). @default [1000, 2000] */
  readonly commandRetryDelaysMs?: readonly number[];
}

export interface LocalStack {
  readonly mqttPort: number;
  readonly wsPort: number | undefined;
  readonly dataDir: string;
  /** The consumers' counters. */
  readonly metrics: MetricsView;
  readonly stream: LocalStream;
  readonly store: SqliteStore;
  readonly registry: DeviceRegistry;
  /** The console's port, undefined without a console. */
  readonly httpPort: number | undefined;
  /** The console's address with its token (`http://127.0.0.1:<port>/?token=...`), undefined without a console. */
  readonly consoleUrl: string | undefined;
  /** The console's access token, undefined without a console. */
  readonly consoleToken: string | undefined;
  /** The free-space headroom's state and counters; undefined when disabled (minFreeBytes 0). */
  readonly freeSpace: FreeSpaceGuard | undefined;
  /** The threshold rules in force now (they change with the thresholds file). */
  thresholds(): ThresholdRules;
  /** The broker's counters (connections, refusals, delayed CONNECTs). */
  brokerStats(): BrokerStats;
  /** Resolves once both consumers have caught up with everything appended so far (default timeout 10 s). */
  whenIdle(options?: { readonly timeoutMs?: number }): Promise<void>;
  /** Runs the silent-device check now (the timer runs it on its own too): silent devices, reminders, ended snoozes. */
  checkSilence(): Promise<SilenceCheckSummary>;
  /**
   * Sends an alarm command through the command rule as the client `by` would (the console's path),
   * and resolves with its reply; rejects when none came within `timeoutMs` (default 10 s).
   */
  sendAlarmCommand(deviceId: string, command: AlarmCommand, options: { readonly by: string; readonly timeoutMs?: number }): Promise<CommandReply>;
  /** Resolves once every alarm command routed so far has been handled (its reply published or its retries exhausted). */
  commandsSettled(): Promise<void>;
  /** Stops accepting messages, drains in-flight batches, saves checkpoints, closes the files. */
  stop(): Promise<void>;
}

/**
 * Who the console's commands are from (their `by`): the console has one identity, its access token,
 * and no operator account of its own (so do not register an operator with this id: its commands
 * would read the same in an alarm's history).
 */
export const CONSOLE_OPERATOR = 'console';

/** In-flight batches get this long to finish on stop (Ctrl-C must exit within 2 s). */
const DRAIN_TIMEOUT_MS = 1_200;

export const DATA_FILES = {
  devices: 'devices.db',
  stream: 'stream.db',
  store: 'store.db',
} as const;

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir);
  const consumersMode = options.consumers ?? (options.clock === undefined ? 'worker' : 'in-process');
  if (consumersMode === 'worker' && options.clock !== undefined) {
    throw new ConfigError("startLocalStack: a custom clock needs consumers: 'in-process' (a function cannot cross to the worker thread)");
  }
  mkdirSync(dataDir, { recursive: true });
  const { log } = options;
  const clock = options.clock ?? systemClock;
  const files = openDataFiles(dataDir, options, clock);
  const { registry, stream, store } = files;
  const freeSpace = await startFreeSpaceGuard(dataDir, options, files);

  const broker = createBroker({
    registry,
    log,
    onTelemetry: telemetryIntake(stream, freeSpace, log),
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
    ...(options.maxUnauthenticated === undefined ? {} : { maxUnauthenticated: options.maxUnauthenticated }),
  });
  const ports = await broker.listen({
    host: options.host ?? '127.0.0.1',
    mqttPort: options.mqttPort ?? 1883,
    ...(options.wsPort === null ? {} : { wsPort: options.wsPort ?? 8083 }),
  });
  const consumers = await startConsumers({ mode: consumersMode, files, broker, freeSpace, options, clock });

  const commands = wireAlarmCommands(broker, consumers, options, clock);
  const checkSilence = () => consumers.checkSilence();
  const offlineTimer = setInterval(() => {
    checkSilence().catch((error: unknown) => log.error('offline check failed', { error: String(error) }));
  }, options.offlineCheckIntervalMs ?? pipeline.offlineCheck.everyMinutes * 60_000);
  offlineTimer.unref();
  // The rules in force on this thread (the console reads them); the consumers hold their own.
  const rulesInForce = new SwappableThresholds(options.thresholds);
  const reload = options.thresholdsFile === undefined ? undefined : watchThresholds(options.thresholdsFile, options, consumers, rulesInForce);

  let consoleServer: ConsoleServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // First, so no page reads a store being closed.
      await consoleServer?.close();
      await reload?.close();
      clearInterval(offlineTimer);
      freeSpace?.stop();
      await broker.close();
      // A record that keeps failing must not hold the shutdown: its checkpoint stays, the next start retries it.
      await consumers.stop({ drainTimeoutMs: DRAIN_TIMEOUT_MS });
      await closeDataFiles(files);
    })());

  try {
    consoleServer = await startStackConsole({ options, files, consumers, rulesInForce, commands, freeSpace, broker, clock });
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    mqttPort: ports.mqttPort,
    wsPort: ports.wsPort,
    dataDir,
    metrics: consumers.metrics,
    stream,
    store,
    registry,
    httpPort: consoleServer?.port,
    consoleUrl: consoleServer?.url,
    consoleToken: consoleServer?.token,
    freeSpace,
    thresholds: () => rulesInForce.current(),
    brokerStats: () => broker.stats(),
    whenIdle: (idleOptions) => consumers.whenIdle(idleOptions),
    checkSilence,
    sendAlarmCommand: commands.sendAlarmCommand,
    commandsSettled: commands.settled,
    stop,
  };
}

/** The consumers, started; everything opened before them is closed if they cannot start. */
async function startConsumers(parts: {
  readonly mode: ConsumersMode;
  readonly files: DataFiles;
  readonly broker: Broker;
  readonly freeSpace: FreeSpaceGuard | undefined;
  readonly options: LocalStackOptions;
  readonly clock: Clock;
}): Promise<ConsumerHost> {
  const { files, broker, options } = parts;
  try {
    return await startConsumerHost({
      mode: parts.mode,
      stream: files.stream,
      store: files.store,
      thresholds: options.thresholds,
      ...(options.webhookUrl === undefined ? {} : { webhookUrl: options.webhookUrl }),
      publish: (topic, payload) => broker.publish(topic, payload, { qos: 1 }),
      log: options.log,
      clock: parts.clock,
      ...(options.onIngestBatch === undefined ? {} : { onIngestBatch: options.onIngestBatch }),
    });
  } catch (error) {
    parts.freeSpace?.stop();
    await broker.close();
    await closeDataFiles(files);
    throw error;
  }
}

/** Each valid change of the thresholds file goes to the consumers first, then to what this thread reads (the console). */
function watchThresholds(file: string, options: LocalStackOptions, consumers: ConsumerHost, rulesInForce: SwappableThresholds): ThresholdsReload {
  return startThresholdsReload({
    file,
    rules: options.thresholds,
    log: options.log,
    apply: async (rules) => {
      await consumers.replaceRules(rules);
      rulesInForce.replace(rules);
    },
  });
}

/** The console (the fleet dashboard), unless the options leave it off. */
async function startStackConsole(parts: {
  readonly options: LocalStackOptions;
  readonly files: DataFiles;
  readonly consumers: ConsumerHost;
  readonly rulesInForce: SwappableThresholds;
  readonly commands: AlarmCommandPath;
  readonly freeSpace: FreeSpaceGuard | undefined;
  readonly broker: Broker;
  readonly clock: Clock;
}): Promise<ConsoleServer | undefined> {
  const { options, files, freeSpace, broker } = parts;
  if (options.httpPort === undefined || options.httpPort === null) return undefined;
  return startConsole({
    store: files.store,
    stream: files.stream,
    registry: files.registry,
    metrics: parts.consumers.metrics,
    thresholds: parts.rulesInForce,
    port: options.httpPort,
    log: options.log,
    clock: parts.clock,
    sendAlarmCommand: (deviceId, command) => parts.commands.sendAlarmCommand(deviceId, command, { by: CONSOLE_OPERATOR }),
    intake: () => intakeStatus(freeSpace?.stats(), broker.stats()),
    ...(options.consoleToken === undefined ? {} : { token: options.consoleToken }),
  });
}

interface DataFiles {
  readonly registry: DeviceRegistry;
  readonly stream: LocalStream;
  readonly store: SqliteStore;
}

function openDataFiles(dataDir: string, options: LocalStackOptions, clock: Clock): DataFiles {
  const registry = DeviceRegistry.open(join(dataDir, DATA_FILES.devices));
  const stream = LocalStream.open({
    file: join(dataDir, DATA_FILES.stream),
    streamName: pipeline.stream.name,
    shardCount: options.shardCount ?? pipeline.stream.shardCount,
    retentionHours: pipeline.stream.retentionHours,
    durability: options.durability ?? 'full',
    clock,
  });
  // With durability 'full' a published alarm transition survives power loss too (its state is fsynced first).
  const store = SqliteStore.open(join(dataDir, DATA_FILES.store), { durableNotifications: (options.durability ?? 'full') === 'full' });
  return { registry, stream, store };
}

async function closeDataFiles({ registry, stream, store }: DataFiles): Promise<void> {
  await stream.close();
  store.close();
  registry.close();
}

/** The free-space headroom, started (undefined when disabled); the files are closed if it cannot start. */
async function startFreeSpaceGuard(dataDir: string, options: LocalStackOptions, files: DataFiles): Promise<FreeSpaceGuard | undefined> {
  const minFreeBytes = options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES;
  if (minFreeBytes <= 0) return undefined;
  const freeSpace = new FreeSpaceGuard({
    dir: dataDir,
    minFreeBytes,
    log: options.log,
    ...(options.freeSpaceProbe === undefined ? {} : { probe: options.freeSpaceProbe }),
    ...(options.freeSpaceCheckMs === undefined ? {} : { checkIntervalMs: options.freeSpaceCheckMs }),
  });
  try {
    await freeSpace.start();
  } catch (error) {
    await closeDataFiles(files);
    throw error;
  }
  return freeSpace;
}

/** What the broker does with a telemetry message: the free-space guard, then the rule action. */
function telemetryIntake(stream: LocalStream, freeSpace: FreeSpaceGuard | undefined, log: Log): BrokerOptions['onTelemetry'] {
  const ruleAction = makeKinesisRuleAction({ sql: pipeline.rule.sql, partitionKey: pipeline.rule.partitionKey, stream, log });
  if (freeSpace === undefined) return ruleAction;
  // Refused before the rule and the append: the broker closes the connection without PUBACK.
  return (message: RuleMessage) => {
    const refusal = freeSpace.admit(message.payload.length);
    if (refusal !== undefined) throw refusal;
    return ruleAction(message);
  };
}

interface AlarmCommandPath {
  readonly sendAlarmCommand: LocalStack['sendAlarmCommand'];
  readonly settled: LocalStack['commandsSettled'];
}

/**
 * The command rule and its Lambda action: every PUBLISH the broker routed from a client (the ACL has
 * let only operators publish on the command topics) is evaluated, after its PUBACK, as IoT Core's
 * rules engine does; replies the stack publishes are handed to whoever waits for them.
 */
function wireAlarmCommands(broker: Broker, consumers: ConsumerHost, options: LocalStackOptions, clock: Clock): AlarmCommandPath {
  const commandAction = makeLambdaRuleAction<AlarmCommandEnvelope>({
    sql: pipeline.commandRule.sql,
    invoke: (event) => consumers.applyAlarmCommand(event),
    functionName: `${pipeline.name}-alarm-commands`,
    log: options.log,
    clock,
    ...(options.commandRetryDelaysMs === undefined ? {} : { retryDelaysMs: options.commandRetryDelaysMs }),
  });
  const commandPrefix = pipeline.topics.commands.replace('{deviceId}', '');
  const replyWaiters = new CommandReplyWaiters();
  broker.aedes.on('publish', (packet, client) => {
    // Every telemetry message passes here too: one prefix check keeps that cheap.
    if (!packet.topic.startsWith(commandPrefix)) return;
    if (client) commandAction.route({ topic: packet.topic, payload: packet.payload as Buffer, clientId: client.id });
    else replyWaiters.offer(packet.topic, packet.payload as Buffer);
  });
  return {
    sendAlarmCommand(deviceId, command, sendOptions) {
      const { clientToken, reply } = replyWaiters.expect(deviceId, command, sendOptions.timeoutMs);
      const payload = Buffer.from(JSON.stringify({ ...command, clientToken }));
      commandAction.route({ topic: commandTopic(deviceId), payload, clientId: sendOptions.by });
      return reply;
    },
    settled: () => commandAction.settled(),
  };
}
