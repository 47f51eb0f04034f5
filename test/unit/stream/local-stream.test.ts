import { describe, it, expect, afterEach } from 'vitest';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import {
  describeStreamFile,
  formatSequenceNumber,
  listStreamFileFailures,
  StreamClosedError,
  StreamConfigMismatchError,
  StreamRecordInvalidError,
} from '../../../infra/local/stream/index.js';
import type { TempStreams } from './temp-stream.js';
import { bytes, manualClock, tempStreams } from './temp-stream.js';

const SHARD0 = 'shardId-000000000000';
const HOUR = 3_600_000;

let t: TempStreams;
afterEach(async () => t.cleanup());

describe('LocalStream group commit', () => {
  it('commits every append queued in one event-loop turn in one transaction, in call order', async () => {
    t = tempStreams();
    const stream = t.open();
    const commits: string[][] = [];
    stream.onAppend((shards) => commits.push([...shards]));

    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => stream.append({ partitionKey: `device-${i % 7}`, data: bytes(`m${i}`) })),
    );

    expect(commits).toHaveLength(1);
    expect(results.map((r) => r.sequenceNumber)).toEqual(
      Array.from({ length: 100 }, (_, i) => formatSequenceNumber(i + 1)),
    );
    const read = stream.read(SHARD0, { limit: 1000 });
    expect(read.map((r) => r.data.toString())).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
  });

  it('makes appends of separate turns separate commits', async () => {
    t = tempStreams();
    const stream = t.open();
    let commits = 0;
    stream.onAppend(() => commits++);

    await stream.append({ partitionKey: 'k', data: bytes('1') });
    await stream.append({ partitionKey: 'k', data: bytes('2') });

    expect(commits).toBe(2);
  });

  it('resolves an append only once another connection can read it (after COMMIT)', async () => {
    t = tempStreams();
    const stream = t.open({ durability: 'full' });
    const other = new Database(t.file, { readonly: true });
    const count = (): number => other.prepare('SELECT COUNT(*) FROM records').pluck().get() as number;

    const pending = stream.append({ partitionKey: 'k', data: bytes('x') });
    const beforeCommit = count();
    await pending;
    const afterResolve = count();
    other.close();

    expect(beforeCommit).toBe(0);
    expect(afterResolve).toBe(1);
  });

  it('keeps each partition key in call order and sequence numbers increasing as numbers and as strings', async () => {
    t = tempStreams();
    const stream = t.open({ shardCount: 3 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.nat(1000)), { minLength: 1, maxLength: 60 }), async (entries) => {
        const results = await Promise.all(entries.map(([key, n]) => stream.append({ partitionKey: key, data: bytes(`${key}:${n}`) })));
        for (const shard of stream.shards) {
          const mine = results.filter((r) => r.shardId === shard.shardId).map((r) => r.sequenceNumber);
          for (let i = 1; i < mine.length; i++) {
            expect(mine[i]! > mine[i - 1]!).toBe(true);
            expect(BigInt(mine[i]!)).toBeGreaterThan(BigInt(mine[i - 1]!));
          }
        }
      }),
      { numRuns: 25 },
    );
    for (const shard of stream.shards) {
      const records = stream.read(shard.shardId, { limit: 10_000 });
      const seqs = records.map((r) => r.sequenceNumber);
      expect([...seqs].sort()).toEqual(seqs);
    }
  });

  it('commits the appends still queued when closed', async () => {
    t = tempStreams();
    const stream = t.open();
    const pending = stream.append({ partitionKey: 'k', data: bytes('last words') });

    await stream.close();
    const result = await pending;

    const reopened = t.open();
    expect(reopened.read(SHARD0, { limit: 10 }).map((r) => r.data.toString())).toEqual(['last words']);
    expect(result.sequenceNumber).toBe(formatSequenceNumber(1));
  });

  it('rejects appends after close', async () => {
    t = tempStreams();
    const stream = t.open();
    await stream.close();
    await expect(stream.append({ partitionKey: 'k', data: bytes('x') })).rejects.toThrow(StreamClosedError);
  });
});

