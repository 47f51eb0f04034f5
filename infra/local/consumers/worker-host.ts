/**
 * The consumers in a worker thread (worker.ts), seen from the stack's thread: starts it, hands it each
 * commit's records, does what it asks (save checkpoints and failure entries, publish on the broker,
 * log, mirror its counters), restarts it at its checkpoints if it dies, and stops it.
 */
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import { BrokerNotifier } from '../../../lambdas/adapters/local/broker-notifier.js';
import { BrokerCommandReplies } from '../../../lambdas/adapters/local/broker-command-replies.js';
import type { AlarmCommandEnvelope } from '../../../lambdas/alarm-commands/alarm-commands-handler.js';
import { EventSourceMappingNotIdleError } from '../event-source/index.js';
import { unhandled } from './channel.js';
import { CONSUMERS } from './compose.js';
import type { ConsumerHost, ConsumerHostOptions } from './host.js';
import { MirroredMetrics } from './metrics-view.js';
import { hostEnd } from './protocol.js';
import type { HostInbox, HostEnd, SilenceCheckSummary, WorkerConfig } from './protocol.js';
import { startModuleWorker } from './ts-worker.js';
import { packRecords } from './record-batch.js';
import { ConsumersWorkerError } from './errors.js';

export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
/** After an unexpected exit the worker is started again (it resumes at its checkpoints) this much later. */
const RESTART_DELAY_MS = 1_000;

interface RunningWorker {
  readonly worker: Worker;
  readonly channel: HostEnd;
}

/** One start of the worker: whether it said it was ready, why it failed, the rules it started with. */
interface Attempt extends RunningWorker {
  started: boolean;
  failure: string;
  readonly rules: ThresholdRules;
}

export async function startWorkerHost(options: ConsumerHostOptions): Promise<ConsumerHost> {
  const host = new WorkerHost(options);
  await host.start();
  return host;
}

class WorkerHost implements ConsumerHost {
  readonly metrics = new MirroredMetrics();
  private readonly brokerNotifier: BrokerNotifier;
  private readonly commandReplies: BrokerCommandReplies;
  /** What the worker has handed over, per consumer and shard: the stack's view of its progress. */
  private readonly progress = new Map<string, number>();
  /** The rules in force: a worker (re)started gets these. */
  private rules: ThresholdRules;
  private current: RunningWorker | undefined;
  private stopping = false;
  private unsubscribe: () => void = () => undefined;

  constructor(private readonly options: ConsumerHostOptions) {
    this.brokerNotifier = new BrokerNotifier(options.publish);
    this.commandReplies = new BrokerCommandReplies(options.publish);
    this.rules = options.thresholds;
    const { stream } = options;
    for (const consumer of CONSUMERS) {
      for (const { shardId } of stream.shards) this.progress.set(`${consumer} ${shardId}`, Number(stream.getCheckpoint(consumer, shardId) ?? 0));
    }
  }

  async start(): Promise<void> {
    await this.spawn();
    // Each commit's records go to the worker as they are committed, so the consumers rarely read them back from the file.
    this.unsubscribe = this.options.stream.onCommit((records) => {
      if (this.current === undefined) return;
      const { packed, transfer } = packRecords(records);
      this.current.channel.emit({ kind: 'appended', records: packed }, transfer);
    });
  }

