/**
 * Runs the consumers for the stack: by default in a worker thread (worker.ts), so that on a machine
 * with two cores the broker's thread and the consumers each have one; or in the stack's own thread
 * (a custom clock cannot cross to a worker, and a debugger is simpler with one thread). Either way the
 * same composition (compose.ts) runs, and the stack sees one interface.
 */
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import type { Clock } from '../../../lambdas/ports/clock.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import type { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import type { PublishFn } from '../../../lambdas/adapters/local/broker-notifier.js';
import { BrokerNotifier } from '../../../lambdas/adapters/local/broker-notifier.js';
import { BrokerCommandReplies } from '../../../lambdas/adapters/local/broker-command-replies.js';
import type { AlarmCommandEnvelope } from '../../../lambdas/alarm-commands/alarm-commands-handler.js';
import type { AlarmEvent } from '../../../lambdas/domain/model.js';
import { CounterMetrics } from '../../../lambdas/adapters/local/observability.js';
import { EventSourceMappingNotIdleError } from '../event-source/index.js';
import type { LocalStream } from '../stream/index.js';
import { Channel } from './channel.js';
import { composeConsumers, CONSUMERS } from './compose.js';
import { resumeFromStore } from './positions.js';
import type { IngestBatchCommitted } from './compose.js';
import type { MetricsView } from './metrics-view.js';
import { MirroredMetrics } from './metrics-view.js';
import { CALLS, EVENTS } from './protocol.js';
import type { CheckpointEvent, CommandReplyCall, FailureEvent, LogEvent, WorkerConfig } from './protocol.js';
import { startModuleWorker } from './ts-worker.js';
import { packRecords } from './record-batch.js';
import { ConsumersWorkerError } from './errors.js';

export type ConsumersMode = 'worker' | 'in-process';

export interface ConsumerHostOptions {
  readonly mode: ConsumersMode;
  /** The stack's stream: its thread owns the file's writes. */
  readonly stream: LocalStream;
  /** The stack's store connection (in-process mode writes through it; the worker opens its own). */
  readonly store: SqliteStore;
  readonly thresholds: ThresholdRules;
  readonly webhookUrl?: string;
  /** Publishes an alarm event or a command reply on the embedded broker. */
  readonly publish: PublishFn;
  readonly log: Log;
  /** In-process mode only. */
  readonly clock: Clock;
  readonly onIngestBatch?: (batch: IngestBatchCommitted) => void;
  /** The worker's entry module. @default ./worker.ts (a test passes one that starts it and then fails) */
  readonly workerEntry?: URL;
}

export interface ConsumerHost {
  readonly metrics: MetricsView;
  /** Resolves once both consumers have caught up with everything appended so far (their checkpoints saved). */
  whenIdle(options?: { readonly timeoutMs?: number }): Promise<void>;
  checkSilence(): Promise<{ checked: number; raised: number }>;
  /** Runs the alarm-commands handler on one command rule event; rejects on a function error (the caller retries). */
  applyAlarmCommand(event: AlarmCommandEnvelope): Promise<void>;
  /** Drains for at most `drainTimeoutMs`, saves the checkpoints, stops. */
  stop(options: { readonly drainTimeoutMs: number }): Promise<void>;
}

const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
/** After an unexpected exit the worker is started again (it resumes at its checkpoints) this much later. */
const RESTART_DELAY_MS = 1_000;

export async function startConsumerHost(options: ConsumerHostOptions): Promise<ConsumerHost> {
  // Before any consumer reads its checkpoint: replay what store.db lost to a power cut.
  resumeFromStore(options.stream, options.store, CONSUMERS, options.log);
  return options.mode === 'in-process' ? startInProcess(options) : startInWorker(options);
}

function startInProcess(options: ConsumerHostOptions): ConsumerHost {
  const metrics = new CounterMetrics();
  const consumers = composeConsumers({
    stream: options.stream,
    store: options.store,
    thresholds: options.thresholds,
    brokerNotifier: new BrokerNotifier(options.publish),
    commandReplies: new BrokerCommandReplies(options.publish),
    ...(options.webhookUrl === undefined ? {} : { webhookUrl: options.webhookUrl }),
    metrics,
    log: options.log,
    clock: options.clock,
    ...(options.onIngestBatch === undefined ? {} : { onIngestBatch: options.onIngestBatch }),
  });
  consumers.start();
  return {
    metrics,
    whenIdle: (o = {}) => consumers.whenIdle({ timeoutMs: o.timeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS }),
    checkSilence: () => consumers.checkSilence(),
    applyAlarmCommand: (event) => consumers.applyAlarmCommand(event),
    stop: (o) => consumers.stop(o),
  };
}