describe('LocalStream record limits', () => {
  it.each([
    ['an empty partition key', { partitionKey: '', data: bytes('x') }, /partition key must be 1 to 256 characters, got 0/],
    ['a partition key of 257 characters', { partitionKey: 'k'.repeat(257), data: bytes('x') }, /got 257/],
    ['data and key above 1 MiB', { partitionKey: 'k', data: Buffer.alloc(1024 * 1024) }, /1048577 bytes of data and partition key/],
  ])('refuses %s before writing anything', async (_name, entry, message) => {
    t = tempStreams();
    const stream = t.open();

    await expect(stream.append(entry)).rejects.toThrow(StreamRecordInvalidError);
    await expect(stream.append(entry)).rejects.toThrow(message);
    expect(stream.describe().shards[0]!.records).toBe(0);
  });

  it('accepts a 256-character key (counted in code points) and exactly 1 MiB of data plus key', async () => {
    t = tempStreams();
    const stream = t.open();
    await stream.append({ partitionKey: '😀'.repeat(256), data: bytes('x') });
    await stream.append({ partitionKey: 'k', data: Buffer.alloc(1024 * 1024 - 1) });
    expect(stream.describe().shards[0]!.records).toBe(2);
  });

  it('writes none of appendMany when one entry is invalid', async () => {
    t = tempStreams();
    const stream = t.open();
    await expect(
      stream.appendMany([
        { partitionKey: 'ok', data: bytes('1') },
        { partitionKey: '', data: bytes('2') },
      ]),
    ).rejects.toThrow(/record 1: partition key/);
    expect(stream.describe().shards[0]!.records).toBe(0);
  });
});

describe('LocalStream reading', () => {
  it('reads after a sequence number (exclusive), up to a limit, and stops before maxBytes but never returns nothing', async () => {
    t = tempStreams();
    const stream = t.open();
    await stream.appendMany(['a', 'b', 'c', 'd'].map((d) => ({ partitionKey: 'k', data: Buffer.alloc(10, d) })));

    expect(stream.read(SHARD0, { after: formatSequenceNumber(1), limit: 2 }).map((r) => r.sequenceNumber)).toEqual([
      formatSequenceNumber(2),
      formatSequenceNumber(3),
    ]);
    expect(stream.read(SHARD0, { limit: 10, maxBytes: 25 })).toHaveLength(2);
    expect(stream.read(SHARD0, { limit: 10, maxBytes: 1 })).toHaveLength(1);
    expect(stream.read(SHARD0, { after: '4', limit: 10 })).toEqual([]);
  });

  it('sees records committed by another connection on the same file', async () => {
    t = tempStreams();
    const writer = t.open();
    const reader = t.open();

    await writer.append({ partitionKey: 'k', data: bytes('from the writer') });

    expect(reader.latestSequenceNumber(SHARD0)).toBe(formatSequenceNumber(1));
    expect(reader.read(SHARD0, { limit: 1 })[0]!.data.toString()).toBe('from the writer');
  });
});

describe('LocalStream checkpoints and reopening', () => {
  it('keeps checkpoints per consumer and shard across close and reopen', async () => {
    t = tempStreams();
    const stream = t.open({ shardCount: 2 });
    await stream.appendMany([
      { partitionKey: 'a', data: bytes('1') },
      { partitionKey: 'a', data: bytes('2') },
      { partitionKey: 'abc', data: bytes('3') },
    ]);
    stream.setCheckpoint('ingest', SHARD0, formatSequenceNumber(2));
    stream.setCheckpoint('alarms', SHARD0, formatSequenceNumber(1));
    await stream.close();

    const reopened = t.open({ shardCount: 2 });

    expect(reopened.getCheckpoint('ingest', SHARD0)).toBe(formatSequenceNumber(2));
    expect(reopened.getCheckpoint('alarms', SHARD0)).toBe(formatSequenceNumber(1));
    expect(reopened.getCheckpoint('ingest', 'shardId-000000000001')).toBeUndefined();
  });

  it('refuses a checkpoint beyond the newest record', async () => {
    t = tempStreams();
    const stream = t.open();
    expect(() => stream.setCheckpoint('ingest', SHARD0, formatSequenceNumber(1))).toThrow(/beyond the newest record/);
  });

  it('refuses to reopen a file with another shard count, saying resharding is not supported', async () => {
    t = tempStreams();
    await t.open({ shardCount: 2 }).close();
    expect(() => t.open({ shardCount: 4 })).toThrow(StreamConfigMismatchError);
    expect(() => t.open({ shardCount: 4 })).toThrow(/2 shards, but 4 were asked for; the local stream cannot be resharded/);
    expect(() => t.open({ shardCount: 2, streamName: 'other' })).toThrow(/holds stream "fleet-telemetry", not "other"/);
  });

  it('continues sequence numbers after reopening, even when retention emptied the shard', async () => {
    const clock = manualClock();
    t = tempStreams();
    const stream = t.open({ clock });
    await stream.appendMany([1, 2, 3].map((n) => ({ partitionKey: 'k', data: bytes(String(n)) })));
    await stream.close();
    clock.advance(25 * HOUR);

    const reopened = t.open({ clock });
    const next = await reopened.append({ partitionKey: 'k', data: bytes('4') });

    expect(next.sequenceNumber).toBe(formatSequenceNumber(4));
    expect(reopened.read(SHARD0, { limit: 10 }).map((r) => r.sequenceNumber)).toEqual([formatSequenceNumber(4)]);
  });
});

