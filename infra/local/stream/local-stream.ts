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
 * The parts live beside this file: group-commit.ts (the transaction), wal-sync.ts (the fsync),
 * retention.ts (trimming), read.ts (reads), shard-routing.ts (keys to shards), meta.ts, options.ts.
 *
 * Local limits: one stream per file, a fixed shard count (no resharding: reopening with another
 * count fails), no throughput throttling per shard.
 */
import Database from 'better-sqlite3';
import type { Clock } from '../../../lambdas/ports/clock.js';
import { systemClock } from '../../../lambdas/ports/clock.js';
import { StreamClosedError, StreamError } from './errors.js';
import { evenHashKeyRanges, shardIdOf } from './hash.js';
import { createSchema } from './schema.js';
import { formatSequenceNumber, parseSequenceNumber } from './sequence.js';
import type { FailureEntry, FailureWrite } from './failures.js';
import type { StreamDescription } from './describe.js';
import { describeDatabase, listFailuresInDatabase } from './describe.js';
import { READ_SQL, readShard } from './read.js';
import { prepareGroupCommit } from './group-commit.js';
import type { CommitGroups, CommitOutcome, ConsumerWrite, QueuedGroup, QueuedRecord } from './group-commit.js';
import { initialiseMeta } from './meta.js';
import { SYNCHRONOUS, validateOptions } from './options.js';
import { trimBefore } from './retention.js';
import { ShardRouter } from './shard-routing.js';
import type { AppendEntry, AppendListener, AppendResult, CommitListener, Durability, LocalStreamOptions, ReadOptions, ShardInfo, ShardRecord } from './stream-types.js';
import { WalSync } from './wal-sync.js';

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
  private readonly walSync: WalSync;
  private prepared: HotStatements | undefined;
  private readonly router: ShardRouter;
  private closed = false;
  private readonly trimTimer: NodeJS.Timeout;
  private readonly commitGroups: CommitGroups;

  /**
   * Opens (creating if needed) the stream file. Trims expired records before returning.
   * @throws StreamConfigMismatchError if the file holds another stream name or shard count.
   */
  static open(options: LocalStreamOptions): LocalStream {
    return new LocalStream(options);
  }

  private constructor(options: LocalStreamOptions) {
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
    this.router = new ShardRouter(this.shards.map((s) => s.hashKeyRange));
    this.walSync = new WalSync(options.file);

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
      this.db.transaction(() => initialiseMeta(this.db, this, this.clock)).immediate();
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.commitGroups = prepareGroupCommit({
      db: this.db,
      shards: this.shards,
      setCheckpoint: this.statements().setCheckpoint,
      clock: this.clock,
      wantRecords: () => this.commitListeners.size > 0,
    });
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
    return shardIdOf(this.router.shardIndexFor(partitionKey, explicitHashKey, 'shardFor'));
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
      records = entries.map((entry, i) => this.router.validateEntry(entry, entries.length === 1 ? 'record' : `record ${i}`, now));
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
  read(shardId: string, options: ReadOptions): ShardRecord[] {
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
    return trimBefore(this.db, this.shardCount, this.clock.now() - this.retentionHours * 3_600_000);
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
    await this.walSync.close();
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
    let committed: CommitOutcome;
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
      this.walSync.afterCommit(settle, (cause) => {
        const error = new StreamError(`stream ${this.streamName}: the WAL fsync failed; ${groups.length} appends are not known to be durable`, { cause });
        for (const group of groups) group.reject(error);
        for (const resolve of waiters) resolve();
      });
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

  private shardIndexOf(shardId: string): number {
    const index = this.shards.findIndex((s) => s.shardId === shardId);
    if (index < 0) throw new StreamError(`stream ${this.streamName} has no shard ${JSON.stringify(shardId)}`);
    return index;
  }

  private assertOpen(): void {
    if (this.closed) throw new StreamClosedError(`stream ${this.streamName} is closed`);
  }
}
