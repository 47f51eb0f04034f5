/**
 * A second, read-only connection to a stream file, for a reader in another thread (the consumers'
 * worker). WAL lets it read while the owning LocalStream appends, without ever blocking the appender:
 * the one writer of the file stays the LocalStream, which also writes the consumers' checkpoints and
 * failure entries (`queueCheckpoint`, `queueFailure`) that the reader's thread hands back to it.
 */
import Database from 'better-sqlite3';
import { StreamClosedError, StreamError } from './errors.js';
import { shardIdOf } from './hash.js';
import type { ReadOptions, ShardRecord } from './stream-types.js';
import { READ_SQL, readShard } from './read.js';
import { formatSequenceNumber } from './sequence.js';

export class StreamReader {
  readonly streamName: string;
  readonly retentionHours: number;
  readonly shards: readonly { readonly shardId: string }[];

  private readonly db: Database.Database;
  private readonly readStatement: Database.Statement;
  private readonly lastSeqStatement: Database.Statement;
  private readonly checkpointStatement: Database.Statement;
  private closed = false;

  /** Opens an existing stream file (one a LocalStream created) for reading. */
  static open(file: string): StreamReader {
    return new StreamReader(file);
  }

  private constructor(readonly file: string) {
    try {
      this.db = new Database(file, { readonly: true, fileMustExist: true });
    } catch (cause) {
      throw new StreamError(`cannot open stream file ${file} for reading`, { cause });
    }
    try {
      const meta = new Map(
        (this.db.prepare('SELECT key, value FROM stream_meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]),
      );
      const streamName = meta.get('stream_name');
      const shardCount = Number(meta.get('shard_count'));
      const retentionHours = Number(meta.get('retention_hours'));
      if (streamName === undefined || !Number.isInteger(shardCount) || !Number.isInteger(retentionHours)) {
        throw new StreamError(`${file} is not a stream file: its stream_meta is incomplete`);
      }
      this.streamName = streamName;
      this.retentionHours = retentionHours;
      this.shards = Array.from({ length: shardCount }, (_, i) => ({ shardId: shardIdOf(i) }));
      this.readStatement = this.db.prepare(READ_SQL);
      this.lastSeqStatement = this.db.prepare('SELECT last_seq FROM shards WHERE shard_index = ?').pluck();
      this.checkpointStatement = this.db.prepare('SELECT seq FROM checkpoints WHERE consumer = ? AND shard_index = ?').pluck();
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /** Records of one shard in sequence order, as `LocalStream.read`. */
  read(shardId: string, options: ReadOptions): ShardRecord[] {
    return readShard(this.readStatement, shardId, this.shardIndexOf(shardId), options);
  }

  /** The newest committed sequence number of a shard, or undefined if none ever was. */
  latestSequenceNumber(shardId: string): string | undefined {
    const last = this.lastSeqStatement.get(this.shardIndexOf(shardId)) as number;
    return last === 0 ? undefined : formatSequenceNumber(last);
  }

  /** The consumer's saved checkpoint on a shard, or undefined. */
  getCheckpoint(consumer: string, shardId: string): string | undefined {
    const seq = this.checkpointStatement.get(consumer, this.shardIndexOf(shardId)) as number | undefined;
    return seq === undefined ? undefined : formatSequenceNumber(seq);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private shardIndexOf(shardId: string): number {
    if (this.closed) throw new StreamClosedError(`stream ${this.streamName} is closed`);
    const index = this.shards.findIndex((s) => s.shardId === shardId);
    if (index < 0) throw new StreamError(`stream ${this.streamName} has no shard ${JSON.stringify(shardId)}`);
    return index;
  }
}
