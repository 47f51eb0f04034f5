/**
 * A durable local log with Kinesis semantics, in one SQLite file (WAL).
 *
 * - Shards own even slices of the 128-bit hash-key space; a record goes to the shard whose range holds
 *   the MD5 of its partition key (or its explicit hash key), as on Kinesis.
 * - Sequence numbers increase strictly per shard; reads return records in sequence order.
 * - Appends are group-committed: every append queued during one event-loop turn is written in ONE
 *   transaction, and each append's promise resolves only after that COMMIT. A commit survives kill -9
 *   at once (SQLite: "Transactions are durable across application crashes regardless of the
 *   synchronous setting or journal mode"). With durability 'full' the promise waits further, until
 *   the WAL file holding the commit has been fsynced, so a resolved append also survives power loss:
 *   that is what lets the local broker send PUBACK only for what will not be lost.
 * - That fsync is ours, not SQLite's: the connection runs `synchronous=NORMAL` and the stream fsyncs
 *   the WAL file on libuv's thread pool, one fsync at a time, each covering every commit made before
 *   it started. SQLite's own FULL does the same fsync of the same file after each commit ("the WAL
 *   file is synchronized after each transaction commit", https://www.sqlite.org/pragma.html#pragma_synchronous),
 *   but inside COMMIT, blocking the broker's thread for the disk's latency (16% of that thread's time
 *   in a QoS 1 flood, measured with node --cpu-prof). Here the thread goes on receiving and committing
 *   the next group while the disk syncs the previous ones.
 * - Retention trims records older than `retentionHours` (at open and on a timer).
 * - Checkpoints per (consumer, shard) and the event source mappings' on-failure destination live in
 *   the same file.
 *
 * Local limits: one stream per file, a fixed shard count (no resharding: reopening with another
 * count fails), no throughput throttling per shard.
 */
import { closeSync, fsync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Clock } from '../../../lambdas/ports/clock.js';
import { systemClock } from '../../../lambdas/ports/clock.js';
import { StreamClosedError, StreamConfigMismatchError, StreamError, StreamRecordInvalidError } from './errors.js';
import type { HashKeyRange } from './hash.js';
import { evenHashKeyRanges, MAX_HASH_KEY, partitionKeyHashKey, rangeIndexOf, shardIdOf } from './hash.js';
import { createSchema, SCHEMA_VERSION } from './schema.js';
import { formatSequenceNumber, parseSequenceNumber } from './sequence.js';
import type { FailureEntry, FailureWrite } from './failures.js';
import type { StreamDescription } from './describe.js';
import { describeDatabase, listFailuresInDatabase } from './describe.js';
import { READ_SQL, readShard } from './read.js';

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

export interface StreamRecord {
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

const OPTION_KEYS = new Set(['file', 'streamName', 'shardCount', 'retentionHours', 'durability', 'clock', 'trimIntervalMs']);
/** 'full' is NORMAL plus the stream's own WAL fsync before an append resolves (see the file's header). */
const SYNCHRONOUS: Record<Durability, string> = { full: 'NORMAL', normal: 'NORMAL', off: 'OFF' };

interface QueuedRecord {
  readonly shardIndex: number;
  readonly partitionKey: string;
  readonly explicitHashKey: string | null;
  readonly data: Buffer;
  readonly arrivalMs: number;
}

interface QueuedGroup {
  readonly records: readonly QueuedRecord[];
  readonly resolve: (results: AppendResult[]) => void;
  readonly reject: (error: unknown) => void;
}

type ConsumerWrite =
  | { readonly kind: 'checkpoint'; readonly consumer: string; readonly shardIndex: number; readonly seq: number }
  | { readonly kind: 'failure'; readonly consumer: string; readonly entry: FailureWrite };

const ROWS_PER_INSERT = 50;

/** Partition keys whose shard is remembered; past this the memo starts over (bounded memory). */
const SHARD_CACHE_KEYS = 100_000;

interface HotStatements {
  readonly read: Database.Statement;
  readonly lastSeq: Database.Statement;
  readonly getCheckpoint: Database.Statement;
  readonly setCheckpoint: Database.Statement;
}

export class LocalStream {
  readonly file: string;
  readonly streamName: string;
  readonly shardCount: number;
  readonly retentionHours: number;
  readonly durability: Durability;
  readonly shards: readonly ShardInfo[];

  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly listeners = new Set<AppendListener>();
  private readonly commitListeners = new Set<CommitListener>();
  private queue: QueuedGroup[] = [];
  private consumerWrites: ConsumerWrite[] = [];
  private committedWaiters: (() => void)[] = [];
  private flushScheduled = false;
  /** Durability 'full': commits made, waiting for the WAL fsync that covers them. */
  private unsynced: (() => void)[] = [];
  private unsyncedFailures: ((error: unknown) => void)[] = [];
  private syncing = false;
  private walFd: number | undefined;
  private readonly syncIdleWaiters: (() => void)[] = [];
  private prepared: HotStatements | undefined;
  private readonly shardOfKey = new Map<string, number>();
  private closed = false;
  private readonly trimTimer: NodeJS.Timeout;
  private readonly commitGroups: (
    groups: readonly QueuedGroup[],
    consumerWrites: readonly ConsumerWrite[],
  ) => { results: AppendResult[][]; touched: number[]; records: CommittedRecord[] | undefined };

