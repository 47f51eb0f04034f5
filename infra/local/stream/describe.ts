/**
 * What `npm run query -- stream` shows: shards, sequence numbers, each consumer's lag and the
 * on-failure destination. Plain queries over an open database, so a live LocalStream and a read-only
 * connection (another process, while the stack runs) answer the same way.
 */
import Database from 'better-sqlite3';
import type { FailureCondition, FailureEntry, OnFailureRecord } from './failures.js';
import { formatSequenceNumber } from './sequence.js';
import { StreamError } from './errors.js';
import type { KinesisStreamEvent } from 'aws-lambda';

interface ShardDescription {
  readonly shardId: string;
  readonly hashKeyRange: { readonly startingHashKey: string; readonly endingHashKey: string };
  /** Oldest record still held (the trim horizon), or null when the shard holds none. */
  readonly firstSequenceNumber: string | null;
  /** Newest sequence number ever given on this shard, even if retention has trimmed it since. */
  readonly lastSequenceNumber: string | null;
  readonly records: number;
  /** Epoch ms of the newest record held, or null. */
  readonly newestArrival: number | null;
}

interface ConsumerShardPosition {
  readonly shardId: string;
  /** Last sequence number the consumer is done with, or null before its first checkpoint. */
  readonly checkpoint: string | null;
  /** Records held after the checkpoint. */
  readonly lagRecords: number;
  /** Arrival of the newest record minus arrival of the oldest unprocessed one (0 when caught up). */
  readonly lagMs: number;
}

interface ConsumerDescription {
  readonly consumer: string;
  readonly shards: readonly ConsumerShardPosition[];
  readonly lagRecords: number;
  readonly lagMs: number;
  readonly failures: number;
}

export interface StreamDescription {
  readonly streamName: string;
  readonly shardCount: number;
  readonly retentionHours: number;
  readonly shards: readonly ShardDescription[];
  readonly consumers: readonly ConsumerDescription[];
  /** Entries in the on-failure destination, all consumers. */
  readonly failures: number;
}

interface ShardRow {
  shard_index: number;
  shard_id: string;
  starting_hash_key: string;
  ending_hash_key: string;
  last_seq: number;
}

/** Describes the stream held by an open database. */
export function describeDatabase(db: Database.Database): StreamDescription {
  const meta = readMeta(db);
  const shardRows = db.prepare('SELECT * FROM shards ORDER BY shard_index').all() as ShardRow[];
  const firstStmt = db.prepare('SELECT seq FROM records WHERE shard_index = ? ORDER BY seq LIMIT 1').pluck();
  const newestStmt = db
    .prepare('SELECT arrival_ms FROM records WHERE shard_index = ? ORDER BY seq DESC LIMIT 1')
    .pluck();
  const nextStmt = db
    .prepare('SELECT seq, arrival_ms FROM records WHERE shard_index = ? AND seq > ? ORDER BY seq LIMIT 1');

  const shards = shardRows.map((row) => {
    const first = firstStmt.get(row.shard_index) as number | undefined;
    const newest = newestStmt.get(row.shard_index) as number | undefined;
    return {
      row,
      first,
      newest,
      description: {
        shardId: row.shard_id,
        hashKeyRange: { startingHashKey: row.starting_hash_key, endingHashKey: row.ending_hash_key },
        firstSequenceNumber: first === undefined ? null : formatSequenceNumber(first),
        lastSequenceNumber: row.last_seq === 0 ? null : formatSequenceNumber(row.last_seq),
        // Sequence numbers are contiguous per shard and only a prefix is ever trimmed.
        records: first === undefined ? 0 : row.last_seq - first + 1,
        newestArrival: newest ?? null,
      } satisfies ShardDescription,
    };
  });

  const failureCounts = new Map(
    (db.prepare('SELECT consumer, COUNT(*) AS n FROM esm_failures GROUP BY consumer').all() as {
      consumer: string;
      n: number;
    }[]).map((r) => [r.consumer, r.n]),
  );
  const checkpointRows = db
    .prepare('SELECT consumer, shard_index, seq FROM checkpoints ORDER BY consumer, shard_index')
    .all() as { consumer: string; shard_index: number; seq: number }[];
  const names = [...new Set([...checkpointRows.map((r) => r.consumer), ...failureCounts.keys()])].sort();

  const consumers = names.map((consumer): ConsumerDescription => {
    const positions = shards.map(({ row, first, newest }): ConsumerShardPosition => {
      const checkpoint = checkpointRows.find((r) => r.consumer === consumer && r.shard_index === row.shard_index);
      const done = checkpoint?.seq ?? 0;
      const next = nextStmt.get(row.shard_index, done) as { seq: number; arrival_ms: number } | undefined;
      const heldAfter = first === undefined ? 0 : row.last_seq - Math.max(done, first - 1);
      return {
        shardId: row.shard_id,
        checkpoint: checkpoint === undefined ? null : formatSequenceNumber(checkpoint.seq),
        lagRecords: Math.max(0, heldAfter),
        lagMs: next === undefined || newest === undefined ? 0 : Math.max(0, newest - next.arrival_ms),
      };
    });
    return {
      consumer,
      shards: positions,
      lagRecords: positions.reduce((sum, p) => sum + p.lagRecords, 0),
      lagMs: positions.reduce((max, p) => Math.max(max, p.lagMs), 0),
      failures: failureCounts.get(consumer) ?? 0,
    };
  });

  return {
    ...meta,
    shards: shards.map((s) => s.description),
    consumers,
    failures: [...failureCounts.values()].reduce((a, b) => a + b, 0),
  };
}

