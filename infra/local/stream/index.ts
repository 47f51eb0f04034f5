/** The local Kinesis stream: `<dataDir>/stream.db` with Kinesis' shards, sequence numbers and retention. */
export { LocalStream } from './local-stream.js';
export { RECORD_LIMITS } from './stream-types.js';
export type {
  AppendEntry,
  AppendListener,
  CommittedRecord,
  Durability,
  LocalStreamOptions,
  ReadOptions,
  ShardRecord,
} from './stream-types.js';
export { describeStreamFile, listStreamFileFailures } from './describe.js';
export type { StreamDescription } from './describe.js';
export { FAILURE_CONDITION } from './failures.js';
export type { FailureCondition, FailureEntry, FailureWrite, OnFailureRecord } from './failures.js';
export { StreamClosedError, StreamConfigMismatchError, StreamError, StreamRecordInvalidError } from './errors.js';
export { evenHashKeyRanges, MAX_HASH_KEY, partitionKeyHashKey, shardIdOf } from './hash.js';
export { formatSequenceNumber } from './sequence.js';
export { StreamReader } from './stream-reader.js';
export { DEFAULT_MIN_FREE_BYTES, FreeSpaceGuard, FreeSpaceHeadroomError, statfsProbe } from './free-space.js';
export type { FreeSpaceProbe, FreeSpaceStats } from './free-space.js';
