/** Which shard a record goes to, and the checks Kinesis makes on a record before accepting it. */
import { StreamRecordInvalidError } from './errors.js';
import { MAX_HASH_KEY, partitionKeyHashKey, rangeIndexOf } from './hash.js';
import type { HashKeyRange } from './hash.js';
import { RECORD_LIMITS } from './stream-types.js';
import type { AppendEntry } from './stream-types.js';
import type { QueuedRecord } from './group-commit.js';

/** Partition keys whose shard is remembered; past this the memo starts over (bounded memory). */
const SHARD_CACHE_KEYS = 100_000;

export class ShardRouter {
  private readonly shardOfKey = new Map<string, number>();

  constructor(private readonly ranges: readonly HashKeyRange[]) {}

  /** One entry as it will be committed. @throws StreamRecordInvalidError for a record Kinesis would refuse. */
  validateEntry(entry: AppendEntry, where: string, now: number): QueuedRecord {
    const { partitionKey, data, explicitHashKey } = entry;
    const shardIndex = this.shardIndexFor(partitionKey, explicitHashKey, where);
    if (!(data instanceof Uint8Array)) {
      throw new StreamRecordInvalidError(`${where} (partition key ${JSON.stringify(partitionKey)}): data must be bytes (Uint8Array)`);
    }
    const size = data.byteLength + Buffer.byteLength(partitionKey, 'utf8');
    if (size > RECORD_LIMITS.maxRecordBytes) {
      throw new StreamRecordInvalidError(
        `${where} (partition key ${JSON.stringify(partitionKey)}): ${size} bytes of data and partition key, more than the 1 MiB a record may hold`,
      );
    }
    // Copy: the caller may reuse its buffer before the commit.
    return { shardIndex, partitionKey, explicitHashKey: explicitHashKey ?? null, data: Buffer.from(data), arrivalMs: now };
  }

  shardIndexFor(partitionKey: string, explicitHashKey: string | undefined, where: string): number {
    if (typeof partitionKey !== 'string') throw new StreamRecordInvalidError(`${where}: partition key must be a string`);
    // A fleet sends the same few thousand partition keys (device ids) over and over: their shard is
    // remembered instead of hashing each append (MD5 and the checks were 7% of the broker-to-append
    // path's CPU in a QoS 1 flood, measured with node --cpu-prof). Only valid keys are remembered.
    if (explicitHashKey === undefined) {
      const known = this.shardOfKey.get(partitionKey);
      if (known !== undefined) return known;
    }
    const length = [...partitionKey].length;
    if (length < 1 || length > RECORD_LIMITS.maxPartitionKeyLength) {
      throw new StreamRecordInvalidError(`${where}: partition key must be 1 to ${RECORD_LIMITS.maxPartitionKeyLength} characters, got ${length}`);
    }
    const index = rangeIndexOf(this.ranges, hashKeyOf(partitionKey, explicitHashKey, where));
    if (explicitHashKey === undefined) {
      if (this.shardOfKey.size >= SHARD_CACHE_KEYS) this.shardOfKey.clear();
      this.shardOfKey.set(partitionKey, index);
    }
    return index;
  }
}

function hashKeyOf(partitionKey: string, explicitHashKey: string | undefined, where: string): bigint {
  if (explicitHashKey === undefined) return partitionKeyHashKey(partitionKey);
  if (typeof explicitHashKey !== 'string' || !RECORD_LIMITS.explicitHashKey.test(explicitHashKey) || BigInt(explicitHashKey) > MAX_HASH_KEY) {
    throw new StreamRecordInvalidError(
      `${where} (partition key ${JSON.stringify(partitionKey)}): explicit hash key must be a decimal integer from 0 to 2^128-1, got ${JSON.stringify(explicitHashKey)}`,
    );
  }
  return BigInt(explicitHashKey);
}
