/**
 * Our emulation of a Lambda event source mapping on a Kinesis stream, reading the local stream and
 * invoking a handler module in-process, with the settings object the CDK stack deploys.
 *
 * What it reproduces (Lambda developer guide: "Using Lambda with Kinesis", "Configuring partial batch
 * response", "Retain discarded batch records"; docs/aws-semantics.md section 3 links each page):
 * - batches of one shard only, up to BatchSize records and 6 MB of event; MaximumBatchingWindowInSeconds;
 * - ParallelizationFactor N: up to N batches of a shard at once, each partition key always in the same
 *   lane so its records stay in order ("Each parallelized shard contains messages with the same
 *   partition key. This means record processing order will still be maintained", AWS Compute Blog,
 *   "New AWS Lambda scaling controls for Kinesis and DynamoDB event sources");
 * - the shard checkpoint moves past a record only when every record before it is done;
 * - ReportBatchItemFailures, BisectBatchOnFunctionError, MaximumRetryAttempts, MaximumRecordAgeInSeconds,
 *   the on-failure destination (a table in stream.db);
 * - at-least-once: a crash between invoke and checkpoint re-delivers the batch.
 *
 * Choices where AWS is silent are marked "Choice:" and listed in docs/architecture.md.
 */
import { performance } from 'node:perf_hooks';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { EventSourceMappingSettings } from '../../pipeline.js';
import type { Clock } from '../../../lambdas/ports/clock.js';
import { systemClock } from '../../../lambdas/ports/clock.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import { silentLog } from '../../../lambdas/ports/observability.js';
import type { FailureCondition } from '../stream/index.js';
import type { ConsumerStream } from './consumer-stream.js';
import { FAILURE_CONDITION, formatSequenceNumber } from '../stream/index.js';
import { executionRoleArn, kinesisStreamArn, lambdaFunctionArn } from './arn.js';
import type { EventContext } from './event.js';
import { EventSizer, toKinesisStreamRecord } from './event.js';
import type { InvocationOutcome } from './response.js';
import { interpretResponse } from './response.js';
import { validateSettings } from './settings.js';
import { EventSourceMappingError, EventSourceMappingNotIdleError } from './errors.js';
import { decideOnFailure } from './failure-decision.js';
import { onFailureRecord } from './on-failure-record.js';
import { fillShard } from './shard-fill.js';
import type { ShardFillContext } from './shard-fill.js';
import { expiredPrefix, markDone, newShardState, nextBatchSize } from './shard-state.js';
import type { Batch, Held, Lane, ResponseContext, ShardState } from './shard-state.js';

export { laneOf } from './shard-state.js';

/** A Kinesis handler as Lambda calls it (the same modules as on AWS). */
export type KinesisBatchHandler = (
  event: KinesisStreamEvent,
) => Promise<KinesisStreamBatchResponse | void | null | undefined>;

interface EventSourceMappingOptions {
  /** The consumer's name: its checkpoints and failure entries are kept under it (e.g. 'ingest'). */
  readonly consumer: string;
  /** The stack's LocalStream, or the consumers' worker view of it. */
  readonly stream: ConsumerStream;
  /** The very object the CDK stack deploys (infra/pipeline.ts). Checked as the Lambda API would. */
  readonly settings: EventSourceMappingSettings;
  readonly handler: KinesisBatchHandler;
  /** For the function ARN in failure records. @default the consumer name */
  readonly functionName?: string;
  readonly log?: Log;
  /** Record age and failure timestamps. @default systemClock */
  readonly clock?: Clock;
  /**
   * Wait before retry number `attempt` (1-based) of a failed batch.
   * @default 1 s doubling per attempt, at most 60 s (AWS does not document its backoff)
   */
  readonly retryDelayMs?: (attempt: number) => number;
  /** How often to look for records appended by another connection (in-process appends wake at once). @default 200 */
  readonly pollIntervalMs?: number;
}

/** The default backoff: 1 s, 2 s, 4 s … capped at 60 s. */
function defaultRetryDelayMs(attempt: number): number {
  return Math.min(1_000 * 2 ** Math.max(0, attempt - 1), 60_000);
}

type State = 'new' | 'running' | 'draining' | 'stopping' | 'stopped';

/**
 * Reads one local stream for one consumer and invokes its handler as Lambda would.
 * @example
 * const esm = new EventSourceMapping({ consumer: 'alarms', stream, settings: pipeline.consumers.alarms, handler });
 * esm.start();
 * await esm.whenIdle();
 * await esm.stop();
 */
