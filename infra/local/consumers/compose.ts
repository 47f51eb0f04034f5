/**
 * The consumers' composition: the two event source mappings with their handlers, the silent-device
 * check and the alarm notifiers, over a store and a ConsumerStream. One function, so the consumers'
 * worker thread (worker.ts) and the in-process mode (a custom clock, or debugging) wire the very same
 * parts, and both wire them as the AWS stack does.
 */
import { pipeline } from '../../pipeline.js';
import type { Reading } from '../../../lambdas/domain/model.js';
import type { RulesInForce } from '../../../lambdas/ports/thresholds-source.js';
import type { Clock } from '../../../lambdas/ports/clock.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import type { TimeSeriesStore, WriteOutcome } from '../../../lambdas/ports/time-series-store.js';
import { makeIngestHandler } from '../../../lambdas/ingest/ingest-handler.js';
import { makeAlarmsHandler } from '../../../lambdas/alarms/alarms-handler.js';
import { makeOfflineHandler } from '../../../lambdas/offline/offline-handler.js';
import { makeAlarmCommandsHandler } from '../../../lambdas/alarm-commands/alarm-commands-handler.js';
import type { AlarmCommandEnvelope } from '../../../lambdas/alarm-commands/alarm-commands-handler.js';
import type { CommandReplies } from '../../../lambdas/ports/command-replies.js';
import { fanOutNotifier } from '../../../lambdas/adapters/fan-out-notifier.js';
import type { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import type { AlarmNotifier } from '../../../lambdas/ports/alarm-notifier.js';
import { WebhookNotifier } from '../../../lambdas/adapters/local/webhook-notifier.js';
import type { CounterMetrics } from '../../../lambdas/adapters/local/observability.js';
import type { ConsumerStream } from '../event-source/index.js';
import { EventSourceMapping } from '../event-source/index.js';
import { PositionRecordingStream } from './positions.js';
import type { SilenceCheckSummary } from './protocol.js';

/** The consumers whose checkpoints the stack keeps (pipeline.consumers). */
export const CONSUMERS = ['ingest', 'alarms'] as const;

/** One committed write of the ingest consumer: what a benchmark needs to time storage, and nothing else. */
export interface IngestBatchCommitted {
  /** Epoch ms when the write returned (its transaction had committed). */
  readonly committedAt: number;
  readonly stored: number;
  /** `ts` of each reading stored by the write. */
  readonly readingTimes: readonly number[];
}

export interface ConsumersOptions {
  readonly stream: ConsumerStream;
  readonly store: SqliteStore;
  /** The rules in force, read once per invocation (a swappable source: the thresholds file may change). */
  readonly rules: RulesInForce;
  /** Alarm events go out on the embedded broker through this (a BrokerNotifier, or the worker's proxy of one). */
  readonly brokerNotifier: AlarmNotifier;
  /** Alarm command replies go out on the embedded broker through this (a BrokerCommandReplies, or the worker's proxy of one). */
  readonly commandReplies: CommandReplies;
  readonly webhookUrl?: string;
  readonly metrics: CounterMetrics;
  readonly log: Log;
  readonly clock: Clock;
  /** Called after each ingest write commits (benchmarks time storage with it). */
  readonly onIngestBatch?: (batch: IngestBatchCommitted) => void;
}

export interface Consumers {
  start(): void;
  /** Runs the silent-device check once (it also sends reminders and ends snoozes). */
  checkSilence(): Promise<SilenceCheckSummary>;
  /** Runs the alarm-commands handler on one event of the command rule (the local Lambda action). */
  applyAlarmCommand(event: AlarmCommandEnvelope): Promise<void>;
  /** Drains in-flight batches for at most `drainTimeoutMs`, saves the checkpoints, stops. */
  stop(options: { readonly drainTimeoutMs: number }): Promise<void>;
  /** Resolves once both mappings have caught up with the newest records. */
  whenIdle(options: { readonly timeoutMs: number }): Promise<void>;
}

export function composeConsumers(options: ConsumersOptions): Consumers {
  const { stream, store, metrics, log, clock } = options;
  const notifiers = [store.alarmLog, options.brokerNotifier];
  if (options.webhookUrl !== undefined) notifiers.push(new WebhookNotifier({ url: options.webhookUrl }));
  // The store's writes of one invocation share one transaction (commitBefore: the alarm log and store
  // are committed before anything leaves the process), instead of one commit per device.
  const notifier = store.commitBefore(fanOutNotifier(notifiers));
  const observed = options.onIngestBatch === undefined ? undefined : observeWrites(store.timeSeries, options.onIngestBatch);

  // Each checkpoint is also kept in store.db, after the writes it passes (see resumeFromStore).
  const positioned = new PositionRecordingStream(stream, store);
  const ingest = new EventSourceMapping({
    consumer: 'ingest',
    stream: positioned,
    settings: pipeline.consumers.ingest,
    functionName: `${pipeline.name}-ingest`,
    handler: reportAfterCommit(
      store.groupWrites(makeIngestHandler({ store: observed?.store ?? store.timeSeries, rejects: store.rejects, clock, metrics, log })),
      observed,
    ),
    log,
    clock,
  });
  const alarms = new EventSourceMapping({
    consumer: 'alarms',
    stream: positioned,
    settings: pipeline.consumers.alarms,
    functionName: `${pipeline.name}-alarms`,
    handler: store.groupWrites(makeAlarmsHandler({ rules: options.rules, states: store.alarmStates, notifier, clock, metrics, log })),
    log,
    clock,
  });
  const offline = makeOfflineHandler({ rules: options.rules, states: store.alarmStates, notifier, clock, metrics, log });
  let offlineRun: Promise<unknown> = Promise.resolve();
  // The command handler shares this thread's store connection with the alarms consumer and the
  // offline check: a command racing them is settled by the same conditional writes and outbox lease.
  // Its reply, like its transitions, leaves the process only once its writes are committed (and, with
  // durability 'full', fsynced: a power cut cannot take back a command the operator was told of).
  const replies = options.commandReplies;
  const applyAlarmCommand = store.groupWrites(
    makeAlarmCommandsHandler({
      rules: options.rules,
      states: store.alarmStates,
      notifier,
      history: store.alarmHistory,
      replies: {
        publishReply: async (deviceId, outcome, body) => {
          await store.commitDurably();
          await replies.publishReply(deviceId, outcome, body);
        },
      },
      metrics,
      log,
      clock,
    }),
  );
  const commandsInFlight = new Set<Promise<unknown>>();

  return {
    start() {
      ingest.start();
      alarms.start();
    },
    checkSilence() {
      const run = offline({});
      offlineRun = run.catch(() => undefined);
      return run;
    },
    applyAlarmCommand(event) {
      const run = applyAlarmCommand(event);
      const settled = run.catch(() => undefined);
      commandsInFlight.add(settled);
      void settled.finally(() => commandsInFlight.delete(settled));
      return run;
    },
    async stop({ drainTimeoutMs }) {
      // A record that keeps failing must not hold the shutdown: its checkpoint stays, the next start retries it.
      await Promise.all([ingest.stop({ drain: true, drainTimeoutMs }), alarms.stop({ drain: true, drainTimeoutMs })]);
      await Promise.all([offlineRun, ...commandsInFlight]);
    },
    async whenIdle({ timeoutMs }) {
      await Promise.all([ingest.whenIdle({ timeoutMs }), alarms.whenIdle({ timeoutMs })]);
    },
  };
}

interface ObservedWrites {
  readonly store: TimeSeriesStore;
  /** Reports the writes made since the last call (their transaction has committed), or forgets them. */
  settle(committed: boolean): void;
}

/** Notes each write's readings; `settle` reports them once the invocation's grouped transaction has committed. */
function observeWrites(store: TimeSeriesStore, observer: (batch: IngestBatchCommitted) => void): ObservedWrites {
  let pending: { stored: number; readingTimes: number[] }[] = [];
  return {
    store: {
      maxReadingsPerWrite: store.maxReadingsPerWrite,
      async write(readings: readonly Reading[]): Promise<WriteOutcome> {
        const outcome = await store.write(readings);
        const refused = new Set(outcome.rejected.map((r) => r.index));
        pending.push({ stored: readings.length - refused.size, readingTimes: readings.filter((_, i) => !refused.has(i)).map((r) => r.ts) });
        return outcome;
      },
    },
    settle(committed) {
      const writes = pending;
      pending = [];
      if (!committed || writes.length === 0) return;
      observer({ committedAt: Date.now(), stored: writes.reduce((n, w) => n + w.stored, 0), readingTimes: writes.flatMap((w) => w.readingTimes) });
    },
  };
}

/** The handler, then the observed writes reported (the grouped transaction commits before the handler settles). */
function reportAfterCommit<E, R>(handler: (event: E) => Promise<R>, observed: ObservedWrites | undefined): (event: E) => Promise<R> {
  if (observed === undefined) return handler;
  return async (event) => {
    try {
      const result = await handler(event);
      observed.settle(true);
      return result;
    } catch (error) {
      // Not reported: a retry stores (and reports) the batch again.
      observed.settle(false);
      throw error;
    }
  };
}