/** The on-failure destination, oldest first, for one consumer or all. */
export function listFailuresInDatabase(db: Database.Database, consumer?: string): FailureEntry[] {
  const rows = (
    consumer === undefined
      ? db.prepare('SELECT * FROM esm_failures ORDER BY id').all()
      : db.prepare('SELECT * FROM esm_failures WHERE consumer = ? ORDER BY id').all(consumer)
  ) as {
    id: number;
    consumer: string;
    shard_id: string;
    condition: string;
    created_ms: number;
    metadata: string;
    payload: string;
  }[];
  return rows.map((r) => ({
    id: r.id,
    consumer: r.consumer,
    shardId: r.shard_id,
    condition: r.condition as FailureCondition,
    createdAt: r.created_ms,
    metadata: JSON.parse(r.metadata) as OnFailureRecord,
    payload: JSON.parse(r.payload) as KinesisStreamEvent,
  }));
}

/**
 * Opens a stream file read-only and describes it (for `npm run query -- stream`). Safe while the
 * stack runs: WAL lets a reader see the last committed state without blocking the writer.
 */
export function describeStreamFile(file: string): StreamDescription {
  return withReadOnly(file, describeDatabase);
}

/** Opens a stream file read-only and lists its on-failure destination. */
export function listStreamFileFailures(file: string, consumer?: string): FailureEntry[] {
  return withReadOnly(file, (db) => listFailuresInDatabase(db, consumer));
}

function withReadOnly<T>(file: string, read: (db: Database.Database) => T): T {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (cause) {
    throw new StreamError(`cannot open stream file ${file} read-only`, { cause });
  }
  try {
    db.pragma('busy_timeout = 5000');
    return read(db);
  } finally {
    db.close();
  }
}

function readMeta(db: Database.Database): Pick<StreamDescription, 'streamName' | 'shardCount' | 'retentionHours'> {
  const rows = db.prepare('SELECT key, value FROM stream_meta').all() as { key: string; value: string }[];
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  const streamName = meta.get('stream_name');
  if (streamName === undefined) throw new StreamError('not a stream file: stream_meta has no stream_name');
  return {
    streamName,
    shardCount: Number(meta.get('shard_count')),
    retentionHours: Number(meta.get('retention_hours')),
  };
}