  async whenIdle(o: { readonly timeoutMs?: number } = {}): Promise<void> {
    const deadline = performance.now() + (o.timeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    for (;;) {
      const late = this.behind();
      if (late.length === 0) break;
      if (performance.now() > deadline) throw new EventSourceMappingNotIdleError(`consumers are not idle: ${late.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await this.options.stream.commitQueued();
  }

  async checkSilence(): Promise<SilenceCheckSummary> {
    return this.running().channel.call('checkSilence', {});
  }

  async applyAlarmCommand(event: AlarmCommandEnvelope): Promise<void> {
    await this.running().channel.call('alarmCommand', { event });
  }

  async replaceRules(rules: ThresholdRules): Promise<void> {
    this.rules = rules;
    const running = this.current;
    // Not running (restarting): the next worker starts with them.
    if (running === undefined) return;
    try {
      await running.channel.call('rulesChanged', { rules });
    } catch (error) {
      // The worker exited meanwhile: the next one starts with them.
      if (this.current === running) throw error;
    }
  }

  async stop({ drainTimeoutMs }: { readonly drainTimeoutMs: number }): Promise<void> {
    this.stopping = true;
    this.unsubscribe();
    const running = this.current;
    if (running === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        running.channel.call('stop', { drainTimeoutMs }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new ConsumersWorkerError('the consumers worker did not stop in time')), drainTimeoutMs + 500);
        }),
      ]);
    } catch (error) {
      this.options.log.warn('consumers worker stopped without a clean drain; unsaved progress is delivered again at the next start', { error: String(error) });
    } finally {
      clearTimeout(timer);
    }
    await running.worker.terminate();
    await this.options.stream.commitQueued();
  }

  private running(): RunningWorker {
    if (this.current === undefined) throw new ConsumersWorkerError('the consumers worker is not running (restarting)');
    return this.current;
  }

  private workerConfig(): WorkerConfig {
    const { options } = this;
    return {
      streamFile: options.stream.file,
      storeFile: options.store.file,
      durableNotifications: options.store.durableNotifications,
      thresholds: this.rules,
      ...(options.webhookUrl === undefined ? {} : { webhookUrl: options.webhookUrl }),
      reportIngestBatches: options.onIngestBatch !== undefined,
    };
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const entry = this.options.workerEntry ?? new URL(`./worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
      const config = this.workerConfig();
      const worker = startModuleWorker(entry, { workerData: config });
      const channel: HostEnd = hostEnd(worker, (message) => this.receive(message, channel, () => this.ready(attempt, resolve)));
      const attempt: Attempt = { worker, channel, started: false, failure: '', rules: config.thresholds };
      worker.on('error', (error) => {
        attempt.failure = error instanceof Error ? error.message : String(error);
        this.options.log.error('consumers worker failed', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      });
      worker.once('exit', (code) => this.exited(attempt, code, reject));
    });
  }

  private ready(attempt: Attempt, resolve: () => void): void {
    attempt.started = true;
    this.current = attempt;
    // The rules changed while it started: it has the ones in force when it was started.
    if (attempt.rules !== this.rules) this.replaceRules(this.rules).catch(() => undefined);
    resolve();
  }

  /** Everything the worker sends, by kind. */
  private receive(message: HostInbox, channel: HostEnd, ready: () => void): void {
    const { stream, log } = this.options;
    switch (message.kind) {
      case 'ready':
        return ready();
      case 'checkpoint': {
        const { consumer, shardId, sequenceNumber } = message;
        const key = `${consumer} ${shardId}`;
        this.progress.set(key, Math.max(this.progress.get(key) ?? 0, Number(sequenceNumber)));
        return this.keep('checkpoint', () => stream.queueCheckpoint(consumer, shardId, sequenceNumber));
      }
      case 'failure':
        return this.keep('failure entry', () => stream.queueFailure(message.consumer, message.entry));
      case 'log':
        return log[message.level](message.message, message.extra);
      case 'metrics':
        return this.metrics.replace(message.counters);
      case 'ingestBatch':
        return this.options.onIngestBatch?.(message.batch);
      case 'notify':
        return channel.answer(message, async () => {
          await this.brokerNotifier.notify(message.events);
          return null;
        });
      case 'commandReply':
        return channel.answer(message, async () => {
          await this.commandReplies.publishReply(message.deviceId, message.outcome, message.body);
          return null;
        });
      default:
        return unhandled(message);
    }
  }

  /**
   * A write the stream refuses (it closed while a late message was on its way) must not throw out of
   * the message handler and end the process: the consumer's records come again after a restart.
   */
  private keep(what: string, write: () => void): void {
    try {
      write();
    } catch (error) {
      this.options.log.warn(`consumers worker's ${what} was not saved; its records will be delivered again`, { error: String(error) });
    }
  }

  private exited(attempt: Attempt, code: number, reject: (error: Error) => void): void {
    const { log } = this.options;
    attempt.channel.failPending(`consumers worker exited with code ${code}`);
    if (!attempt.started) {
      reject(new ConsumersWorkerError(`the consumers' worker thread exited with code ${code} before starting${attempt.failure === '' ? '' : `: ${attempt.failure}`}`));
      return;
    }
    if (this.current === attempt) this.current = undefined;
    if (this.stopping) return;
    this.metrics.carryOver();
    log.error('consumers worker exited unexpectedly; restarting it at its checkpoints', { code, restartInMs: RESTART_DELAY_MS });
    setTimeout(() => {
      if (this.stopping) return;
      this.spawn().catch((error: unknown) => log.error('consumers worker did not restart', { error: String(error) }));
    }, RESTART_DELAY_MS).unref();
  }

  /** Each consumer and shard whose handed-over progress is behind the shard's newest record. */
  private behind(): string[] {
    const { stream } = this.options;
    const late: string[] = [];
    for (const consumer of CONSUMERS) {
      for (const { shardId } of stream.shards) {
        const at = this.progress.get(`${consumer} ${shardId}`) ?? 0;
        const latest = Number(stream.latestSequenceNumber(shardId) ?? 0);
        if (at < latest) late.push(`${consumer} on ${shardId} at ${at} of ${latest}`);
      }
    }
    return late;
  }
}
