/**
 * What the mapping holds per shard: the records read and not yet behind the checkpoint, and the
 * lanes (ParallelizationFactor) they wait in. The pure bookkeeping on it lives here; the mapping
 * does the I/O (reads, invocations, checkpoint writes).
 */
import type { ShardRecord } from '../stream/index.js';
import { eventJsonBytes, MAX_EVENT_BYTES } from './event.js';

/** How Lambda answered an invocation, for the failure record's responseContext. */
export interface ResponseContext {
  readonly statusCode: number;
  readonly executedVersion: string;
  readonly functionError?: string;
}

/** A record read from the stream and held until it is done. */
export interface Held {
  readonly seq: number;
  readonly sequenceNumber: string;
  readonly arrivalMs: number;
  /** The record as read; each invocation builds its event entry afresh from it. */
  readonly record: ShardRecord;
  /** Bytes it adds to the event's JSON. */
  readonly bytes: number;
  done: boolean;
}

export interface Batch {
  readonly records: readonly Held[];
  /** Retries already made; bisecting does not add to it ("Splitting a batch does not count towards the retry quota"). */
  readonly retries: number;
  /** How many times these records were in an invocation: the failure record's approximateInvokeCount. */
  readonly invocations: number;
  readonly lastResponse?: ResponseContext;
}

export interface Lane {
  pending: Held[];
  /** Bisected halves and retries: they run before any new record of the lane. */
  readonly work: Batch[];
  /** Invoking or waiting to retry: nothing else of this lane may start (per-key order). */
  busy: boolean;
  windowStartedAt?: number;
  windowTimer?: NodeJS.Timeout;
  retryTimer?: NodeJS.Timeout;
}

export interface ShardState {
  readonly shardId: string;
  readonly lanes: Lane[];
  /** Records read and not yet behind the checkpoint, in sequence order, from `head`. */
  held: Held[];
  head: number;
  heldBytes: number;
  /** Last sequence number read into memory. */
  readCursor: number;
  /** Every record up to here is done. */
  checkpoint: number;
  persisted: number;
}

/** A shard about to be read from `checkpoint` (its records up to there are done), with `laneCount` empty lanes. */
export function newShardState(shardId: string, laneCount: number, checkpoint: number): ShardState {
  return {
    shardId,
    lanes: Array.from({ length: laneCount }, () => ({ pending: [], work: [], busy: false })),
    held: [],
    head: 0,
    heldBytes: 0,
    readCursor: checkpoint,
    checkpoint,
    persisted: checkpoint,
  };
}

/**
 * The lane of a partition key: FNV-1a of its UTF-16 code units, modulo the lane count. Any stable
 * function keeps a key in one lane; this one is cheap and spreads similar device ids.
 */
export function laneOf(partitionKey: string, lanes: number): number {
  if (lanes === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < partitionKey.length; i++) {
    hash ^= partitionKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % lanes;
}

/**
 * How many of the lane's pending records the next batch takes: up to `batchSize`, closing it before
 * the event would pass 6 MB (always at least 1 record when any is pending).
 */
export function nextBatchSize(pending: readonly Held[], batchSize: number): number {
  // The event's size is kept as a running sum (eventJsonBytes: the envelope, each record, a comma
  // between two): pump runs on every wake while a window is open, and copying and summing the
  // sizes for each record added made it quadratic in the batch (measured with node --cpu-prof in a
  // QoS 1 flood: about 1% of the stack's CPU, plus the garbage of the copies).
  let count = 0;
  let eventBytes = eventJsonBytes([]);
  const limit = Math.min(pending.length, batchSize);
  while (count < limit) {
    const withNext = eventBytes + pending[count]!.bytes + (count > 0 ? 1 : 0);
    if (count > 0 && withNext > MAX_EVENT_BYTES) break;
    eventBytes = withNext;
    count++;
  }
  return count;
}

/** How many records at the start of `records` arrived more than `limitMs` before `nowMs`. */
export function expiredPrefix(records: readonly Held[], nowMs: number, limitMs: number): number {
  // Arrival times never decrease along a shard, so the old records are a prefix.
  let n = 0;
  while (n < records.length && nowMs - records[n]!.arrivalMs > limitMs) n++;
  return n;
}

/** Marks records done and moves the checkpoint past every done record with nothing pending before it. */
export function markDone(shard: ShardState, records: readonly Held[]): void {
  for (const r of records) r.done = true;
  while (shard.head < shard.held.length && shard.held[shard.head]!.done) {
    const r = shard.held[shard.head]!;
    shard.checkpoint = r.seq;
    shard.heldBytes -= r.bytes;
    shard.head++;
  }
  if (shard.head > 1024 && shard.head * 2 > shard.held.length) {
    shard.held = shard.held.slice(shard.head);
    shard.head = 0;
  }
}
