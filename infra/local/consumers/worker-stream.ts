/**
 * The stream as the consumers' worker sees it: reads through its own read-only connection
 * (StreamReader), and hands every write (checkpoints, failure entries) to the stack's thread, which
 * owns the file's only write connection and commits them with its next group commit. The stack's
 * thread sends each commit's records as it makes it ('appended'): they are held in memory for both
 * consumers, which wake at once as they do in-process, and the file is read only for what is not
 * held (a restart, a consumer further behind than the held records).
 */
import type { AppendListener, FailureWrite, ReadOptions, StreamReader, StreamRecord } from '../stream/index.js';
import type { ConsumerStream } from '../event-source/index.js';
import type { Channel } from './channel.js';
import { formatSequenceNumber } from '../stream/index.js';
import { unpackRecords } from './record-batch.js';
import type { PackedRecords } from './record-batch.js';
import { EVENTS } from './protocol.js';
import type { CheckpointEvent, FailureEvent } from './protocol.js';

/** Index of the first of the ascending `seqs` greater than `after` (seqs.length if none). */
function firstAfter(seqs: readonly number[], after: number): number {
  let low = 0;
  let high = seqs.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (seqs[mid]! <= after) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Records kept per shard for the second consumer to read from memory: a few batches of each mapping. */
const RECENT_RECORDS_PER_SHARD = 4_000;

export class WorkerStream implements ConsumerStream {
  readonly streamName: string;
  readonly retentionHours: number;
  readonly shards: readonly { readonly shardId: string }[];
  private readonly listeners = new Set<AppendListener>();
  /** Per shard, the newest records read: a contiguous run, every record after `after` up to `lastSeq`. */
  private readonly recent = new Map<string, { after: number; lastSeq: number; records: StreamRecord[]; seqs: number[] }>();
  /** Per shard, the newest sequence number committed, as told by the stack's thread. */
  private readonly newest = new Map<string, number>();

  constructor(
    private readonly reader: StreamReader,
    private readonly channel: Channel,
    /** Runs before each checkpoint is handed over (the worker sends its counters with it). */
    private readonly beforeCheckpoint: () => void = () => undefined,
  ) {
    this.streamName = reader.streamName;
    this.retentionHours = reader.retentionHours;
    this.shards = reader.shards;
    channel.onEvent(EVENTS.appended, (packed) => {
      const records = unpackRecords(packed as PackedRecords);
      const shardIds = this.hold(records);
      for (const listener of this.listeners) listener(shardIds);
    });
  }

  /**
   * Records of one shard, served from the records the other consumer read moments ago when it can:
   * both consumers read the same records in the same order, and reading them from SQLite twice was
   * 16% of this thread's time in a flood (node --cpu-prof).
   */
  read(shardId: string, options: ReadOptions): StreamRecord[] {
    const after = options.after === undefined ? 0 : Number(options.after);
    const run = this.recent.get(shardId);
    if (run === undefined || after < run.after || after > run.lastSeq) {
      const rows = this.reader.read(shardId, options);
      this.remember(shardId, after, rows);
      return rows;
    }
    const out: StreamRecord[] = [];
    let bytes = 0;
    for (let i = firstAfter(run.seqs, after); i < run.records.length && out.length < options.limit; i++) {
      const record = run.records[i]!;
      if (options.maxBytes !== undefined && out.length > 0 && bytes + record.data.byteLength > options.maxBytes) return out;
      bytes += record.data.byteLength;
      out.push(record);
    }
    if (out.length === options.limit) return out;
    // Nothing newer was committed than what is held: no need to ask the file.
    if (run.lastSeq >= (this.newest.get(shardId) ?? Number.POSITIVE_INFINITY)) return out;
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
  private hold(records: readonly StreamRecord[]): string[] {
    const byShard = new Map<string, StreamRecord[]>();
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
  private remember(shardId: string, after: number, rows: readonly StreamRecord[]): void {
    if (rows.length === 0) return;
    let run = this.recent.get(shardId);
    if (run === undefined || after !== run.lastSeq) {
      run = { after, lastSeq: after, records: [], seqs: [] };
      this.recent.set(shardId, run);
    }
    for (const row of rows) {
      run.records.push(row);
      run.seqs.push(Number(row.sequenceNumber));
    }
    run.lastSeq = run.seqs[run.seqs.length - 1]!;
    const excess = run.records.length - RECENT_RECORDS_PER_SHARD;
    if (excess > 0) {
      run.after = run.seqs[excess - 1]!;
      run.records.splice(0, excess);
      run.seqs.splice(0, excess);
    }
  }

  latestSequenceNumber(shardId: string): string | undefined {
    // Every commit's records arrive here after it: the newest of them is the shard's newest.
    const known = this.newest.get(shardId);
    return known === undefined ? this.reader.latestSequenceNumber(shardId) : formatSequenceNumber(known);
  }

  getCheckpoint(consumer: string, shardId: string): string | undefined {
    return this.reader.getCheckpoint(consumer, shardId);
  }

  setCheckpoint(consumer: string, shardId: string, sequenceNumber: string): void {
    this.beforeCheckpoint();
    this.channel.emit(EVENTS.checkpoint, { consumer, shardId, sequenceNumber } satisfies CheckpointEvent);
  }

  recordFailure(consumer: string, entry: FailureWrite): void {
    this.channel.emit(EVENTS.failure, { consumer, entry } satisfies FailureEvent);
  }

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