export class EventSourceMapping {
  readonly consumer: string;
  private readonly stream: ConsumerStream;
  private readonly settings: EventSourceMappingSettings;
  private readonly handler: KinesisBatchHandler;
  private readonly log: Log;
  private readonly clock: Clock;
  private readonly retryDelayMs: (attempt: number) => number;
  private readonly pollIntervalMs: number;
  private readonly functionArn: string;
  private readonly context: EventContext;
  private readonly sizer: EventSizer;
  private readonly reportBatchItemFailures: boolean;
  private readonly fillContext: ShardFillContext;

  private state: State = 'new';
  private shards: ShardState[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private wakeScheduled = false;

  constructor(options: EventSourceMappingOptions) {
    validateSettings(options.consumer, options.settings);
    this.consumer = options.consumer;
    this.stream = options.stream;
    this.settings = options.settings;
    this.handler = options.handler;
    this.log = options.log ?? silentLog;
    this.clock = options.clock ?? systemClock;
    this.retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    const functionName = options.functionName ?? options.consumer;
    this.functionArn = lambdaFunctionArn(functionName);
    this.context = { streamArn: kinesisStreamArn(options.stream.streamName), invokeIdentityArn: executionRoleArn(functionName) };
    this.sizer = new EventSizer(this.context);
    this.reportBatchItemFailures = options.settings.functionResponseTypes.includes('ReportBatchItemFailures');
    // Enough for every lane to fill a batch and have the next one ready.
    const maxHeldRecords = Math.min(options.settings.batchSize * (options.settings.parallelizationFactor + 1), 100_000);
    this.fillContext = {
      consumer: this.consumer,
      stream: this.stream,
      sizer: this.sizer,
      log: this.log,
      maxHeldRecords,
      persistCheckpoint: (shard) => this.persistCheckpoint(shard),
    };
  }

  /**
   * Starts reading from each shard's checkpoint; a shard without one starts at StartingPosition
   * (TRIM_HORIZON: the oldest record held; LATEST: after the newest record now, saved at once so a
   * restart does not skip what arrives meanwhile). A started mapping keeps the process alive until stopped.
   */
  start(): void {
    if (this.state === 'running' || this.state === 'draining' || this.state === 'stopping') {
      throw new EventSourceMappingError(`event source mapping "${this.consumer}" is already running`);
    }
    this.shards = this.stream.shards.map(({ shardId }) => {
      const saved = this.stream.getCheckpoint(this.consumer, shardId);
      let checkpoint = saved === undefined ? 0 : Number(saved);
      if (saved === undefined && this.settings.startingPosition === 'LATEST') {
        const latest = this.stream.latestSequenceNumber(shardId);
        checkpoint = latest === undefined ? 0 : Number(latest);
        this.stream.setCheckpoint(this.consumer, shardId, formatSequenceNumber(checkpoint));
      }
      return newShardState(shardId, this.settings.parallelizationFactor, checkpoint);
    });
    this.state = 'running';
    this.unsubscribe = this.stream.onAppend(() => this.scheduleWake());
    // The poll is the fallback for appends made through another connection (another process).
    this.pollTimer = setInterval(() => this.wake(), this.pollIntervalMs);
    this.scheduleWake();
  }

  /**
   * Stops invoking. Waits for the batches in flight and saves the checkpoints. With `drain`, first
   * processes every record present (including retries, skipping batching windows), for at most
   * `drainTimeoutMs` (default: no limit; a record that keeps failing would hold it until it expires),
   * then stops anyway: what is not done stays behind the checkpoint and is delivered after a restart.
   */
  async stop(options: { readonly drain?: boolean; readonly drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.state !== 'running' && this.state !== 'draining') return;
    if (options.drain === true) {
      this.state = 'draining';
      this.wake();
      try {
        await this.whenIdle({ timeoutMs: options.drainTimeoutMs ?? Number.POSITIVE_INFINITY });
      } catch (error) {
        if (!(error instanceof EventSourceMappingNotIdleError)) throw error;
        this.log.warn('drain timed out; stopping with records left for the next start', { consumer: this.consumer, error: error.message });
      }
    }
    this.state = 'stopping';
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.pollTimer);
    for (const shard of this.shards) {
      for (const lane of shard.lanes) {
        clearTimeout(lane.windowTimer);
        if (lane.retryTimer !== undefined) {
          // The failed batch is not done: its records stay behind the checkpoint and come back after a restart.
          clearTimeout(lane.retryTimer);
          lane.retryTimer = undefined;
          lane.busy = false;
        }
      }
    }
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    for (const shard of this.shards) this.persistCheckpoint(shard);
    this.state = 'stopped';
  }