async function startInWorker(options: ConsumerHostOptions): Promise<ConsumerHost> {
  const { stream, log } = options;
  const metrics = new MirroredMetrics();
  const brokerNotifier = new BrokerNotifier(options.publish);
  const commandReplies = new BrokerCommandReplies(options.publish);
  // What the worker has handed over, per consumer and shard: the stack's view of its progress.
  const progress = new Map<string, number>();
  for (const consumer of CONSUMERS) {
    for (const { shardId } of stream.shards) progress.set(`${consumer} ${shardId}`, Number(stream.getCheckpoint(consumer, shardId) ?? 0));
  }
  const config: WorkerConfig = {
    streamFile: stream.file,
    storeFile: options.store.file,
    durableNotifications: options.store.durableNotifications,
    thresholds: options.thresholds,
    ...(options.webhookUrl === undefined ? {} : { webhookUrl: options.webhookUrl }),
    reportIngestBatches: options.onIngestBatch !== undefined,
  };

  let stopping = false;
  let current: { worker: Worker; channel: Channel } | undefined;
  // A write the stream refuses (it closed while a late message was on its way) must not throw out of
  // the message handler and end the process: the consumer's records come again after a restart.
  const keep = (what: string, write: () => void): void => {
    try {
      write();
    } catch (error) {
      log.warn(`consumers worker's ${what} was not saved; its records will be delivered again`, { error: String(error) });
    }
  };

  const spawn = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const entry = options.workerEntry ?? new URL(`./worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
      const worker = startModuleWorker(entry, { workerData: config });
      const channel = new Channel(worker);
      let started = false;
      let failure = '';
      channel.onEvent(EVENTS.ready, () => {
        started = true;
        current = { worker, channel };
        resolve();
      });
      channel.onEvent(EVENTS.checkpoint, (data) => {
        const { consumer, shardId, sequenceNumber } = data as CheckpointEvent;
        const key = `${consumer} ${shardId}`;
        progress.set(key, Math.max(progress.get(key) ?? 0, Number(sequenceNumber)));
        keep('checkpoint', () => stream.queueCheckpoint(consumer, shardId, sequenceNumber));
      });
      channel.onEvent(EVENTS.failure, (data) => {
        const { consumer, entry } = data as FailureEvent;
        keep('failure entry', () => stream.queueFailure(consumer, entry));
      });
      channel.onEvent(EVENTS.log, (data) => {
        const { level, message, extra } = data as LogEvent;
        log[level](message, extra);
      });
      channel.onEvent(EVENTS.metrics, (data) => metrics.replace(data as Record<string, number>));
      if (options.onIngestBatch !== undefined) {
        const observer = options.onIngestBatch;
        channel.onEvent(EVENTS.ingestBatch, (data) => observer(data as IngestBatchCommitted));
      }
      channel.onCall(CALLS.notify, (events) => brokerNotifier.notify(events as AlarmEvent[]));
      channel.onCall(CALLS.commandReply, (args) => {
        const { deviceId, outcome, body } = args as CommandReplyCall;
        return commandReplies.publishReply(deviceId, outcome, body);
      });
      worker.on('error', (error) => {
        failure = error instanceof Error ? error.message : String(error);
        log.error('consumers worker failed', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      });
      worker.once('exit', (code) => {
        channel.failPending(`consumers worker exited with code ${code}`);
        if (!started) {
          reject(new ConsumersWorkerError(`the consumers' worker thread exited with code ${code} before starting${failure === '' ? '' : `: ${failure}`}`));
          return;
        }
        if (current?.worker === worker) current = undefined;
        if (stopping) return;
        metrics.carryOver();
        log.error('consumers worker exited unexpectedly; restarting it at its checkpoints', { code, restartInMs: RESTART_DELAY_MS });
        setTimeout(() => {
          if (stopping) return;
          spawn().catch((error: unknown) => log.error('consumers worker did not restart', { error: String(error) }));
        }, RESTART_DELAY_MS).unref();
      });
    });

  await spawn();
  // Each commit's records go to the worker as they are committed, so the consumers rarely read them back from the file.
  const unsubscribe = stream.onCommit((records) => {
    if (current === undefined) return;
    const { packed, transfer } = packRecords(records);
    current.channel.emit(EVENTS.appended, packed, transfer);
  });

  const behind = (): string[] => {
    const late: string[] = [];
    for (const consumer of CONSUMERS) {
      for (const { shardId } of stream.shards) {
        const at = progress.get(`${consumer} ${shardId}`) ?? 0;
        const latest = Number(stream.latestSequenceNumber(shardId) ?? 0);
        if (at < latest) late.push(`${consumer} on ${shardId} at ${at} of ${latest}`);
      }
    }
    return late;
  };

  return {
    metrics,
    async whenIdle(o = {}) {
      const deadline = performance.now() + (o.timeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
      for (;;) {
        const late = behind();
        if (late.length === 0) break;
        if (performance.now() > deadline) throw new EventSourceMappingNotIdleError(`consumers are not idle: ${late.join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await stream.commitQueued();
    },
    async checkSilence() {
      if (current === undefined) throw new ConsumersWorkerError('the consumers worker is not running (restarting)');
      return current.channel.call<{ checked: number; raised: number }>(CALLS.checkSilence, null);
    },
    async applyAlarmCommand(event) {
      if (current === undefined) throw new ConsumersWorkerError('the consumers worker is not running (restarting)');
      await current.channel.call(CALLS.alarmCommand, event);
    },
    async stop({ drainTimeoutMs }) {
      stopping = true;
      unsubscribe();
      const running = current;
      if (running === undefined) return;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          running.channel.call(CALLS.stop, { drainTimeoutMs }),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new ConsumersWorkerError('the consumers worker did not stop in time')), drainTimeoutMs + 500);
          }),
        ]);
      } catch (error) {
        log.warn('consumers worker stopped without a clean drain; unsaved progress is delivered again at the next start', { error: String(error) });
      } finally {
        clearTimeout(timer);
      }
      await running.worker.terminate();
      await stream.commitQueued();
    },
  };
}
