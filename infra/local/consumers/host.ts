/**
 * Runs the consumers for the stack: by default in a worker thread (worker-host.ts, worker.ts), so that
 * on a machine with two cores the broker's thread and the consumers each have one; or in the stack's
 * own thread (a custom clock cannot cross to a worker, and a debugger is simpler with one thread).
 * Either way the same composition (compose.ts) runs, and the stack sees one interface.
 */
import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import type { Clock } from '../../../lambdas/ports/clock.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import type { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import type { PublishFn } from '../../../lambdas/adapters/local/broker-notifier.js';
import { BrokerNotifier } from '../../../lambdas/adapters/local/broker-notifier.js';
import { BrokerCommandReplies } from '../../../lambdas/adapters/local/broker-command-replies.js';
import type { AlarmCommandEnvelope } from '../../../lambdas/alarm-commands/alarm-commands-handler.js';
import { CounterMetrics } from '../../../lambdas/adapters/local/observability.js';
import type { LocalStream } from '../stream/index.js';
import { SwappableThresholds } from '../thresholds/swappable-thresholds.js';
import { composeConsumers, CONSUMERS } from './compose.js';
import { resumeFromStore } from './positions.js';
import type { IngestBatchCommitted } from './compose.js';
import type { MetricsView } from './metrics-view.js';
import type { SilenceCheckSummary } from './protocol.js';
import { DEFAULT_IDLE_TIMEOUT_MS, startWorkerHost } from './worker-host.js';

export type ConsumersMode = 'worker' | 'in-process';

export interface ConsumerHostOptions {
  readonly mode: ConsumersMode;
  /** The stack's stream: its thread owns the file's writes. */
  readonly stream: LocalStream;
  /** The stack's store connection (in-process mode writes through it; the worker opens its own). */
  readonly store: SqliteStore;
  /** The rules in force at start (replaceRules changes them). */
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
  checkSilence(): Promise<SilenceCheckSummary>;
  /** Runs the alarm-commands handler on one command rule event; rejects on a function error (the caller retries). */
  applyAlarmCommand(event: AlarmCommandEnvelope): Promise<void>;
  /** Puts `rules` in force for every invocation that starts once this resolves (one in flight finishes under the old ones). */
  replaceRules(rules: ThresholdRules): Promise<void>;
  /** Drains for at most `drainTimeoutMs`, saves the checkpoints, stops. */
  stop(options: { readonly drainTimeoutMs: number }): Promise<void>;
}

export async function startConsumerHost(options: ConsumerHostOptions): Promise<ConsumerHost> {
  // Before any consumer reads its checkpoint: replay what store.db lost to a power cut.
  resumeFromStore(options.stream, options.store, CONSUMERS, options.log);
  return options.mode === 'in-process' ? startInProcess(options) : startWorkerHost(options);
}

function startInProcess(options: ConsumerHostOptions): ConsumerHost {
  const metrics = new CounterMetrics();
  const rules = new SwappableThresholds(options.thresholds);
  const consumers = composeConsumers({
    stream: options.stream,
    store: options.store,
    rules,
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
    replaceRules: async (next) => rules.replace(next),
    stop: (o) => consumers.stop(o),
  };
}
