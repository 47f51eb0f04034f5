/**
 * The stream as the consumers' worker sees it: reads through its own read-only connection
 * (StreamReader), and hands every write (checkpoints, failure entries) to the stack's thread, which
 * owns the file's only write connection and commits them with its next group commit. The stack's
 * thread sends each commit's records as it makes it ('appended'): they are held in memory for both
 * consumers, which wake at once as they do in-process, and the file is read only for what is not
 * held (a restart, a consumer further behind than the held records).
 */
import type { AppendListener, FailureWrite, ReadOptions, StreamReader, ShardRecord } from '../stream/index.js';
import type { ConsumerStream } from '../event-source/index.js';
import { formatSequenceNumber } from '../stream/index.js';
import { unpackRecords } from './record-batch.js';
import type { PackedRecords } from './record-batch.js';
import type { WorkerEnd } from './protocol.js';

/**
 * A shard's held records: every record after `after` up to `lastSeq`, contiguous, from `records[head]`
 * on (the arrays are compacted now and then). `bytes` counts what is held, for the memory bound.
 */
interface HeldRun {
  after: number;
  lastSeq: number;
  records: ShardRecord[];
  seqs: number[];
  head: number;
  bytes: number;
}

/** Drops the records before `head` from the arrays once they are most of them. */
function compact(run: HeldRun): void {
  if (run.head > 4096 && run.head * 2 > run.records.length) {
    run.records = run.records.slice(run.head);
    run.seqs = run.seqs.slice(run.head);
    run.head = 0;
  }
}