describe('LocalStream retention', () => {
  it('trims records older than the retention period and keeps the rest', async () => {
    const clock = manualClock();
    t = tempStreams();
    const stream = t.open({ clock, retentionHours: 24 });
    await stream.append({ partitionKey: 'k', data: bytes('old') });
    clock.advance(2 * HOUR);
    await stream.append({ partitionKey: 'k', data: bytes('newer') });
    clock.advance(22 * HOUR + 1);

    const deleted = stream.trim();

    expect(deleted).toBe(1);
    expect(stream.read(SHARD0, { limit: 10 }).map((r) => r.data.toString())).toEqual(['newer']);
  });

  it('trims at open', async () => {
    const clock = manualClock();
    t = tempStreams();
    const stream = t.open({ clock });
    await stream.append({ partitionKey: 'k', data: bytes('old') });
    await stream.close();
    clock.advance(24 * HOUR + 1);

    const reopened = t.open({ clock });

    expect(reopened.describe().shards[0]!.records).toBe(0);
  });

  it('lets a reader whose checkpoint points into trimmed data resume at the trim horizon', async () => {
    const clock = manualClock();
    t = tempStreams();
    const stream = t.open({ clock });
    await stream.appendMany([1, 2, 3].map((n) => ({ partitionKey: 'k', data: bytes(String(n)) })));
    stream.setCheckpoint('ingest', SHARD0, formatSequenceNumber(1));
    clock.advance(25 * HOUR);
    await stream.append({ partitionKey: 'k', data: bytes('4') });
    stream.trim();

    const resumed = stream.read(SHARD0, { after: stream.getCheckpoint('ingest', SHARD0), limit: 10 });

    expect(resumed.map((r) => r.data.toString())).toEqual(['4']);
  });
});

describe('LocalStream describe', () => {
  it('reports shards, each consumer’s checkpoint and lag, and the failure count, also read-only from the file', async () => {
    const clock = manualClock();
    t = tempStreams();
    const stream = t.open({ clock, shardCount: 2 });
    for (const n of [1, 2, 3]) {
      await stream.append({ partitionKey: 'a', data: bytes(String(n)) });
      clock.advance(1000);
    }
    stream.setCheckpoint('alarms', SHARD0, formatSequenceNumber(1));
    stream.recordFailure('alarms', {
      shardId: SHARD0,
      condition: 'RetryAttemptsExhausted',
      metadata: {} as never,
      payload: { Records: [] },
    });

    const live = stream.describe();
    const fromFile = describeStreamFile(t.file);

    expect(live).toEqual(fromFile);
    expect(live.shards[0]).toMatchObject({
      shardId: SHARD0,
      firstSequenceNumber: formatSequenceNumber(1),
      lastSequenceNumber: formatSequenceNumber(3),
      records: 3,
    });
    expect(live.shards[1]).toMatchObject({ lastSequenceNumber: null, records: 0 });
    expect(live.consumers).toEqual([
      {
        consumer: 'alarms',
        shards: [
          { shardId: SHARD0, checkpoint: formatSequenceNumber(1), lagRecords: 2, lagMs: 1000 },
          { shardId: 'shardId-000000000001', checkpoint: null, lagRecords: 0, lagMs: 0 },
        ],
        lagRecords: 2,
        lagMs: 1000,
        failures: 1,
      },
    ]);
    expect(live.failures).toBe(1);
    expect(listStreamFileFailures(t.file, 'alarms')).toHaveLength(1);
    expect(listStreamFileFailures(t.file, 'ingest')).toEqual([]);
  });
});
