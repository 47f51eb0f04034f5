/**
 * Kinesis hash-key space: partition key -> 128-bit hash key -> shard.
 *
 * "An MD5 hash function is used to map partition keys to 128-bit integer values and to map
 * associated data records to shards using the hash key ranges of the shards" (Kinesis Data Streams
 * developer guide, key concepts). AWS does not state the byte encoding; producers that route
 * client-side (zio-kinesis ShardMap, Alpakka Sharding) hash the UTF-8 bytes and read the digest as an
 * unsigned big-endian integer, and so do we.
 */
import { createHash } from 'node:crypto';

/** The largest hash key: 2^128 - 1. */
export const MAX_HASH_KEY = (1n << 128n) - 1n;

/** An inclusive hash-key range, as DescribeStream reports it. */
export interface HashKeyRange {
  readonly startingHashKey: bigint;
  readonly endingHashKey: bigint;
}

/** MD5 of the key's UTF-8 bytes, read as an unsigned big-endian 128-bit integer. */
export function partitionKeyHashKey(partitionKey: string): bigint {
  const digest = createHash('md5').update(partitionKey, 'utf8').digest('hex');
  return BigInt(`0x${digest}`);
}

/**
 * The ranges CreateStream gives `shardCount` shards: each `floor(2^128 / n)` wide, the last one
 * stretched to 2^128 - 1. (Kinesis' own 3-shard stream ends shard 0 at
 * 113427455640312821154458202477256070484, which is this rule.)
 */
export function evenHashKeyRanges(shardCount: number): HashKeyRange[] {
  const n = BigInt(shardCount);
  const width = (MAX_HASH_KEY + 1n) / n;
  return Array.from({ length: shardCount }, (_, i) => {
    const start = BigInt(i) * width;
    const end = i === shardCount - 1 ? MAX_HASH_KEY : start + width - 1n;
    return { startingHashKey: start, endingHashKey: end };
  });
}

/** `shardId-000000000000` for index 0, as Kinesis names the shards of a new stream. */
export function shardIdOf(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`;
}

/** Index of the range holding `hashKey` (ranges sorted, contiguous, covering the space). */
export function rangeIndexOf(ranges: readonly HashKeyRange[], hashKey: bigint): number {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (hashKey > ranges[mid]!.endingHashKey) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
