import { describe, it, expect, afterEach } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { evenHashKeyRanges, MAX_HASH_KEY, partitionKeyHashKey, shardIdOf } from '../../../infra/local/stream/index.js';
import { StreamRecordInvalidError } from '../../../infra/local/stream/index.js';
import type { TempStreams } from './temp-stream.js';
import { bytes, tempStreams } from './temp-stream.js';

// Digests published independently of our code: RFC 1321 appendix A.5 test suite, and the
// well-known digest of the pangram.
const KNOWN_MD5: readonly [string, string][] = [
  ['a', '0cc175b9c0f1b6a831c399e269772661'],
  ['abc', '900150983cd24fb0d6963f7d28e17f72'],
  ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
  ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
  ['The quick brown fox jumps over the lazy dog', '9e107d9d372bb6826bd81d3542a419d6'],
];

describe('partitionKeyHashKey', () => {
  it.each(KNOWN_MD5)('reads the MD5 of %j as an unsigned big-endian 128-bit integer', (key, hex) => {
    expect(partitionKeyHashKey(key)).toBe(BigInt(`0x${hex}`));
  });

  it('hashes the UTF-8 bytes of the key, not its UTF-16 code units', () => {
    const md5 = (b: Buffer): bigint => BigInt(`0x${createHash('md5').update(b).digest('hex')}`);
    // "é" is C3 A9 in UTF-8 and E9 00 in UTF-16LE.
    expect(partitionKeyHashKey('é')).toBe(md5(Buffer.from([0xc3, 0xa9])));
    expect(partitionKeyHashKey('é')).not.toBe(md5(Buffer.from([0xe9, 0x00])));
  });
});

describe('evenHashKeyRanges', () => {
  it('splits the space as Kinesis CreateStream does for 2 and 3 shards', () => {
    expect(evenHashKeyRanges(2).map((r) => [r.startingHashKey.toString(), r.endingHashKey.toString()])).toEqual([
      ['0', '170141183460469231731687303715884105727'],
      ['170141183460469231731687303715884105728', '340282366920938463463374607431768211455'],
    ]);
    expect(evenHashKeyRanges(3).map((r) => r.endingHashKey.toString())).toEqual([
      '113427455640312821154458202477256070484',
      '226854911280625642308916404954512140969',
      '340282366920938463463374607431768211455',
    ]);
  });

  it.each([1, 2, 3, 4, 7, 10, 64, 1000])('covers 0..2^128-1 with %i contiguous, non-overlapping ranges', (n) => {
    const ranges = evenHashKeyRanges(n);
    expect(ranges).toHaveLength(n);
    expect(ranges[0]!.startingHashKey).toBe(0n);
    expect(ranges[n - 1]!.endingHashKey).toBe(MAX_HASH_KEY);
    for (let i = 0; i < n; i++) {
      expect(ranges[i]!.endingHashKey).toBeGreaterThanOrEqual(ranges[i]!.startingHashKey);
      if (i > 0) expect(ranges[i]!.startingHashKey).toBe(ranges[i - 1]!.endingHashKey + 1n);
    }
  });

  it('names shards as Kinesis does', () => {
    expect(shardIdOf(0)).toBe('shardId-000000000000');
    expect(shardIdOf(12)).toBe('shardId-000000000012');
  });
});

describe('LocalStream shard routing', () => {
  let t: TempStreams;
  afterEach(async () => t.cleanup());

  it('puts a record on the shard whose hash-key range holds the MD5 of its partition key', async () => {
    t = tempStreams();
    const stream = t.open({ shardCount: 2 });
    // MD5("a") = 0x0cc1… < 2^127: shard 0; MD5("abc") = 0x9001… >= 2^127: shard 1.
    const [a, abc] = await stream.appendMany([
      { partitionKey: 'a', data: bytes('1') },
      { partitionKey: 'abc', data: bytes('2') },
    ]);
    expect(a!.shardId).toBe('shardId-000000000000');
    expect(abc!.shardId).toBe('shardId-000000000001');
  });

  it('routes by the explicit hash key when one is given', async () => {
    t = tempStreams();
    const stream = t.open({ shardCount: 2 });
    const result = await stream.append({ partitionKey: 'abc', data: bytes('x'), explicitHashKey: '0' });
    expect(result.shardId).toBe('shardId-000000000000');
    expect(stream.shardFor('a', MAX_HASH_KEY.toString())).toBe('shardId-000000000001');
  });

  it('refuses an explicit hash key outside 0..2^128-1 or not decimal', async () => {
    t = tempStreams();
    const stream = t.open({ shardCount: 2 });
    await expect(stream.append({ partitionKey: 'k', data: bytes('x'), explicitHashKey: (MAX_HASH_KEY + 1n).toString() })).rejects.toThrow(
      StreamRecordInvalidError,
    );
    await expect(stream.append({ partitionKey: 'k', data: bytes('x'), explicitHashKey: '0x10' })).rejects.toThrow(/explicit hash key/);
  });

  it('maps every key into the range that holds its hash, for any shard count', () => {
    t = tempStreams();
    const streams = [1, 2, 3, 5].map((shardCount, i) => t.open({ shardCount, file: `${t.dir}/s${i}.db` }));
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' }), (key) => {
        const hash = partitionKeyHashKey(key);
        for (const stream of streams) {
          const shard = stream.shards.find((s) => s.shardId === stream.shardFor(key))!;
          expect(hash >= shard.hashKeyRange.startingHashKey && hash <= shard.hashKeyRange.endingHashKey).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});