/** Index of the first of the ascending `seqs` (from `low`) greater than `after` (seqs.length if none). */
function firstAfter(seqs: readonly number[], from: number, after: number): number {
  let low = from;
  let high = seqs.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (seqs[mid]! <= after) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * What is held per shard, data plus an estimate of each record object's own size. Consumers that fall
 * further behind than this (a flood faster than they store) read the rest from the file.
 */
const HELD_BYTES_PER_SHARD = 48 * 1024 * 1024;
const RECORD_OVERHEAD_BYTES = 200;

export class WorkerStream implements ConsumerStream {
  readonly streamName: string;
  readonly retentionHours: number;
  readonly shards: readonly { readonly shardId: string }[];
  private readonly listeners = new Set<AppendListener>();
  private readonly beforeCheckpoint: () => void;
  private readonly heldBytesPerShard: number;
  /** Per shard, the newest records read: a contiguous run, every record after `after` up to `lastSeq`. */
  private readonly recent = new Map<string, HeldRun>();
  /** Per shard, each consumer's last checkpoint (read at its start, then saved after each batch). */
  private readonly progress = new Map<string, Map<string, number>>();
  /** Per shard, the newest sequence number committed, as told by the stack's thread. */
  private readonly newest = new Map<string, number>();

  constructor(
    private readonly reader: StreamReader,
    private readonly channel: Pick<WorkerEnd, 'emit'>,
    options: {
      /** Runs before each checkpoint is handed over (the worker sends its counters with it). */
      readonly beforeCheckpoint?: () => void;
      /** Held records per shard, bytes. @default 48 MiB */
      readonly heldBytesPerShard?: number;
    } = {},
  ) {
    this.beforeCheckpoint = options.beforeCheckpoint ?? (() => undefined);
    this.heldBytesPerShard = options.heldBytesPerShard ?? HELD_BYTES_PER_SHARD;
    this.streamName = reader.streamName;
    this.retentionHours = reader.retentionHours;
    this.shards = reader.shards;
  }

  /** The records of one commit, as the stack's thread sent them ('appended'): held, and the consumers woken. */
  received(packed: PackedRecords): void {
    const shardIds = this.hold(unpackRecords(packed));
    for (const listener of this.listeners) listener(shardIds);
  }

  /**
   * Records of one shard, served from the records the other consumer read moments ago when it can:
   * both consumers read the same records in the same order, and reading them from SQLite twice was
   * 16% of this thread's time in a flood (node --cpu-prof).
   */
  read(shardId: string, options: ReadOptions): ShardRecord[] {
    const after = options.after === undefined ? 0 : Number(options.after);
    const run = this.recent.get(shardId);
    if (run === undefined || after < run.after || after > run.lastSeq) {
      const rows = this.reader.read(shardId, options);
      this.remember(shardId, after, rows);
      return rows;
    }
    const out: ShardRecord[] = [];
    let bytes = 0;
    for (let i = firstAfter(run.seqs, run.head, after); i < run.records.length && out.length < options.limit; i++) {
      const record = run.records[i]!;
      if (options.maxBytes !== undefined && out.length > 0 && bytes + record.data.byteLength > options.maxBytes) return out;
      bytes += record.data.byteLength;
      out.push(record);
    }
    if (out.length === options.limit) return out;
    // Nothing newer was committed by the stack's thread than what is held. Another connection (npm run
    // redrive) may still have appended: one primary-key lookup, made only when caught up, tells.
    if (run.lastSeq >= (this.newest.get(shardId) ?? Number.POSITIVE_INFINITY)) {
      const latest = Number(this.reader.latestSequenceNumber(shardId) ?? 0);
      if (latest <= run.lastSeq) return out;
      this.newest.set(shardId, latest);
    }
    const newer = this.reader.read(shardId, {
      ...(run.lastSeq === 0 ? {} : { after: formatSequenceNumber(run.lastSeq) }),
      limit: options.limit - out.length,
      ...(options.maxBytes === undefined ? {} : { maxBytes: Math.max(1, options.maxBytes - bytes) }),
    });
    this.remember(shardId, run.lastSeq, newer);
    // The reader returns at least one record even past maxBytes; past the first, that is ours to refuse.
    if (out.length > 0 && options.maxBytes !== undefined && newer.length > 0 && bytes + newer[0]!.data.byteLength > options.maxBytes) return out;
    return out.length === 0 ? newer : out.concat(newer);
  }

  /** Holds a commit's records (received from the stack's thread); returns the shards they are on. */
  private hold(records: readonly ShardRecord[]): string[] {
    const byShard = new Map<string, ShardRecord[]>();
    for (const record of records) {
      const list = byShard.get(record.shardId);
      if (list === undefined) byShard.set(record.shardId, [record]);
      else list.push(record);
    }
    for (const [shardId, list] of byShard) {
      const first = Number(list[0]!.sequenceNumber);
      const run = this.recent.get(shardId);
      // Sequence numbers have no gaps within a shard: a commit's records follow the previous commit's,
      // so they extend a run that ends just before them, or start a new one (the newest records are
      // the ones both consumers will want).
      if (run === undefined || run.lastSeq <= first - 1) this.remember(shardId, first - 1, list);
      this.newest.set(shardId, Number(list[list.length - 1]!.sequenceNumber));
    }
    return [...byShard.keys()];
  }

  /** Keeps `rows` (read after `after`) as the shard's recent run, extending it when they follow on. */
  private remember(shardId: string, after: number, rows: readonly ShardRecord[]): void {
    if (rows.length === 0) return;
    let run = this.recent.get(shardId);
    if (run !== undefined && after !== run.lastSeq) {
      // Not contiguous. Rows older than the run (a consumer reading far behind) are not kept: the run
      // holds what both consumers are heading for. Rows newer than the run replace it.
      if (after < run.lastSeq) return;
      run = undefined;
    }
    if (run === undefined) {
      run = { after, lastSeq: after, records: [], seqs: [], head: 0, bytes: 0 };
      this.recent.set(shardId, run);
    }
    for (const row of rows) {
      run.records.push(row);
      run.seqs.push(Number(row.sequenceNumber));
      run.bytes += row.data.byteLength + RECORD_OVERHEAD_BYTES;
    }
    run.lastSeq = run.seqs[run.seqs.length - 1]!;
    while (run.bytes > this.heldBytesPerShard && run.head < run.records.length - 1) {
      run.bytes -= run.records[run.head]!.data.byteLength + RECORD_OVERHEAD_BYTES;
      run.after = run.seqs[run.head]!;
      run.head++;
    }
    compact(run);
  }

  latestSequenceNumber(shardId: string): string | undefined {
    // Every commit's records arrive here after it: the newest of them is the shard's newest.
    const known = this.newest.get(shardId);
    return known === undefined ? this.reader.latestSequenceNumber(shardId) : formatSequenceNumber(known);
  }

  getCheckpoint(consumer: string, shardId: string): string | undefined {
    const saved = this.reader.getCheckpoint(consumer, shardId);
    this.noteProgress(consumer, shardId, saved === undefined ? 0 : Number(saved));
    return saved;
  }

  setCheckpoint(consumer: string, shardId: string, sequenceNumber: string): void {
    this.beforeCheckpoint();
    this.channel.emit({ kind: 'checkpoint', consumer, shardId, sequenceNumber });
    this.noteProgress(consumer, shardId, Number(sequenceNumber));
  }

  /** How many records of the shard are held in memory now. */
  heldRecords(shardId: string): number {
    const run = this.recent.get(shardId);
    return run === undefined ? 0 : run.records.length - run.head;
  }

  /**
   * Every consumer reads its checkpoint at start and saves it after each batch: held records that
   * every consumer of the shard is done with are let go, so what is held follows the consumers' lag.
   */
  private noteProgress(consumer: string, shardId: string, seq: number): void {
    let byConsumer = this.progress.get(shardId);
    if (byConsumer === undefined) this.progress.set(shardId, (byConsumer = new Map()));
    byConsumer.set(consumer, seq);
    const run = this.recent.get(shardId);
    if (run === undefined) return;
    const done = Math.min(...byConsumer.values());
    while (run.head < run.records.length && run.seqs[run.head]! <= done) {
      run.bytes -= run.records[run.head]!.data.byteLength + RECORD_OVERHEAD_BYTES;
      run.after = run.seqs[run.head]!;
      run.head++;
    }
    compact(run);
  }

  recordFailure(consumer: string, entry: FailureWrite): void {
    this.channel.emit({ kind: 'failure', consumer, entry });
  }

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