  /**
   * Opens (creating if needed) the stream file. Trims expired records before returning.
   * @throws StreamConfigMismatchError if the file holds another stream name or shard count.
   */
  static open(options: LocalStreamOptions): LocalStream {
    return new LocalStream(options);
  }

  private constructor(options: LocalStreamOptions) {
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) throw new StreamError(`LocalStream.open: unknown option "${key}"`);
    }
    validateOptions(options);
    this.file = options.file;
    this.streamName = options.streamName;
    this.shardCount = options.shardCount;
    this.retentionHours = options.retentionHours;
    this.durability = options.durability ?? 'full';
    this.clock = options.clock ?? systemClock;
    this.shards = evenHashKeyRanges(options.shardCount).map((hashKeyRange, i) => ({
      shardId: shardIdOf(i),
      hashKeyRange,
    }));

    try {
      this.db = new Database(options.file);
    } catch (cause) {
      throw new StreamError(`cannot open stream file ${options.file}`, { cause });
    }
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${SYNCHRONOUS[this.durability]}`);
      // Another process (the query CLI, a second consumer) may hold the lock for a moment.
      this.db.pragma('busy_timeout = 5000');
      createSchema(this.db);
      this.db.transaction(() => this.initialiseMeta()).immediate();
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.commitGroups = this.prepareCommit();
    this.trim();
    this.trimTimer = setInterval(() => {
      try {
        this.trim();
      } catch {
        // A busy database only delays trimming to the next tick; the next open trims too.
      }
    }, options.trimIntervalMs ?? 60_000);
    this.trimTimer.unref();
  }

  /** The shard a partition key (or explicit hash key) maps to. Throws for an invalid key. */
  shardFor(partitionKey: string, explicitHashKey?: string): string {
    return shardIdOf(this.shardIndexFor(partitionKey, explicitHashKey, 'shardFor'));
  }

  /**
   * Queues one record; resolves once the transaction holding it has committed. Records appended in
   * one event-loop turn share one transaction, in call order, so call order is per-key order.
   * Rejects with StreamRecordInvalidError (nothing written) for a record Kinesis would refuse.
   */
  append(entry: AppendEntry): Promise<AppendResult> {
    return this.appendMany([entry]).then((results) => results[0]!);
  }

  /** Queues several records, in order, into the same commit. All are validated first: one bad entry rejects them all. */
  appendMany(entries: readonly AppendEntry[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new StreamClosedError(`stream ${this.streamName} is closed`));
    let records: QueuedRecord[];
    try {
      const now = this.clock.now();
      records = entries.map((entry, i) => this.validateEntry(entry, entries.length === 1 ? 'record' : `record ${i}`, now));
    } catch (error) {
      return Promise.reject(error);
    }
    if (records.length === 0) return Promise.resolve([]);
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Where a checkpoint points; throws for an unknown shard or a position beyond the newest record. */
  private checkpointPosition(consumer: string, shardId: string, sequenceNumber: string): { shardIndex: number; seq: number } {
    this.assertOpen();
    const shardIndex = this.shardIndexOf(shardId);
    const seq = parseSequenceNumber(sequenceNumber, `checkpoint of ${consumer} on ${shardId}`);
    const last = this.statements().lastSeq.get(shardIndex) as number;
    if (seq > last) {
      throw new StreamError(
        `checkpoint of ${consumer} on ${shardId}: ${sequenceNumber} is beyond the newest record ${formatSequenceNumber(last)}`,
      );
    }
    return { shardIndex, seq };
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate runs after the I/O callbacks of this turn: everything that arrived with them
    // (one socket read can carry many PUBLISH packets) joins the same commit.
    setImmediate(() => this.flush());
  }

  /** Records of one shard in sequence order. */
  read(shardId: string, options: ReadOptions): StreamRecord[] {
    this.assertOpen();
    return readShard(this.statements().read, shardId, this.shardIndexOf(shardId), options);
  }

  /** The newest sequence number committed on a shard (by any connection), or undefined if none ever was. */
  latestSequenceNumber(shardId: string): string | undefined {
    this.assertOpen();
    const last = this.statements().lastSeq.get(this.shardIndexOf(shardId)) as number;
    return last === 0 ? undefined : formatSequenceNumber(last);
  }

  /**
   * In-process notification after each commit, so consumers wake at once instead of polling.
   * A reader on another connection (thread, process) does not get it and polls
   * `latestSequenceNumber` instead. Returns the unsubscribe function.
   */
  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * After each commit of records, the records themselves: for a reader in another thread, which can
   * then hold what was just committed instead of reading it back from the file. Returns the
   * unsubscribe function.
   */
  onCommit(listener: CommitListener): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** The consumer's last processed sequence number on a shard, or undefined before its first checkpoint. */
  getCheckpoint(consumer: string, shardId: string): string | undefined {
    this.assertOpen();
    const seq = this.statements().getCheckpoint.get(consumer, this.shardIndexOf(shardId)) as number | undefined;
    return seq === undefined ? undefined : formatSequenceNumber(seq);
  }

  /**
   * Records that the consumer is done with every record of the shard up to `sequenceNumber`, in a
   * commit of its own: it survives a crash at once, and power loss once the next WAL fsync covers it
   * (a lost checkpoint only re-delivers).
   */
  setCheckpoint(consumer: string, shardId: string, sequenceNumber: string): void {
    const { shardIndex, seq } = this.checkpointPosition(consumer, shardId, sequenceNumber);
    this.statements().setCheckpoint.run(consumer, shardIndex, seq, this.clock.now());
  }

  /**
   * Saves a checkpoint with the next group commit instead of in a transaction (and an fsync) of its
   * own: for the consumers' worker thread, whose checkpoint writes go through the thread owning this
   * file's writes. Written after every `queueFailure` queued before it, in the same or an earlier
   * transaction. `commitQueued` resolves once it is durable.
   */
  queueCheckpoint(consumer: string, shardId: string, sequenceNumber: string): void {
    const { shardIndex, seq } = this.checkpointPosition(consumer, shardId, sequenceNumber);
    this.consumerWrites.push({ kind: 'checkpoint', consumer, shardIndex, seq });
    this.scheduleFlush();
  }

  /** Writes an on-failure destination entry with the next group commit (see queueCheckpoint). */
  queueFailure(consumer: string, entry: FailureWrite): void {
    this.assertOpen();
    this.shardIndexOf(entry.shardId);
    this.consumerWrites.push({ kind: 'failure', consumer, entry });
    this.scheduleFlush();
  }

  /** Resolves once everything appended or queued so far is committed (at once when nothing is pending). */
  commitQueued(): Promise<void> {
    if (this.queue.length === 0 && this.consumerWrites.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.committedWaiters.push(resolve);
      this.scheduleFlush();
    });
  }

  /**
   * Deletes records older than the retention period, as Kinesis expiry does; returns how many.
   * A consumer whose checkpoint points into trimmed data resumes at the trim horizon.
   */
  trim(): number {
    this.assertOpen();
    const cutoff = this.clock.now() - this.retentionHours * 3_600_000;
    // Arrival times never decrease along a shard, so the expired records are a prefix: find the first
    // live one through the (shard, seq) key and delete before it. Cost: the expired rows, not the shard.
    const firstLive = this.db
      .prepare('SELECT seq FROM records WHERE shard_index = ? AND arrival_ms >= ? ORDER BY seq LIMIT 1')
      .pluck();
    const deleteBefore = this.db.prepare('DELETE FROM records WHERE shard_index = ? AND seq < ?');
    const deleteAll = this.db.prepare('DELETE FROM records WHERE shard_index = ?');
    return this.db.transaction(() => {
      let deleted = 0;
      for (let i = 0; i < this.shardCount; i++) {
        const live = firstLive.get(i, cutoff) as number | undefined;
        deleted += (live === undefined ? deleteAll.run(i) : deleteBefore.run(i, live)).changes;
      }
      return deleted;
    })();
  }

  /** Writes one entry of the on-failure destination (durably, before the caller moves the checkpoint). */
  recordFailure(
    consumer: string,
    entry: FailureWrite,
  ): number {
    this.assertOpen();
    const result = this.db
      .prepare(
        'INSERT INTO esm_failures (consumer, shard_id, condition, created_ms, metadata, payload) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(consumer, entry.shardId, entry.condition, this.clock.now(), JSON.stringify(entry.metadata), JSON.stringify(entry.payload));
    return Number(result.lastInsertRowid);
  }

  /** The on-failure destination, oldest first, for one consumer or all. */
  listFailures(consumer?: string): FailureEntry[] {
    this.assertOpen();
    return listFailuresInDatabase(this.db, consumer);
  }

  /** Shards, sequence numbers, consumers' checkpoints and lag, failure-destination counts. */
  describe(): StreamDescription {
    this.assertOpen();
    return describeDatabase(this.db);
  }

  /** Commits pending appends (and waits for their fsync), then closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.trimTimer);
    this.listeners.clear();
    this.commitListeners.clear();
    if (this.syncing) await new Promise<void>((resolve) => this.syncIdleWaiters.push(resolve));
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
    this.db.close();
  }

  /**
   * The statements of the hot paths (the consumers read, look up the newest sequence number and save
   * checkpoints after every batch), prepared once: preparing costs more than running them.
   */
  private statements(): HotStatements {
    this.prepared ??= {
      read: this.db.prepare(READ_SQL),
      lastSeq: this.db.prepare('SELECT last_seq FROM shards WHERE shard_index = ?').pluck(),
      getCheckpoint: this.db.prepare('SELECT seq FROM checkpoints WHERE consumer = ? AND shard_index = ?').pluck(),
      setCheckpoint: this.db.prepare(
        `INSERT INTO checkpoints (consumer, shard_index, seq, updated_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (consumer, shard_index) DO UPDATE SET seq = excluded.seq, updated_ms = excluded.updated_ms`,
      ),
    };
    return this.prepared;
  }

  private flush(): void {
    this.flushScheduled = false;
    const groups = this.queue;
    const consumerWrites = this.consumerWrites;
    const waiters = this.committedWaiters;
    if ((groups.length === 0 && consumerWrites.length === 0) || this.closed) return;
    this.queue = [];
    this.consumerWrites = [];
    this.committedWaiters = [];
    let committed: { results: AppendResult[][]; touched: number[]; records: CommittedRecord[] | undefined };
    try {
      committed = this.commitGroups(groups, consumerWrites);
    } catch (cause) {
      const error = new StreamError(`append to stream ${this.streamName} failed; none of the ${groups.length} queued appends was written`, {
        cause,
      });
      for (const group of groups) group.reject(error);
      // The consumers' writes are theirs to keep: in their order, before anything queued since, at the next commit.
      this.consumerWrites = [...consumerWrites, ...this.consumerWrites];
      this.committedWaiters = [...waiters, ...this.committedWaiters];
      if (this.consumerWrites.length > 0) setTimeout(() => this.scheduleFlush(), 100).unref();
      return;
    }
    const settle = () => {
      groups.forEach((group, i) => group.resolve(committed.results[i]!));
      for (const resolve of waiters) resolve();
    };
    if (this.durability === 'full') {
      this.unsynced.push(settle);
      this.unsyncedFailures.push((cause) => {
        const error = new StreamError(`stream ${this.streamName}: the WAL fsync failed; ${groups.length} appends are not known to be durable`, { cause });
        for (const group of groups) group.reject(error);
        for (const resolve of waiters) resolve();
      });
      this.syncWal();
    } else {
      settle();
    }
    if (committed.touched.length === 0) return;
    if (committed.records !== undefined) {
      for (const listener of this.commitListeners) {
        try {
          listener(committed.records);
        } catch {
          // As for append listeners: the records are committed either way.
        }
      }
    }
    const shardIds = committed.touched.map(shardIdOf);
    for (const listener of this.listeners) {
      try {
        listener(shardIds);
      } catch {
        // A listener's failure is its own; the records are committed either way.
      }
    }
  }

  /**
   * Fsyncs the WAL file off the thread, then settles every commit made before the fsync started.
   * One fsync in flight at a time: commits made meanwhile wait for the next one, which starts as soon
   * as this one ends and covers them all (group commit of the fsyncs themselves).
   */
  private syncWal(): void {
    if (this.syncing || this.unsynced.length === 0) return;
    const settle = this.unsynced;
    const fail = this.unsyncedFailures;
    this.unsynced = [];
    this.unsyncedFailures = [];
    let fd: number;
    try {
      // SQLite creates the WAL file at the first commit and keeps the same file (it rewrites it from the
      // start after a checkpoint, never replaces it) while any connection is open: this connection is,
      // until close, which closes this descriptor first.
      this.walFd ??= openSync(`${this.file}-wal`, 'r+');
      fd = this.walFd;
    } catch (error) {
      for (const f of fail) f(error);
      return;
    }
    this.syncing = true;
    fsync(fd, (error) => {
      if (error) for (const f of fail) f(error);
      else for (const s of settle) s();
      this.syncing = false;
      this.syncWal();
      if (!this.syncing) for (const resolve of this.syncIdleWaiters.splice(0)) resolve();
    });
  }

  private prepareCommit(): (
    groups: readonly QueuedGroup[],
    consumerWrites: readonly ConsumerWrite[],
  ) => { results: AppendResult[][]; touched: number[]; records: CommittedRecord[] | undefined } {
    const readShards = this.db.prepare('SELECT shard_index, last_seq, last_arrival_ms FROM shards');
    const insertSql = (rows: number) =>
      `INSERT INTO records (shard_index, seq, partition_key, explicit_hash_key, arrival_ms, data) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}`;
    const insert = this.db.prepare(insertSql(1));
    // Rows go in ROWS_PER_INSERT at a time: one statement step per 50 records instead of per record
    // (4.1 instead of 5.1 us of SQLite CPU per record, measured alone).
    const insertMany = this.db.prepare(insertSql(ROWS_PER_INSERT));
    const updateShard = this.db.prepare('UPDATE shards SET last_seq = ?, last_arrival_ms = ? WHERE shard_index = ?');
    const setCheckpoint = this.statements().setCheckpoint;
    const insertFailure = this.db.prepare(
      'INSERT INTO esm_failures (consumer, shard_id, condition, created_ms, metadata, payload) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const tx = this.db.transaction((groups: readonly QueuedGroup[], consumerWrites: readonly ConsumerWrite[]) => {
      // Counters are read inside the (IMMEDIATE) transaction, so a second writer on the file cannot
      // make two records share a sequence number.
      const state = readShards.all() as { shard_index: number; last_seq: number; last_arrival_ms: number }[];
      const lastSeq = state.map((s) => s.last_seq);
      const lastArrival = state.map((s) => s.last_arrival_ms);
      const touched = new Set<number>();
      const records: CommittedRecord[] | undefined = this.commitListeners.size > 0 ? [] : undefined;
      const values: unknown[] = [];
      const results = groups.map((group) =>
        group.records.map((r) => {
          const seq = ++lastSeq[r.shardIndex]!;
          const arrival = Math.max(lastArrival[r.shardIndex]!, r.arrivalMs);
          lastArrival[r.shardIndex] = arrival;
          values.push(r.shardIndex, seq, r.partitionKey, r.explicitHashKey, arrival, r.data);
          if (values.length === ROWS_PER_INSERT * 6) {
            insertMany.run(values);
            values.length = 0;
          }
          records?.push({ shardIndex: r.shardIndex, seq, partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey, arrivalMs: arrival, data: r.data });
          touched.add(r.shardIndex);
          return { shardId: this.shards[r.shardIndex]!.shardId, sequenceNumber: formatSequenceNumber(seq) };
        }),
      );
      for (let i = 0; i < values.length; i += 6) insert.run(values.slice(i, i + 6));
      for (const i of touched) updateShard.run(lastSeq[i], lastArrival[i], i);
      const now = this.clock.now();
      for (const w of consumerWrites) {
        if (w.kind === 'checkpoint') setCheckpoint.run(w.consumer, w.shardIndex, w.seq, now);
        else insertFailure.run(w.consumer, w.entry.shardId, w.entry.condition, now, JSON.stringify(w.entry.metadata), JSON.stringify(w.entry.payload));
      }
      return { results, touched: [...touched].sort((a, b) => a - b), records };
    });
    return (groups, consumerWrites) => tx.immediate(groups, consumerWrites);
  }

  private initialiseMeta(): void {
    const rows = this.db.prepare('SELECT key, value FROM stream_meta').all() as { key: string; value: string }[];
    const meta = new Map(rows.map((r) => [r.key, r.value]));
    if (meta.size === 0) {
      const put = this.db.prepare('INSERT INTO stream_meta (key, value) VALUES (?, ?)');
      put.run('schema_version', String(SCHEMA_VERSION));
      put.run('stream_name', this.streamName);
      put.run('shard_count', String(this.shardCount));
      put.run('retention_hours', String(this.retentionHours));
      put.run('created_ms', String(this.clock.now()));
      const addShard = this.db.prepare(
        'INSERT INTO shards (shard_index, shard_id, starting_hash_key, ending_hash_key) VALUES (?, ?, ?, ?)',
      );
      this.shards.forEach((s, i) =>
        addShard.run(i, s.shardId, s.hashKeyRange.startingHashKey.toString(), s.hashKeyRange.endingHashKey.toString()),
      );
      return;
    }
    if (meta.get('schema_version') !== String(SCHEMA_VERSION)) {
      throw new StreamConfigMismatchError(
        `${this.file}: stream file format ${meta.get('schema_version')}, this code reads format ${SCHEMA_VERSION}`,
      );
    }
    if (meta.get('stream_name') !== this.streamName) {
      throw new StreamConfigMismatchError(
        `${this.file} holds stream "${meta.get('stream_name')}", not "${this.streamName}"; use another file`,
      );
    }
    if (meta.get('shard_count') !== String(this.shardCount)) {
      throw new StreamConfigMismatchError(
        `${this.file} holds stream "${this.streamName}" with ${meta.get('shard_count')} shards, but ${this.shardCount} were asked for; ` +
          'the local stream cannot be resharded: keep the shard count or delete the file (its records and checkpoints go with it)',
      );
    }
    // Retention may change, as IncreaseStreamRetentionPeriod / DecreaseStreamRetentionPeriod allow on Kinesis.
    this.db.prepare("UPDATE stream_meta SET value = ? WHERE key = 'retention_hours'").run(String(this.retentionHours));
  }

  private validateEntry(entry: AppendEntry, where: string, now: number): QueuedRecord {
    const { partitionKey, data, explicitHashKey } = entry;
    const shardIndex = this.shardIndexFor(partitionKey, explicitHashKey, where);
    if (!(data instanceof Uint8Array)) {
      throw new StreamRecordInvalidError(`${where} (partition key ${JSON.stringify(partitionKey)}): data must be bytes (Uint8Array)`);
    }
    const size = data.byteLength + Buffer.byteLength(partitionKey, 'utf8');
    if (size > RECORD_LIMITS.maxRecordBytes) {
      throw new StreamRecordInvalidError(
        `${where} (partition key ${JSON.stringify(partitionKey)}): ${size} bytes of data and partition key, more than the 1 MiB a record may hold`,
      );
    }
    // Copy: the caller may reuse its buffer before the commit.
    return { shardIndex, partitionKey, explicitHashKey: explicitHashKey ?? null, data: Buffer.from(data), arrivalMs: now };
  }

  private shardIndexFor(partitionKey: string, explicitHashKey: string | undefined, where: string): number {
    if (typeof partitionKey !== 'string') throw new StreamRecordInvalidError(`${where}: partition key must be a string`);
    // A fleet sends the same few thousand partition keys (device ids) over and over: their shard is
    // remembered instead of hashing each append (MD5 and the checks were 7% of the broker-to-append
    // path's CPU in a QoS 1 flood, measured with node --cpu-prof). Only valid keys are remembered.
    if (explicitHashKey === undefined) {
      const known = this.shardOfKey.get(partitionKey);
      if (known !== undefined) return known;
    }
    const length = [...partitionKey].length;
    if (length < 1 || length > RECORD_LIMITS.maxPartitionKeyLength) {
      throw new StreamRecordInvalidError(
        `${where}: partition key must be 1 to ${RECORD_LIMITS.maxPartitionKeyLength} characters, got ${length}`,
      );
    }
    let hashKey: bigint;
    if (explicitHashKey === undefined) {
      hashKey = partitionKeyHashKey(partitionKey);
    } else {
      if (typeof explicitHashKey !== 'string' || !RECORD_LIMITS.explicitHashKey.test(explicitHashKey) || BigInt(explicitHashKey) > MAX_HASH_KEY) {
        throw new StreamRecordInvalidError(
          `${where} (partition key ${JSON.stringify(partitionKey)}): explicit hash key must be a decimal integer from 0 to 2^128-1, got ${JSON.stringify(explicitHashKey)}`,
        );
      }
      hashKey = BigInt(explicitHashKey);
    }
    const index = rangeIndexOf(
      this.shards.map((s) => s.hashKeyRange),
      hashKey,
    );
    if (explicitHashKey === undefined) {
      if (this.shardOfKey.size >= SHARD_CACHE_KEYS) this.shardOfKey.clear();
      this.shardOfKey.set(partitionKey, index);
    }
    return index;
  }

  private shardIndexOf(shardId: string): number {
    const index = this.shards.findIndex((s) => s.shardId === shardId);
    if (index < 0) throw new StreamError(`stream ${this.streamName} has no shard ${JSON.stringify(shardId)}`);
    return index;
  }

  private assertOpen(): void {
    if (this.closed) throw new StreamClosedError(`stream ${this.streamName} is closed`);
  }
}

function validateOptions(options: LocalStreamOptions): void {
  if (typeof options.file !== 'string' || options.file === '') throw new StreamError('LocalStream.open: file is required');
  if (typeof options.streamName !== 'string' || !/^[a-zA-Z0-9_.-]{1,128}$/.test(options.streamName)) {
    // The StreamName pattern of the Kinesis API.
    throw new StreamError(`LocalStream.open: stream name must match [a-zA-Z0-9_.-]{1,128}, got ${JSON.stringify(options.streamName)}`);
  }
  if (!Number.isInteger(options.shardCount) || options.shardCount < 1 || options.shardCount > 1000) {
    throw new StreamError(`LocalStream.open: shardCount must be an integer from 1 to 1000, got ${options.shardCount}`);
  }
  if (!Number.isInteger(options.retentionHours) || options.retentionHours < 24 || options.retentionHours > 8760) {
    throw new StreamError(`LocalStream.open: retentionHours must be an integer from 24 to 8760, got ${options.retentionHours}`);
  }
  if (options.durability !== undefined && !(options.durability in SYNCHRONOUS)) {
    throw new StreamError(`LocalStream.open: durability must be full, normal or off, got ${JSON.stringify(options.durability)}`);
  }
}