  /**
   * Resolves when every shard's checkpoint has reached the newest record present (by any connection).
   * For tests and draining. Rejects with EventSourceMappingNotIdleError after `timeoutMs` (default 10 s),
   * naming the shards behind.
   */
  async whenIdle(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    const deadline = performance.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const behind = this.shardsBehind();
      if (behind.length === 0) return;
      if (performance.now() > deadline) {
        throw new EventSourceMappingNotIdleError(
          `event source mapping "${this.consumer}" is not idle: ${behind.map((b) => `${b.shardId} at ${b.checkpoint} of ${b.latest}`).join(', ')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private shardsBehind(): { shardId: string; checkpoint: number; latest: number }[] {
    if (this.shards.length === 0) {
      return this.stream.shards.map(({ shardId }) => ({ shardId, checkpoint: 0, latest: Number.POSITIVE_INFINITY }));
    }
    return this.shards
      .map((s) => ({ shardId: s.shardId, checkpoint: s.checkpoint, latest: Number(this.stream.latestSequenceNumber(s.shardId) ?? 0) }))
      .filter((s) => s.checkpoint < s.latest);
  }

  private get accepting(): boolean {
    return this.state === 'running' || this.state === 'draining';
  }

  private scheduleWake(): void {
    // Never read or invoke inside the stream's commit: the appender's promises resolve first.
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.wake();
    });
  }

  private wake(): void {
    if (!this.accepting) return;
    for (const shard of this.shards) this.refill(shard);
  }

  /** Reads what the shard's lanes have room for, then starts every lane that can start. */
  private refill(shard: ShardState): void {
    try {
      fillShard(shard, this.fillContext);
    } catch (error) {
      // A busy or failing read is tried again at the next poll; nothing is lost, the cursor did not move.
      this.log.error('event source mapping could not read the stream', { consumer: this.consumer, shardId: shard.shardId, error: String(error) });
    }
    for (const lane of shard.lanes) this.pump(shard, lane);
  }

  /** Starts the lane's next batch if it is free and one is due. */
  private pump(shard: ShardState, lane: Lane): void {
    if (lane.busy || !this.accepting) return;
    const queued = lane.work.shift();
    if (queued !== undefined) {
      this.run(shard, lane, queued);
      return;
    }
    if (lane.pending.length === 0) return;

    const count = nextBatchSize(lane.pending, this.settings.batchSize);
    const full = count === this.settings.batchSize || count < lane.pending.length;
    const windowMs = this.settings.maximumBatchingWindowInSeconds * 1000;
    if (!full && windowMs > 0 && this.state === 'running') {
      // Choice: the window opens when the lane first holds a record it could invoke, and closes when the
      // batch is full, reaches 6 MB, or the window has passed ("a batch closes when it is full, the
      // window expires, or it reaches 6 MB").
      const now = performance.now();
      lane.windowStartedAt ??= now;
      const remaining = lane.windowStartedAt + windowMs - now;
      if (remaining > 0) {
        lane.windowTimer ??= setTimeout(() => {
          lane.windowTimer = undefined;
          this.pump(shard, lane);
        }, remaining);
        return;
      }
    }
    clearTimeout(lane.windowTimer);
    lane.windowTimer = undefined;
    lane.windowStartedAt = undefined;
    const records = lane.pending.splice(0, count);
    this.run(shard, lane, { records, retries: 0, invocations: 0 });
  }

  private run(shard: ShardState, lane: Lane, batch: Batch): void {
    lane.busy = true;
    const task = this.execute(shard, lane, batch)
      .catch((error: unknown) => {
        // Only our own bookkeeping can land here (the destination or checkpoint write failed): keep the
        // records, and try the batch again later, never skip it.
        this.log.error('event source mapping failed to settle a batch; it will be retried', {
          consumer: this.consumer,
          shardId: shard.shardId,
          error: String(error),
        });
        return { retry: { batch, delayMs: this.retryDelayMs(batch.retries + 1) } };
      })
      .then((next) => {
        this.inflight.delete(task);
        if (next.retry !== undefined && this.accepting) {
          const { batch: again, delayMs } = next.retry;
          lane.retryTimer = setTimeout(() => {
            lane.retryTimer = undefined;
            lane.busy = false;
            lane.work.unshift(again);
            this.pump(shard, lane);
          }, delayMs);
          return;
        }
        lane.busy = false;
        if (!this.accepting) return;
        this.refill(shard);
      });
    this.inflight.add(task);
  }

  /** One invocation and what follows from its outcome. Returns the retry to schedule, if any. */
  private async execute(shard: ShardState, lane: Lane, batch: Batch): Promise<{ retry?: { batch: Batch; delayMs: number } }> {
    // Records past MaximumRecordAgeInSeconds are discarded without invoking.
    const expired = expiredPrefix(batch.records, this.clock.now(), this.maxRecordAgeMs());
    if (expired > 0) {
      this.discard(shard, { ...batch, records: batch.records.slice(0, expired) }, FAILURE_CONDITION.recordAgeExceeded);
      if (expired === batch.records.length) return {};
      batch = { ...batch, records: batch.records.slice(expired) };
    }
    const records = batch.records;
    const invocations = batch.invocations + 1;
    let outcome: InvocationOutcome;
    let lastResponse: ResponseContext;
    try {
      const response: unknown = await this.handler(this.eventOf(records));
      lastResponse = { statusCode: 200, executedVersion: '$LATEST' };
      outcome = interpretResponse(
        response,
        records.map((r) => r.sequenceNumber),
        { reportBatchItemFailures: this.reportBatchItemFailures },
      );
    } catch (error) {
      // A function error: Lambda answers 200 with X-Amz-Function-Error "Unhandled".
      lastResponse = { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' };
      outcome = { kind: 'failure', reason: `function error: ${error instanceof Error ? error.message : String(error)}` };
    }
    const next: Batch = { ...batch, invocations, lastResponse };

    if (outcome.kind === 'success') {
      this.complete(shard, records);
      return {};
    }
    this.log.warn('batch failed', {
      consumer: this.consumer,
      shardId: shard.shardId,
      first: records[0]!.sequenceNumber,
      last: records[records.length - 1]!.sequenceNumber,
      records: records.length,
      retries: batch.retries,
      outcome: outcome.kind === 'partial' ? `partial from ${records[outcome.firstFailedIndex]!.sequenceNumber}` : outcome.reason,
    });

    const decision = decideOnFailure(outcome, { size: records.length, retries: batch.retries }, this.settings);
    if (decision.succeeded > 0) this.complete(shard, records.slice(0, decision.succeeded));
    const rest: Batch = { ...next, records: records.slice(decision.succeeded) };
    switch (decision.kind) {
      case 'split':
        // Bisected parts run at once, before anything newer in the lane.
        lane.work.unshift(...decision.parts.map(([start, end]) => ({ ...next, records: records.slice(start, end) })));
        return {};
      case 'retry':
        return { retry: { batch: { ...rest, retries: decision.retries }, delayMs: this.retryDelayMs(decision.retries) } };
      case 'discard':
        this.discard(shard, rest, FAILURE_CONDITION.retryAttemptsExhausted);
        return {};
    }
  }

  private maxRecordAgeMs(): number {
    const retentionMs = this.stream.retentionHours * 3_600_000;
    const maxAge = this.settings.maximumRecordAgeInSeconds;
    // Choice: with MaximumRecordAgeInSeconds -1 a held record still expires with the stream's retention,
    // and is kept in the destination under the same condition rather than dropped silently.
    return maxAge === -1 ? retentionMs : Math.min(maxAge * 1000, retentionMs);
  }

  /** Writes the batch to the on-failure destination, then lets the checkpoint move past it. */
  private discard(shard: ShardState, batch: Batch, condition: FailureCondition): void {
    const records = batch.records;
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const metadata = onFailureRecord(batch, condition, {
      functionArn: this.functionArn,
      streamArn: this.context.streamArn,
      shardId: shard.shardId,
      nowMs: this.clock.now(),
    });
    this.stream.recordFailure(this.consumer, {
      shardId: shard.shardId,
      condition,
      metadata,
      payload: this.eventOf(records),
    });
    this.log.warn('batch discarded to the on-failure destination', {
      consumer: this.consumer,
      shardId: shard.shardId,
      condition,
      first: first.sequenceNumber,
      last: last.sequenceNumber,
      records: records.length,
    });
    this.complete(shard, records);
  }

  /** A fresh event of these records: a handler that mutates it cannot change what a retry receives. */
  private eventOf(records: readonly Held[]): KinesisStreamEvent {
    const event = new Array<KinesisStreamRecord>(records.length);
    for (let i = 0; i < records.length; i++) event[i] = toKinesisStreamRecord(records[i]!.record, this.context);
    return { Records: event };
  }

  /** Marks records done and moves the checkpoint past every done record with nothing pending before it. */
  private complete(shard: ShardState, records: readonly Held[]): void {
    markDone(shard, records);
    this.persistCheckpoint(shard);
  }

  private persistCheckpoint(shard: ShardState): void {
    if (shard.checkpoint === shard.persisted) return;
    try {
      this.stream.setCheckpoint(this.consumer, shard.shardId, formatSequenceNumber(shard.checkpoint));
      shard.persisted = shard.checkpoint;
    } catch (error) {
      // The next completed batch (or stop) writes it again; until then a crash only re-delivers.
      this.log.error('could not save checkpoint', { consumer: this.consumer, shardId: shard.shardId, error: String(error) });
    }
  }
}
