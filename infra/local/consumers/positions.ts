/**
 * Each consumer's position is kept twice: as its checkpoint in stream.db (what the event source
 * mapping reads at start, as on AWS) and in store.db beside the writes it covers. stream.db is fsynced
 * before every PUBACK, so after a power cut its checkpoints can be ahead of what store.db kept (whose
 * commits are not fsynced one by one). Resuming from the lower of the two replays exactly what the
 * store lost: offsets stored with the data, as Kafka Connect's sink connectors and Flink's two-phase
 * commit sinks do.
 */
import type { Log } from '../../../lambdas/ports/observability.js';
import type { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import type { AppendListener, FailureWrite, ReadOptions, ShardRecord } from '../stream/index.js';
import { formatSequenceNumber } from '../stream/index.js';
import type { ConsumerStream } from '../event-source/index.js';

/** What resuming needs of the stream: its shards and the consumers' checkpoints (the stack's LocalStream). */
export interface CheckpointedStream {
  readonly shards: readonly { readonly shardId: string }[];
  getCheckpoint(consumer: string, shardId: string): string | undefined;
  setCheckpoint(consumer: string, shardId: string, sequenceNumber: string): void;
}

export interface ResumedConsumer {
  readonly consumer: string;
  readonly shardId: string;
  /** The checkpoint stream.db held. */
  readonly from: string;
  /** Where the consumer resumes: store.db's position (the start of the shard when it had none). */
  readonly to: string;
}

/**
 * Moves back every checkpoint of `consumers` in stream.db that is ahead of the position store.db
 * holds for it, so the consumers replay what the store lost; logs each move. Call it before the
 * consumers start. A consumer without a position in store.db (a store older than positions, or
 * emptied) resumes at the start of the shard, as a Kafka consumer without a committed offset does
 * with `earliest`: the replay is idempotent, and the alarm engine ignores readings at or before the
 * newest it has applied.
 */
export function resumeFromStore(stream: CheckpointedStream, store: SqliteStore, consumers: readonly string[], log: Log): ResumedConsumer[] {
  const held = new Map(store.consumerPositions().map((p) => [`${p.consumer} ${p.shardId}`, p.sequenceNumber]));
  const resumed: ResumedConsumer[] = [];
  for (const consumer of consumers) {
    for (const { shardId } of stream.shards) {
      const checkpoint = stream.getCheckpoint(consumer, shardId);
      if (checkpoint === undefined) continue;
      const position = held.get(`${consumer} ${shardId}`) ?? formatSequenceNumber(0);
      if (Number(position) >= Number(checkpoint)) continue;
      stream.setCheckpoint(consumer, shardId, position);
      resumed.push({ consumer, shardId, from: checkpoint, to: position });
      log.warn('store.db is behind the stream checkpoint (a power cut rolled it back, or it is older than the stream): replaying', {
        consumer,
        shardId,
        checkpoint,
        storePosition: position,
        records: Number(checkpoint) - Number(position),
      });
    }
  }
  return resumed;
}

/**
 * A ConsumerStream that also records each checkpoint in store.db, before handing it to the stream.
 * The event source mapping saves a checkpoint only after the writes of the records it passes have
 * committed (the invocation's grouped writes commit before its promise settles), so the position
 * lands in the same or a later store.db transaction than those writes.
 */
export class PositionRecordingStream implements ConsumerStream {
  constructor(
    private readonly stream: ConsumerStream,
    private readonly store: SqliteStore,
  ) {}

  get streamName(): string {
    return this.stream.streamName;
  }

  get retentionHours(): number {
    return this.stream.retentionHours;
  }

  get shards(): readonly { readonly shardId: string }[] {
    return this.stream.shards;
  }

  read(shardId: string, options: ReadOptions): ShardRecord[] {
    return this.stream.read(shardId, options);
  }

  latestSequenceNumber(shardId: string): string | undefined {
    return this.stream.latestSequenceNumber(shardId);
  }

  getCheckpoint(consumer: string, shardId: string): string | undefined {
    return this.stream.getCheckpoint(consumer, shardId);
  }

  setCheckpoint(consumer: string, shardId: string, sequenceNumber: string): void {
    // First: if this throws (store.db busy), neither is saved and the next batch's checkpoint covers it.
    this.store.recordConsumerPosition(consumer, shardId, sequenceNumber);
    this.stream.setCheckpoint(consumer, shardId, sequenceNumber);
  }

  recordFailure(consumer: string, entry: FailureWrite): void {
    this.stream.recordFailure(consumer, entry);
  }

  onAppend(listener: AppendListener): () => void {
    return this.stream.onAppend(listener);
  }
}
