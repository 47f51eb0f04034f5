/**
 * What an event source mapping needs of a stream. The stack's own `LocalStream` is one (consumers in
 * the same thread as the appender); the consumers' worker thread has another, reading stream.db through
 * its own connection and handing its checkpoint and failure-destination writes to the thread that owns
 * the file's writes (infra/local/consumers).
 */
import type { AppendListener, FailureWrite, ReadOptions, ShardRecord } from '../stream/index.js';

export interface ConsumerStream {
  readonly streamName: string;
  readonly retentionHours: number;
  readonly shards: readonly { readonly shardId: string }[];
  /** Records of one shard in sequence order. */
  read(shardId: string, options: ReadOptions): ShardRecord[];
  /** The newest sequence number committed on a shard, or undefined if none ever was. */
  latestSequenceNumber(shardId: string): string | undefined;
  getCheckpoint(consumer: string, shardId: string): string | undefined;
  /**
   * Saves the consumer's checkpoint. A crash before it is durable only re-delivers records (at least
   * once, as on AWS), so it may be written later, but never before an earlier `recordFailure`.
   */
  setCheckpoint(consumer: string, shardId: string, sequenceNumber: string): void;
  /** Writes one entry of the on-failure destination, durably before any later checkpoint of the consumer. */
  recordFailure(consumer: string, entry: FailureWrite): void;
  /** Called after each commit of new records; returns the unsubscribe function. */
  onAppend(listener: AppendListener): () => void;
}
