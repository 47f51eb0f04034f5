/** Test harness: a real stream file, a mapping on it, and a log of every invocation. */
import type { KinesisStreamEvent } from 'aws-lambda';
import type { EventSourceMappingSettings } from '../../../infra/pipeline.js';
import type { Clock } from '../../../lambdas/ports/clock.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import type { LocalStream, LocalStreamOptions } from '../../../infra/local/stream/index.js';
import { formatSequenceNumber } from '../../../infra/local/stream/index.js';
import type { KinesisBatchHandler } from '../../../infra/local/event-source/index.js';
import { EventSourceMapping } from '../../../infra/local/event-source/index.js';
import type { TempStreams } from '../stream/temp-stream.js';

export const CONSUMER = 'test-consumer';
export const SHARD0 = 'shardId-000000000000';
export const seq = formatSequenceNumber;

/** Settings with every knob off; each test turns on what it is about. */
export const PLAIN: EventSourceMappingSettings = {
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  parallelizationFactor: 1,
  startingPosition: 'TRIM_HORIZON',
  bisectBatchOnFunctionError: false,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  functionResponseTypes: ['ReportBatchItemFailures'],
};

/** The data of each record of an event, as text (tests write 's1', 's2', … as data). */
export function dataOf(event: KinesisStreamEvent): string[] {
  return event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString('utf8'));
}

/** The sequence number of the record whose data is `data` in this event. */
export function seqOf(event: KinesisStreamEvent, data: string): string {
  const record = event.Records.find((r) => Buffer.from(r.kinesis.data, 'base64').toString('utf8') === data);
  if (record === undefined) throw new Error(`no record ${data} in this event`);
  return record.kinesis.sequenceNumber;
}

export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface Harness {
  readonly stream: LocalStream;
  readonly esm: EventSourceMapping;
  /** The data of every invocation's records, in invocation order. */
  readonly calls: string[][];
  readonly warnings: string[];
  appendAll(data: readonly string[], partitionKey?: string): Promise<void>;
}

export interface HarnessOptions {
  readonly settings?: Partial<EventSourceMappingSettings>;
  /** Gets the event and the 0-based invocation number. */
  readonly handler?: (event: KinesisStreamEvent, call: number) => ReturnType<KinesisBatchHandler> | Awaited<ReturnType<KinesisBatchHandler>>;
  readonly stream?: Partial<LocalStreamOptions>;
  readonly streamInstance?: LocalStream;
  readonly clock?: Clock;
  readonly pollIntervalMs?: number;
}

export function harness(t: TempStreams, options: HarnessOptions = {}): Harness {
  const stream = options.streamInstance ?? t.open({ ...(options.clock ? { clock: options.clock } : {}), ...options.stream });
  const calls: string[][] = [];
  const warnings: string[] = [];
  const log: Log = { debug() {}, info() {}, warn: (message) => warnings.push(message), error: (message) => warnings.push(`error: ${message}`) };
  const handler = options.handler ?? (() => undefined);
  const esm = new EventSourceMapping({
    consumer: CONSUMER,
    stream,
    settings: { ...PLAIN, ...options.settings },
    handler: async (event) => {
      const call = calls.length;
      calls.push(dataOf(event));
      return handler(event, call);
    },
    functionName: 'fleet-telemetry-test',
    log,
    retryDelayMs: () => 1,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
  });
  return {
    stream,
    esm,
    calls,
    warnings,
    async appendAll(data, partitionKey = 'device-1') {
      await stream.appendMany(data.map((d) => ({ partitionKey, data: Buffer.from(d, 'utf8') })));
    },
  };
}
