/**
 * Reading a shard into memory: the records after the read cursor go to their lanes, up to the memory
 * bounds, and records that retention trimmed before they were read are logged and skipped.
 */
import type { Log } from '../../../lambdas/ports/observability.js';
import type { ShardRecord } from '../stream/index.js';
import { formatSequenceNumber } from '../stream/index.js';
import type { ConsumerStream } from './consumer-stream.js';
import type { EventSizer } from './event.js';
import { laneOf } from './shard-state.js';
import type { Held, ShardState } from './shard-state.js';

/** Records held in memory per shard, beyond which reading pauses (a stuck lane cannot exhaust memory). */
export const MAX_HELD_BYTES = 64 * 1024 * 1024;
const READ_CHUNK = 500;

export interface ShardFillContext {
  readonly consumer: string;
  readonly stream: ConsumerStream;
  readonly sizer: EventSizer;
  readonly log: Log;
  readonly maxHeldRecords: number;
  /** Saves the shard's checkpoint when trimming moved it. */
  readonly persistCheckpoint: (shard: ShardState) => void;
}

/** Reads records after the cursor into the lanes, up to the memory bounds. */
export function fillShard(shard: ShardState, context: ShardFillContext): void {
  const { consumer, stream, log } = context;
  let room = context.maxHeldRecords - (shard.held.length - shard.head);
  let bytesRoom = MAX_HELD_BYTES - shard.heldBytes;
  while (room > 0 && bytesRoom > 0) {
    const nothingHeld = shard.head === shard.held.length;
    const latestBefore = nothingHeld ? Number(stream.latestSequenceNumber(shard.shardId) ?? 0) : 0;
    const rows = stream.read(shard.shardId, {
      after: formatSequenceNumber(shard.readCursor),
      limit: Math.min(room, READ_CHUNK),
      maxBytes: bytesRoom,
    });
    if (rows.length === 0) {
      if (nothingHeld && latestBefore > shard.readCursor) {
        // Everything after the checkpoint expired unread: resume at the trim horizon, i.e. the end.
        log.warn('records expired (retention) before the consumer read them', {
          consumer,
          shardId: shard.shardId,
          records: latestBefore - shard.readCursor,
        });
        shard.readCursor = latestBefore;
        shard.checkpoint = latestBefore;
        context.persistCheckpoint(shard);
      }
      return;
    }
    const firstSeq = Number(rows[0]!.sequenceNumber);
    if (firstSeq > shard.readCursor + 1) {
      // Sequence numbers are contiguous per shard; a gap is what retention trimmed (Kinesis expiry).
      log.warn('records expired (retention) before the consumer read them', {
        consumer,
        shardId: shard.shardId,
        records: firstSeq - shard.readCursor - 1,
      });
    }
    for (const row of rows) {
      const held = hold(row, context.sizer);
      shard.held.push(held);
      shard.heldBytes += held.bytes;
      shard.lanes[laneOf(row.partitionKey, shard.lanes.length)]!.pending.push(held);
      shard.readCursor = held.seq;
      room--;
      bytesRoom -= held.bytes;
    }
  }
}

function hold(row: ShardRecord, sizer: EventSizer): Held {
  return {
    seq: Number(row.sequenceNumber),
    sequenceNumber: row.sequenceNumber,
    arrivalMs: row.approximateArrivalTimestamp,
    record: row,
    bytes: sizer.recordBytes({
      shardId: row.shardId,
      sequenceNumber: row.sequenceNumber,
      partitionKey: row.partitionKey,
      dataBytes: row.data.byteLength,
      approximateArrivalTimestamp: row.approximateArrivalTimestamp,
    }),
    done: false,
  };
}
