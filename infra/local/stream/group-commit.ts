/**
 * Group commit: every append (and consumer write) queued during one event-loop turn is written in ONE
 * IMMEDIATE transaction; this is that transaction, prepared once per open stream.
 */
import type Database from 'better-sqlite3';
import type { Clock } from '../../../lambdas/ports/clock.js';
import type { FailureWrite } from './failures.js';
import { formatSequenceNumber } from './sequence.js';
import type { AppendResult, CommittedRecord, ShardInfo } from './stream-types.js';

export interface QueuedRecord {
  readonly shardIndex: number;
  readonly partitionKey: string;
  readonly explicitHashKey: string | null;
  readonly data: Buffer;
  readonly arrivalMs: number;
}

export interface QueuedGroup {
  readonly records: readonly QueuedRecord[];
  readonly resolve: (results: AppendResult[]) => void;
  readonly reject: (error: unknown) => void;
}

export type ConsumerWrite =
  | { readonly kind: 'checkpoint'; readonly consumer: string; readonly shardIndex: number; readonly seq: number }
  | { readonly kind: 'failure'; readonly consumer: string; readonly entry: FailureWrite };

export interface CommitOutcome {
  /** Per group, per record: where it went. */
  readonly results: AppendResult[][];
  /** The shards that received records, ascending. */
  readonly touched: number[];
  /** The records as committed, when `wantRecords()` said so (a commit listener is registered). */
  readonly records: CommittedRecord[] | undefined;
}

export type CommitGroups = (groups: readonly QueuedGroup[], consumerWrites: readonly ConsumerWrite[]) => CommitOutcome;

export interface GroupCommitParts {
  readonly db: Database.Database;
  readonly shards: readonly ShardInfo[];
  /** The stream's own prepared checkpoint upsert, shared with `setCheckpoint`. */
  readonly setCheckpoint: Database.Statement;
  readonly clock: Clock;
  readonly wantRecords: () => boolean;
}

const ROWS_PER_INSERT = 50;
const COLUMNS = 6;

function insertSql(rows: number): string {
  return `INSERT INTO records (shard_index, seq, partition_key, explicit_hash_key, arrival_ms, data) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}`;
}

export function prepareGroupCommit({ db, shards, setCheckpoint, clock, wantRecords }: GroupCommitParts): CommitGroups {
  const readShards = db.prepare('SELECT shard_index, last_seq, last_arrival_ms FROM shards');
  const insert = db.prepare(insertSql(1));
  // Rows go in ROWS_PER_INSERT at a time: one statement step per 50 records instead of per record
  // (4.1 instead of 5.1 us of SQLite CPU per record, measured alone).
  const insertMany = db.prepare(insertSql(ROWS_PER_INSERT));
  const updateShard = db.prepare('UPDATE shards SET last_seq = ?, last_arrival_ms = ? WHERE shard_index = ?');
  const insertFailure = db.prepare('INSERT INTO esm_failures (consumer, shard_id, condition, created_ms, metadata, payload) VALUES (?, ?, ?, ?, ?, ?)');
  const tx = db.transaction((groups: readonly QueuedGroup[], consumerWrites: readonly ConsumerWrite[]): CommitOutcome => {
    // Counters are read inside the (IMMEDIATE) transaction, so a second writer on the file cannot
    // make two records share a sequence number.
    const state = readShards.all() as { shard_index: number; last_seq: number; last_arrival_ms: number }[];
    const lastSeq = state.map((s) => s.last_seq);
    const lastArrival = state.map((s) => s.last_arrival_ms);
    const touched = new Set<number>();
    const records: CommittedRecord[] | undefined = wantRecords() ? [] : undefined;
    const values: unknown[] = [];
    const results = groups.map((group) =>
      group.records.map((r) => {
        const seq = ++lastSeq[r.shardIndex]!;
        const arrival = Math.max(lastArrival[r.shardIndex]!, r.arrivalMs);
        lastArrival[r.shardIndex] = arrival;
        values.push(r.shardIndex, seq, r.partitionKey, r.explicitHashKey, arrival, r.data);
        if (values.length === ROWS_PER_INSERT * COLUMNS) {
          insertMany.run(values);
          values.length = 0;
        }
        records?.push({ shardIndex: r.shardIndex, seq, partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey, arrivalMs: arrival, data: r.data });
        touched.add(r.shardIndex);
        return { shardId: shards[r.shardIndex]!.shardId, sequenceNumber: formatSequenceNumber(seq) };
      }),
    );
    for (let i = 0; i < values.length; i += COLUMNS) insert.run(values.slice(i, i + COLUMNS));
    for (const i of touched) updateShard.run(lastSeq[i], lastArrival[i], i);
    const now = clock.now();
    for (const w of consumerWrites) {
      if (w.kind === 'checkpoint') setCheckpoint.run(w.consumer, w.shardIndex, w.seq, now);
      else insertFailure.run(w.consumer, w.entry.shardId, w.entry.condition, now, JSON.stringify(w.entry.metadata), JSON.stringify(w.entry.payload));
    }
    return { results, touched: [...touched].sort((a, b) => a - b), records };
  });
  return (groups, consumerWrites) => tx.immediate(groups, consumerWrites);
}
