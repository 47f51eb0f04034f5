import {
  BatchWriteItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { InvariantError, RetryableError } from '../../domain/errors.js';
import type { Reading } from '../../domain/model.js';
import type { StoreRejection, TimeSeriesStore, WriteOutcome } from '../../ports/time-series-store.js';
import { chunk } from '../../common/chunk.js';
import { retryableOr } from './aws-errors.js';
import { READINGS_TABLE_KEYS, READINGS_TTL_ATTRIBUTE, readingSortKey } from './dynamodb-readings-schema.js';

/** BatchWriteItem takes at most 25 put or delete requests (DynamoDB API reference, BatchWriteItem). */
export const DYNAMODB_MAX_ITEMS_PER_BATCH = 25;

/** How long readings are kept when nothing else is said (`-c readingsRetentionDays`). */
const DEFAULT_READINGS_RETENTION_DAYS = 30;

const SECONDS_PER_DAY = 86_400;

/** Retries of the items DynamoDB returns as UnprocessedItems, with exponential backoff and full jitter. */
interface UnprocessedRetryPolicy {
  /** Resends after the first request. @default 5 */
  readonly attempts: number;
  /** Upper bound of the first wait, doubled each time. @default 50 */
  readonly baseDelayMs: number;
  /** Upper bound of any wait. @default 1000 */
  readonly maxDelayMs: number;
}

export const DEFAULT_UNPROCESSED_RETRY: UnprocessedRetryPolicy = Object.freeze({ attempts: 5, baseDelayMs: 50, maxDelayMs: 1_000 });

interface DynamoDbTimeSeriesStoreOptions {
  readonly client: DynamoDBClient;
  /** Keys as READINGS_TABLE_KEYS, TTL on READINGS_TTL_ATTRIBUTE (infra/aws/constructs/readings-table.ts). */
  readonly tableName: string;
  /** Each item expires this many days after its event time. @default 30 */
  readonly retentionDays?: number;
  readonly unprocessedRetry?: UnprocessedRetryPolicy;
  /** Waits between resends; replaceable so tests need not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** One item to send, and the readings of the write it stands for (a duplicate key shares its fate). */
interface Pending {
  readonly key: string;
  readonly request: WriteRequest;
  readonly indexes: number[];
}

/**
 * The time-series store on DynamoDB: one item per reading, `{ deviceId, at, ts, seq?, type?,
 * metrics (map of numbers), receivedAt, expiresAt }`, keyed (deviceId, at) where `at` is the event
 * time then the seq, zero-padded (dynamodb-readings-schema.ts).
 *
 * Idempotence and "higher seq wins" come from the key, not from conditions (BatchWriteItem has none):
 * every distinct (deviceId, ts, seq) is its own item, exactly the local store's primary key, so a
 * replay overwrites the item with the same values, a later write of the same key replaces the
 * metrics, and two readings at the same time with different seq are both kept, the higher seq
 * sorting after (newest) the lower one. No write ever has to decide between two readings.
 *
 * Writes go in BatchWriteItem requests of 25. The same key twice in one request is refused by
 * DynamoDB, so only the last occurrence is sent (as the local store's sequential upserts end).
 * Items DynamoDB returns unprocessed are resent with backoff; those still unprocessed come back in
 * `retry` (their records are retried). A request DynamoDB refuses with a ValidationException (an
 * item over 400 KB, a number out of DynamoDB's range) is written item by item, so that each
 * offending reading is rejected with DynamoDB's own message and the rest are stored; a
 * ValidationException about the key means the table is not ours and propagates. Throttling, 5xx and
 * timeouts become RetryableError; anything else propagates unchanged.
 */
export class DynamoDbTimeSeriesStore implements TimeSeriesStore {
  readonly maxReadingsPerWrite = DYNAMODB_MAX_ITEMS_PER_BATCH;
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #retentionSeconds: number;
  readonly #retry: UnprocessedRetryPolicy;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(options: DynamoDbTimeSeriesStoreOptions) {
    const days = options.retentionDays ?? DEFAULT_READINGS_RETENTION_DAYS;
    if (!Number.isInteger(days) || days < 1) throw new RangeError(`retentionDays must be a positive integer, got ${days}`);
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#retentionSeconds = days * SECONDS_PER_DAY;
    this.#retry = options.unprocessedRetry ?? DEFAULT_UNPROCESSED_RETRY;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
  }

  async write(readings: readonly Reading[]): Promise<WriteOutcome> {
    const rejected: StoreRejection[] = [];
    const retry: number[] = [];
    for (const [chunkIndex, slice] of chunk(readings, this.maxReadingsPerWrite).entries()) {
      const offset = chunkIndex * this.maxReadingsPerWrite;
      const outcome = await this.#writeChunk(slice);
      for (const r of outcome.rejected) rejected.push({ index: offset + r.index, reason: r.reason });
      for (const i of outcome.retry) retry.push(offset + i);
    }
    rejected.sort((a, b) => a.index - b.index);
    retry.sort((a, b) => a - b);
    return retry.length === 0 ? { rejected } : { rejected, retry };
  }

  async #writeChunk(readings: readonly Reading[]): Promise<{ rejected: StoreRejection[]; retry: number[] }> {
    const rejected: StoreRejection[] = [];
    const byKey = new Map<string, Pending>();
    for (const [index, reading] of readings.entries()) {
      const reason = unstorable(reading);
      if (reason !== undefined) {
        rejected.push({ index, reason });
        continue;
      }
      const key = `${reading.deviceId}\n${readingSortKey(reading.ts, reading.seq)}`;
      const previous = byKey.get(key);
      const indexes = previous === undefined ? [index] : [...previous.indexes, index];
      // Re-inserted so the Map keeps the last occurrence's values (and the later position).
      byKey.delete(key);
      byKey.set(key, { key, request: { PutRequest: { Item: toReadingItem(reading, this.#retentionSeconds) } }, indexes });
    }
    let pending = [...byKey.values()];
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > this.#retry.attempts) break;
      if (attempt > 0) await this.#sleep(this.#backoff(attempt));
      const sent = await this.#batchWrite(pending);
      if (sent === 'refused') {
        const single = await this.#writeOneByOne(pending);
        rejected.push(...single.rejected);
        pending = single.retry;
        break;
      }
      pending = sent;
    }
    const retry = pending.flatMap((p) => p.indexes);
    return { rejected, retry };
  }

  /** Sends one BatchWriteItem; returns what DynamoDB left unprocessed, or 'refused' on a data ValidationException. */
  async #batchWrite(pending: readonly Pending[]): Promise<Pending[] | 'refused'> {
    let unprocessed: WriteRequest[];
    try {
      const result = await this.#client.send(
        new BatchWriteItemCommand({ RequestItems: { [this.#tableName]: pending.map((p) => p.request) } }),
      );
      unprocessed = result.UnprocessedItems?.[this.#tableName] ?? [];
    } catch (error) {
      if (isDataValidation(error)) return 'refused';
      throw retryableOr(error, `DynamoDB BatchWriteItem ${this.#tableName}`);
    }
    if (unprocessed.length === 0) return [];
    const byKey = new Map(pending.map((p) => [p.key, p]));
    return unprocessed.map((request) => {
      const item = request.PutRequest?.Item;
      const found = item === undefined ? undefined : byKey.get(`${item['deviceId']?.S ?? ''}\n${item['at']?.S ?? ''}`);
      // An unprocessed item we did not send would mean a different request: fail loudly, don't guess.
      if (found === undefined) throw new InvariantError(`DynamoDB BatchWriteItem ${this.#tableName}: returned an unprocessed item that was not sent`);
      return found;
    });
  }

  /** PutItem per item, so that DynamoDB names each item it refuses; transient failures come back to retry. */
  async #writeOneByOne(pending: readonly Pending[]): Promise<{ rejected: StoreRejection[]; retry: Pending[] }> {
    const rejected: StoreRejection[] = [];
    const retry: Pending[] = [];
    for (const p of pending) {
      try {
        await this.#client.send(new PutItemCommand({ TableName: this.#tableName, Item: p.request.PutRequest?.Item }));
      } catch (error) {
        if (isDataValidation(error)) {
          const reason = `DynamoDB refused the reading: ${(error as Error).message}`;
          for (const index of p.indexes) rejected.push({ index, reason });
          continue;
        }
        const failure = retryableOr(error, `DynamoDB PutItem ${this.#tableName}`);
        if (failure instanceof RetryableError) {
          retry.push(p);
          continue;
        }
        throw failure;
      }
    }
    return { rejected, retry };
  }

  /** Full jitter: a uniform wait up to min(max, base * 2^(attempt-1)) (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
  #backoff(attempt: number): number {
    const cap = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.#random() * cap);
  }
}

/** The item of `reading`, expiring `retentionSeconds` after its event time. */
export function toReadingItem(reading: Reading, retentionSeconds: number): Record<string, AttributeValue> {
  const metrics: Record<string, AttributeValue> = {};
  // defineProperty: a metric may be called `__proto__`, which plain assignment would not store.
  for (const [name, value] of Object.entries(reading.metrics)) ownProperty(metrics, name, { N: String(value) });
  const item: Record<string, AttributeValue> = {
    [READINGS_TABLE_KEYS.partitionKey.name]: { S: reading.deviceId },
    [READINGS_TABLE_KEYS.sortKey.name]: { S: readingSortKey(reading.ts, reading.seq) },
    ts: { N: String(reading.ts) },
    metrics: { M: metrics },
    receivedAt: { N: String(reading.receivedAt) },
    [READINGS_TTL_ATTRIBUTE]: { N: String(Math.floor(reading.ts / 1_000) + retentionSeconds) },
  };
  if (reading.seq !== undefined) item['seq'] = { N: String(reading.seq) };
  if (reading.type !== undefined) item['type'] = { S: reading.type };
  return item;
}

/** Sets `name` as an own enumerable property, whatever the name (`__proto__` included). */
export function ownProperty<T>(target: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A ValidationException about the data of an item (its size, a number out of range...), as opposed
 * to one about the request or the table (a key that does not match the schema): only the first is a
 * reading's fault, and rejecting readings for the second would throw the whole stream away.
 */
function isDataValidation(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'ValidationException') return false;
  return !/\bkey\b/i.test(error.message);
}

/** Why the key cannot represent `r` in order, or undefined. The decoder checks the contract already; this guards the key's padding. */
function unstorable(r: Reading): string | undefined {
  if (!Number.isSafeInteger(r.ts) || r.ts < 0) return `ts: ${String(r.ts)} is not a non-negative integer epoch ms`;
  if (r.seq !== undefined && (!Number.isSafeInteger(r.seq) || r.seq < 0)) return `seq: ${String(r.seq)} is not a non-negative integer`;
  if (!Number.isSafeInteger(r.receivedAt)) return `receivedAt: ${String(r.receivedAt)} is not an integer epoch ms`;
  for (const [name, value] of Object.entries(r.metrics)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return `metrics.${name}: not a finite number`;
  }
  return undefined;
}
