import { closeSync, existsSync, fsync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { AlarmNotifier } from '../../ports/alarm-notifier.js';
import type { AlarmStateStore } from '../../ports/alarm-state-store.js';
import type { Clock } from '../../ports/clock.js';
import { systemClock } from '../../ports/clock.js';
import type { RejectSink } from '../../ports/reject-sink.js';
import type { TimeSeriesStore } from '../../ports/time-series-store.js';
import { RetryableError } from '../../domain/errors.js';
import { LocalAdapterError } from './errors.js';
import type { ThresholdRules } from '../../domain/thresholds.js';
import type { AlarmHistory } from '../../ports/alarm-history.js';
import type { AlarmReader } from '../../ports/alarm-reader.js';
import { SqliteAlarmHistory, SqliteAlarmReader, queryCommands, type CommandQuery, type RecordedAlarmCommand } from './sqlite-alarm-history.js';
import { SqliteAlarmLog } from './sqlite-alarm-log.js';
import { SqliteAlarmStateStore } from './sqlite-alarm-state.js';
import type {
  AlarmStateQuery,
  DeviceLastSeen,
  LogQuery,
  ReadingQuery,
  ReadingRow,
  RecordedAlarmEvent,
  RejectRow,
} from './sqlite-queries.js';
import { StoreQueries } from './sqlite-queries.js';
import { SqliteRejectSink } from './sqlite-reject-sink.js';
import { checkSchema, migrate } from './sqlite-schema.js';
import { SqliteTimeSeriesStore } from './sqlite-time-series.js';
import { WriteGroup } from './write-group.js';

/** The store file does not exist (a read-only open never creates one). */
export class StoreNotFoundError extends LocalAdapterError {}

interface SqliteStoreOptions {
  /**
   * Open for reading only: the file must exist at this code's schema version, and the port adapters
   * refuse to write (SQLITE_READONLY). For the query CLI and the console while the stack runs.
   * @default false
   */
  readonly readonly?: boolean;
  /** Stamps `recordedAt` of alarm transitions. @default systemClock */
  readonly clock?: Clock;
  /**
   * How long a statement waits for another connection's lock before failing with SQLITE_BUSY (which
   * the adapters turn into RetryableError), ms.
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
  /**
   * Fsync store.db's WAL before a notifier wrapped by `commitBefore` is told of any alarm event, so
   * that no transition is heard of that a power cut could take back (see the class comment). Off only
   * where nothing else is made to survive power loss either (the stack's durability 'normal' or 'off').
   * @default true
   */
  readonly durableNotifications?: boolean;
}

/** A consumer's position as store.db holds it: the last stream record whose writes it covers. */
export interface ConsumerPosition {
  readonly consumer: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/**
 * The local store: one SQLite file (`<dataDir>/store.db`) holding the time series, the rejects, the
 * alarm state and the alarm log, each exposed as the port it implements, plus the read-side queries.
 *
 * Journal mode WAL, so readers (the query CLI, the console) never block the writer and the writer
 * never blocks them. `synchronous = NORMAL`: in WAL mode a commit is then not fsynced, only each
 * checkpoint is. A process crash (kill -9) still loses nothing ("Transactions are durable across
 * application crashes regardless of the synchronous setting or journal mode",
 * https://www.sqlite.org/pragma.html#pragma_synchronous); an OS crash or power loss can roll back the
 * newest commits (the WAL keeps a prefix of them: each frame's checksum covers every frame before it,
 * https://www.sqlite.org/fileformat.html, "The Write-Ahead Log"). Two things make that safe:
 * - Each consumer's position (`consumer_positions`) is written in the same or a later transaction than
 *   the writes it covers, so a rolled-back file also has rolled-back positions; the stack resumes each
 *   consumer from the lower of its position here and its checkpoint in stream.db (which is fsynced
 *   with the appends) and replays what the store lost. Every write is an idempotent upsert or a
 *   version-checked write, so the replay stores each reading once and the alarm engine re-decides
 *   exactly the transitions it had decided.
 * - A transition must not be decided twice once someone has heard of it: `commitBefore` fsyncs the WAL
 *   before telling any notifier of an event (durableNotifications), so the rollback never reaches
 *   past a published transition's state and outbox.
 * A per-commit fsync (`synchronous = FULL`) would also do it, for a disk flush per invocation on the
 * consumers' thread (measured against this in docs/architecture.md, Decisions).
 *
 * @example
 * const store = SqliteStore.open(join(dataDir, 'store.db'));
 * const handler = makeIngestHandler({ timeSeries: store.timeSeries, rejects: store.rejects, ... });
 * // later
 * store.queryReadings({ deviceId: 'sensor-0001', since: Date.now() - 3_600_000 });
 * store.close();
 */
export class SqliteStore {
  readonly timeSeries: TimeSeriesStore;
  readonly rejects: RejectSink;
  readonly alarmStates: AlarmStateStore;
  /** Records every alarm transition once: wire it as one of the notifiers (the console and CLI read it). */
  readonly alarmLog: AlarmNotifier;
  /** The alarm history: records commands (and transitions, through the alarm log). */
  readonly alarmHistory: AlarmHistory;

  private readonly queries: StoreQueries;
  private readonly writes: WriteGroup;
  private readonly selectPositions: Database.Statement<[], ConsumerPosition>;
  private readonly upsertPosition: Database.Statement;
  private walFd: number | undefined;

  private constructor(
    private readonly db: Database.Database,
    /** The file this store was opened on. */
    readonly file: string,
    clock: Clock,
    /** Whether `commitBefore` fsyncs before notifying (SqliteStoreOptions.durableNotifications). */
    readonly durableNotifications: boolean,
  ) {
    this.writes = new WriteGroup(db, durableNotifications ? { makeDurable: () => this.syncWal() } : {});
    this.timeSeries = new SqliteTimeSeriesStore(db, this.writes);
    this.rejects = new SqliteRejectSink(db, this.writes);
    this.alarmStates = new SqliteAlarmStateStore(db, this.writes);
    const alarmLog = new SqliteAlarmLog(db, clock, this.writes);
    this.alarmLog = alarmLog;
    this.alarmHistory = new SqliteAlarmHistory(db, alarmLog, clock, this.writes);
    this.queries = new StoreQueries(db);
    this.selectPositions = db.prepare(
      'SELECT consumer, shard_id AS shardId, sequence_number AS sequenceNumber FROM consumer_positions ORDER BY consumer, shard_id',
    );
    this.upsertPosition = db.prepare(
      `INSERT INTO consumer_positions (consumer, shard_id, sequence_number) VALUES (?, ?, ?)
       ON CONFLICT (consumer, shard_id) DO UPDATE SET sequence_number = excluded.sequence_number`,
    );
  }

  /**
   * Opens (creating it and its folder unless read-only) the store at `file`, and brings its schema to
   * this code's version. Throws StoreNotFoundError for a missing file opened read-only, and
   * StoreSchemaError for a file whose schema this code cannot use.
   */
  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    const readonly = options.readonly ?? false;
    const timeout = options.busyTimeoutMs ?? 5_000;
    if (readonly && !existsSync(file)) throw new StoreNotFoundError(`no store at ${file}`);
    if (!readonly) mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file, { readonly, fileMustExist: readonly, timeout });
    try {
      if (readonly) {
        checkSchema(db, file);
      } else {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        // Readings are clustered by device, so a batch from a whole fleet touches one leaf page per
        // device; 64 MiB (the default is 2 MiB) keeps every device's newest pages in memory instead of
        // re-reading them through the OS at each commit.
        db.pragma('cache_size = -65536');
        // A checkpoint copies every page written since the last one into the database file (and, at
        // synchronous=NORMAL, fsyncs). The ingest consumer dirties about one page per reading (one per
        // device), rewriting the same few thousand pages over and over: checkpointing every 10,000
        // pages (40 MiB of WAL) instead of SQLite's 1,000 copies each of them once instead of ten
        // times. Measured on 100,000 readings from 1,000 devices: 26 -> 21 us of CPU per reading.
        db.pragma('wal_autocheckpoint = 10000');
        migrate(db, file);
      }
      return new SqliteStore(db, file, options.clock ?? systemClock, options.durableNotifications ?? true);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Wraps a consumer's handler so that the writes it makes through this store share transactions,
   * committed before the handler's promise settles (see WriteGroup): one commit per invocation instead
   * of one per device. The local composition wraps both consumers' handlers; AWS has no equivalent.
   * @example
   * const handler = store.groupWrites(makeAlarmsHandler({ states: store.alarmStates, notifier: store.commitBefore(notifier), ... }));
   */
  groupWrites<A extends unknown[], R>(handler: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return this.writes.scope(handler);
  }

  /**
   * Wraps a notifier so that grouped writes still pending commit before it is called: an alarm's new
   * state and outbox are committed before anyone hears of its transition. Wire every notifier that
   * publishes outside store.db through it when handlers are wrapped with `groupWrites`.
   */
  commitBefore(notifier: AlarmNotifier): AlarmNotifier {
    return this.writes.commitBefore(notifier);
  }

  /**
   * Records that `consumer` has applied every record of the shard up to `sequenceNumber`. Call it only
   * once those records' writes are committed (the event source mapping saves its checkpoint after the
   * invocation's grouped writes commit): it joins the open transaction or the next one, never costing
   * a commit of its own.
   */
  recordConsumerPosition(consumer: string, shardId: string, sequenceNumber: string): void {
    this.writes.runGrouped(`store.db consumer position ${consumer} ${shardId}`, () => this.upsertPosition.run(consumer, shardId, sequenceNumber));
  }

  /** Every consumer's position, per shard (none before its first checkpoint). */
  consumerPositions(): ConsumerPosition[] {
    return this.selectPositions.all();
  }

  /**
   * Commits the grouped writes still pending, now: for a side effect that is not a notifier (a
   * command reply) and must not be seen before the writes it reports.
   */
  commitPending(): void {
    this.writes.commit();
  }

  /**
   * Commits the grouped writes still pending and, with durableNotifications, fsyncs them: for a side
   * effect that reports those writes outside the process (a command reply), so that a power cut
   * cannot take back what it reported.
   */
  commitDurably(): Promise<void> {
    return this.writes.commitDurably();
  }

  /** The alarms' lifecycle states (as the engine reads them under `rules`) and their history. */
  alarmReader(rules: ThresholdRules): AlarmReader {
    return new SqliteAlarmReader(this.db, rules);
  }

  /** Recorded operator commands (see queryCommands in sqlite-alarm-history.ts). */
  queryCommands(q: CommandQuery = {}): RecordedAlarmCommand[] {
    return queryCommands(this.db, q);
  }

  /** See StoreQueries.queryReadings. */
  queryReadings(q: ReadingQuery = {}): ReadingRow[] {
    return this.queries.queryReadings(q);
  }

  countReadings(q: Omit<ReadingQuery, 'limit' | 'order'> = {}): number {
    return this.queries.countReadings(q);
  }

  queryAlarmStates(q: AlarmStateQuery = {}): RecordedAlarmEvent[] {
    return this.queries.queryAlarmStates(q);
  }

  queryTransitions(q: LogQuery = {}): RecordedAlarmEvent[] {
    return this.queries.queryTransitions(q);
  }

  queryRejects(q: LogQuery = {}): RejectRow[] {
    return this.queries.queryRejects(q);
  }

  lastSeen(): DeviceLastSeen[] {
    return this.queries.lastSeen();
  }

  /** Closes the file. A writer's close checkpoints the WAL into the database file. */
  close(): void {
    if (!this.db.open) return;
    try {
      // Closing with a transaction open would roll it back: grouped writes still pending go in first.
      this.writes.commit();
    } finally {
      // Before the connection: the last connection's close deletes the WAL file.
      if (this.walFd !== undefined) closeSync(this.walFd);
      this.walFd = undefined;
      this.db.close();
    }
  }

  /**
   * Fsyncs the WAL file on libuv's thread pool: every commit made before it is then durable. The same
   * fsync SQLite's `synchronous = FULL` makes inside each COMMIT, made only when something is about to
   * leave the process. SQLite keeps the same WAL file (rewriting it from the start after a checkpoint,
   * whose own fsync of store.db covers what it copied) while this connection is open.
   */
  private syncWal(): Promise<void> {
    return new Promise((resolve, reject) => {
      let fd: number;
      try {
        this.walFd ??= openSync(`${this.file}-wal`, 'r+');
        fd = this.walFd;
      } catch (cause) {
        reject(new RetryableError(`store.db: cannot open the WAL to make alarm state durable: ${String(cause)}`, { cause }));
        return;
      }
      fsync(fd, (cause) => {
        if (cause) reject(new RetryableError(`store.db: the WAL fsync failed; alarm events wait until it succeeds: ${cause.message}`, { cause }));
        else resolve();
      });
    });
  }
}
