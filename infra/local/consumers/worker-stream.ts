/**
 * The stream as the consumers' worker sees it: reads through its own read-only connection
 * (StreamReader), and hands every write (checkpoints, failure entries) to the stack's thread, which
 * owns the file's only write connection and commits them with its next group commit. The stack's
 * thread announces each commit of new records ('appended'), so the mappings wake as they do in-process.
 */
import type { AppendListener, FailureWrite, ReadOptions, StreamReader, StreamRecord } from '../stream/index.js';
import type { ConsumerStream } from '../event-source/index.js';
import type { Channel } from './channel.js';
import { EVENTS } from './protocol.js';
import type { CheckpointEvent, FailureEvent } from './protocol.js';

export class WorkerStream implements ConsumerStream {
  readonly streamName: string;
  readonly retentionHours: number;
  readonly shards: readonly { readonly shardId: string }[];
  private readonly listeners = new Set<AppendListener>();

  constructor(
    private readonly reader: StreamReader,
    private readonly channel: Channel,
    /** Runs before each checkpoint is handed over (the worker sends its counters with it). */
    private readonly beforeCheckpoint: () => void = () => undefined,
  ) {
    this.streamName = reader.streamName;
    this.retentionHours = reader.retentionHours;
    this.shards = reader.shards;
    channel.onEvent(EVENTS.appended, (shardIds) => {
      for (const listener of this.listeners) listener(shardIds as string[]);
    });
  }

  read(shardId: string, options: ReadOptions): StreamRecord[] {
    return this.reader.read(shardId, options);
  }

  latestSequenceNumber(shardId: string): string | undefined {
    return this.reader.latestSequenceNumber(shardId);
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
