/** The local stream's public shapes and the limits of one record (Kinesis PutRecord/PutRecords). */
import type { Clock } from '../../../lambdas/ports/clock.js';
import type { HashKeyRange } from './hash.js';

/** What a resolved append survives: 'full' power loss (the stream fsyncs the WAL first); 'normal' a process crash only; 'off' neither. */
export type Durability = 'full' | 'normal' | 'off';

export interface LocalStreamOptions {
  /** The SQLite file, e.g. `<dataDir>/stream.db`; created if missing. */
  readonly file: string;
  readonly streamName: string;
  /** Fixed for the life of the file. */
  readonly shardCount: number;
  /** 24 to 8760, as Kinesis allows (Kinesis developer guide, data retention). */
  readonly retentionHours: number;
  /** @default 'full' */
  readonly durability?: Durability;
  /** Arrival timestamps and retention. @default systemClock */
  readonly clock?: Clock;
  /** How often retention is enforced while open, ms. @default 60_000 */
  readonly trimIntervalMs?: number;
}

export interface AppendEntry {
  /** 1 to 256 characters (Unicode code points). */
  readonly partitionKey: string;
  /** Together with the partition key's UTF-8 bytes at most 1 MiB. */
  readonly data: Uint8Array;
  /** Decimal 0..2^128-1; routes the record instead of the partition key's hash. */
  readonly explicitHashKey?: string;
}

export interface AppendResult {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/**
 * One record as a read of a shard returns it (Kinesis GetRecords' Record, with its shard). Not the
 * domain's StreamRecord (lambdas/domain/model.ts), which is what a use case gets from a Lambda event.
 */
export interface ShardRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
  readonly data: Buffer;
  /** Epoch ms when the append was called (non-decreasing per shard). */
  readonly approximateArrivalTimestamp: number;
}

export interface ReadOptions {
  /** Exclusive: records after this sequence number. Omitted: from the trim horizon. */
  readonly after?: string;
  /** At most this many records (at least 1). */
  readonly limit: number;
  /** Stop before the data exceeds this many bytes, but always return at least one record. */
  readonly maxBytes?: number;
}

export interface ShardInfo {
  readonly shardId: string;
  readonly hashKeyRange: HashKeyRange;
}

/** Called after a commit with the shards that received records. Runs synchronously: keep it short. */
export type AppendListener = (shardIds: readonly string[]) => void;

/** One record as committed, for a commit listener (`onCommit`). */
export interface CommittedRecord {
  readonly shardIndex: number;
  readonly seq: number;
  readonly partitionKey: string;
  readonly explicitHashKey: string | null;
  readonly arrivalMs: number;
  readonly data: Buffer;
}

/** Called after a commit with its records, in sequence order per shard. Runs synchronously: keep it short. */
export type CommitListener = (records: readonly CommittedRecord[]) => void;

/** Limits of one record (Kinesis PutRecord/PutRecords API reference). */
export const RECORD_LIMITS = {
  maxPartitionKeyLength: 256,
  /** "Each record in the request can be as large as 1 MiB … including partition keys" (PutRecords). */
  maxRecordBytes: 1024 * 1024,
  explicitHashKey: /^\d{1,39}$/,
} as const;
