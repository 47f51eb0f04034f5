import { describe, it, expect, afterEach } from 'vitest';
import { unlinkSync } from 'node:fs';
import type { FailureWrite } from '../../../infra/local/stream/index.js';
import { FAILURE_CONDITION, formatSequenceNumber, StreamError, StreamReader } from '../../../infra/local/stream/index.js';
import type { TempStreams } from './temp-stream.js';
import { bytes } from './temp-stream.js';
import { tempStreams } from './temp-stream.js';

const SHARD0 = 'shardId-000000000000';
let t: TempStreams;
afterEach(async () => t.cleanup());

function failureOf(first: string, last: string): FailureWrite {
  return {
    shardId: SHARD0,
    condition: FAILURE_CONDITION.retryAttemptsExhausted,
    metadata: {
      requestContext: { requestId: 'r-1', functionArn: 'arn:aws:lambda:local:000000000000:function:ingest', condition: FAILURE_CONDITION.retryAttemptsExhausted, approximateInvokeCount: 3 },
      version: '1.0',
      timestamp: new Date(0).toISOString(),
      KinesisBatchInfo: {
        shardId: SHARD0,
        startSequenceNumber: first,
        endSequenceNumber: last,
        approximateArrivalOfFirstRecord: new Date(0).toISOString(),
        approximateArrivalOfLastRecord: new Date(0).toISOString(),
        batchSize: 1,
        streamArn: 'arn:aws:kinesis:local:000000000000:stream/fleet-telemetry',
      },
    },
    payload: { Records: [] },
  };
}

describe('LocalStream writes handed over by a consumer in another thread', () => {
  it('saves a queued checkpoint with the next group commit, and commitQueued resolves once it is saved', async () => {
    t = tempStreams();
    const stream = t.open();
    await Promise.all([1, 2, 3].map((i) => stream.append({ partitionKey: 'd', data: bytes(`m${i}`) })));

    stream.queueCheckpoint('ingest', SHARD0, formatSequenceNumber(2));
    expect(stream.getCheckpoint('ingest', SHARD0)).toBeUndefined();
    await stream.commitQueued();

    expect(stream.getCheckpoint('ingest', SHARD0)).toBe(formatSequenceNumber(2));
  });

  it('commits a queued failure entry and the checkpoint queued after it together, in order', async () => {
    t = tempStreams();
    const stream = t.open();
    await stream.append({ partitionKey: 'd', data: bytes('poison') });
    const seq = formatSequenceNumber(1);

    stream.queueFailure('alarms', failureOf(seq, seq));
    stream.queueCheckpoint('alarms', SHARD0, seq);
    const append = stream.append({ partitionKey: 'd', data: bytes('next') });
    await Promise.all([append, stream.commitQueued()]);

    const failures = stream.listFailures('alarms');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.metadata.KinesisBatchInfo.startSequenceNumber).toBe(seq);
    expect(stream.getCheckpoint('alarms', SHARD0)).toBe(seq);
  });

  it('refuses a queued checkpoint beyond the newest record, naming the consumer and shard', () => {
    t = tempStreams();
    const stream = t.open();
    expect(() => stream.queueCheckpoint('ingest', SHARD0, formatSequenceNumber(5))).toThrow(/checkpoint of ingest on shardId-000000000000/);
  });

  it('resolves commitQueued at once when nothing is pending', async () => {
    t = tempStreams();
    const stream = t.open();
    await expect(stream.commitQueued()).resolves.toBeUndefined();
  });
});

describe('LocalStream durability full', () => {
  it('resolves an append only after the commit that holds it has been announced, once its WAL fsync is done', async () => {
    t = tempStreams();
    const stream = t.open({ durability: 'full' });
    const order: string[] = [];
    stream.onAppend(() => order.push('committed'));

    await stream.append({ partitionKey: 'd', data: bytes('m') }).then(() => order.push('resolved'));

    expect(order).toEqual(['committed', 'resolved']);
  });

  it('rejects the appends whose WAL cannot be synced, so the broker never acknowledges them', async () => {
    t = tempStreams();
    const stream = t.open({ durability: 'full' });
    // The stream opens its descriptor on the WAL at its first sync: with the file gone it cannot.
    unlinkSync(`${t.file}-wal`);

    await expect(stream.append({ partitionKey: 'd', data: bytes('m') })).rejects.toThrow(StreamError);
  });

  it('waits for the last fsync on close', async () => {
    t = tempStreams();
    const stream = t.open({ durability: 'full' });
    let resolved = false;
    const append = stream.append({ partitionKey: 'd', data: bytes('m') }).then(() => (resolved = true));

    await stream.close();

    expect(resolved).toBe(true);
    await append;
  });
});

describe('StreamReader (the consumers thread connection)', () => {
  it('reads what the stream committed, its newest sequence number and saved checkpoints, without writing', async () => {
    t = tempStreams();
    const stream = t.open({ shardCount: 2 });
    await Promise.all(['a', 'b', 'c', 'd'].map((k) => stream.append({ partitionKey: k, data: bytes(k) })));
    stream.setCheckpoint('ingest', SHARD0, stream.latestSequenceNumber(SHARD0) ?? formatSequenceNumber(0));
    const reader = StreamReader.open(t.file);
    try {
      expect(reader.streamName).toBe('fleet-telemetry');
      expect(reader.shards.map((s) => s.shardId)).toEqual(stream.shards.map((s) => s.shardId));
      for (const { shardId } of stream.shards) {
        expect(reader.read(shardId, { limit: 10 })).toEqual(stream.read(shardId, { limit: 10 }));
        expect(reader.latestSequenceNumber(shardId)).toBe(stream.latestSequenceNumber(shardId));
      }
      expect(reader.getCheckpoint('ingest', SHARD0)).toBe(stream.getCheckpoint('ingest', SHARD0));

      await stream.append({ partitionKey: 'a', data: bytes('later') });
      const shardOfA = stream.shardFor('a');
      expect(reader.latestSequenceNumber(shardOfA)).toBe(stream.latestSequenceNumber(shardOfA));
    } finally {
      reader.close();
    }
  });

  it('refuses a file that is not there', () => {
    t = tempStreams();
    expect(() => StreamReader.open(`${t.dir}/missing.db`)).toThrow(/cannot open stream file/);
  });
});
