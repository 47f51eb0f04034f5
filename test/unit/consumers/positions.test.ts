import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import { silentLog } from '../../../lambdas/ports/observability.js';
import { PositionRecordingStream, resumeFromStore } from '../../../infra/local/consumers/positions.js';
import type { LocalStream } from '../../../infra/local/stream/index.js';
import { formatSequenceNumber } from '../../../infra/local/stream/index.js';
import { aReading, T0 } from '../../contract/fixtures.js';
import { bytes, tempStreams } from '../stream/temp-stream.js';
import type { TempStreams } from '../stream/temp-stream.js';

const seq = formatSequenceNumber;

describe('consumer positions kept in store.db', () => {
  let streams: TempStreams;
  let stream: LocalStream;
  let store: SqliteStore;
  let shardId: string;
  const warnings: { message: string; extra?: Record<string, unknown> }[] = [];
  const log: Log = { ...silentLog, warn: (message, extra) => void warnings.push({ message, ...(extra === undefined ? {} : { extra }) }) };

  beforeEach(async () => {
    streams = tempStreams();
    stream = streams.open();
    shardId = stream.shards[0]!.shardId;
    for (let i = 0; i < 10; i++) await stream.append({ partitionKey: 'd1', data: bytes(`r${i}`) });
    store = SqliteStore.open(join(streams.dir, 'store.db'));
    warnings.length = 0;
  });
  afterEach(async () => {
    store.close();
    await streams.cleanup();
  });

  it('moves a stream checkpoint back to the position store.db kept, so the consumer replays what the store lost', () => {
    stream.setCheckpoint('ingest', shardId, seq(9));
    store.recordConsumerPosition('ingest', shardId, seq(6));
    store.close();
    store = SqliteStore.open(join(streams.dir, 'store.db'));

    const resumed = resumeFromStore(stream, store, ['ingest'], log);

    expect(stream.getCheckpoint('ingest', shardId)).toBe(seq(6));
    expect(resumed).toEqual([{ consumer: 'ingest', shardId, from: seq(9), to: seq(6) }]);
    expect(warnings).toEqual([expect.objectContaining({ extra: expect.objectContaining({ consumer: 'ingest', records: 3 }) })]);
  });

  it('leaves a checkpoint that store.db has reached, and each consumer is resumed on its own', () => {
    stream.setCheckpoint('ingest', shardId, seq(9));
    stream.setCheckpoint('alarms', shardId, seq(8));
    store.recordConsumerPosition('ingest', shardId, seq(9));
    store.recordConsumerPosition('alarms', shardId, seq(2));

    const resumed = resumeFromStore(stream, store, ['ingest', 'alarms'], log);

    expect(stream.getCheckpoint('ingest', shardId)).toBe(seq(9));
    expect(stream.getCheckpoint('alarms', shardId)).toBe(seq(2));
    expect(resumed.map((r) => r.consumer)).toEqual(['alarms']);
  });

  it('replays from the start of the shard when store.db holds no position for a consumer with a checkpoint', () => {
    stream.setCheckpoint('ingest', shardId, seq(5));

    resumeFromStore(stream, store, ['ingest'], log);

    expect(stream.getCheckpoint('ingest', shardId)).toBe(seq(0));
    expect(stream.read(shardId, { after: stream.getCheckpoint('ingest', shardId)!, limit: 100 })).toHaveLength(10);
  });

  it('leaves a consumer without a checkpoint to its starting position', () => {
    store.recordConsumerPosition('ingest', shardId, seq(4));

    expect(resumeFromStore(stream, store, ['ingest'], log)).toEqual([]);
    expect(stream.getCheckpoint('ingest', shardId)).toBeUndefined();
  });

  it('records each checkpoint in store.db in the transaction that follows the writes it passes', async () => {
    const positioned = new PositionRecordingStream(stream, store);
    const reader = new Database(join(streams.dir, 'store.db'), { readonly: true });
    const committedPosition = () => reader.prepare('SELECT sequence_number FROM consumer_positions').pluck().get();
    try {
      const invocation = store.groupWrites(async () => {
        await store.timeSeries.write([aReading({ deviceId: 'd1', ts: T0 })]);
      });
      await invocation();
      positioned.setCheckpoint('ingest', shardId, seq(3));

      expect(stream.getCheckpoint('ingest', shardId)).toBe(seq(3));
      // Not a commit of its own: it waits for the end of the turn (or the next invocation's commit).
      expect(committedPosition()).toBeUndefined();
      await new Promise((resolve) => setImmediate(resolve));
      expect(committedPosition()).toBe(seq(3));
      expect(store.consumerPositions()).toEqual([{ consumer: 'ingest', shardId, sequenceNumber: seq(3) }]);
    } finally {
      reader.close();
    }
  });
});
