/** Reading one shard's records: shared by the stream's own connection and the consumers' read-only one. */
import type Database from 'better-sqlite3';
import { StreamError } from './errors.js';
import type { ReadOptions, ShardRecord } from './stream-types.js';
import { formatSequenceNumber, parseSequenceNumber } from './sequence.js';

/** The statement `readShard` runs: (shard_index, after seq, limit) -> rows in sequence order. */
export const READ_SQL =
  'SELECT seq, partition_key, explicit_hash_key, arrival_ms, data FROM records WHERE shard_index = ? AND seq > ? ORDER BY seq LIMIT ?';

interface RecordRow {
  seq: number;
  partition_key: string;
  explicit_hash_key: string | null;
  arrival_ms: number;
  data: Buffer;
}

/** Records of one shard after `options.after`, at most `limit`, stopping before `maxBytes` of data (always at least one). */
export function readShard(statement: Database.Statement, shardId: string, shardIndex: number, options: ReadOptions): ShardRecord[] {
  const after = options.after === undefined ? 0 : parseSequenceNumber(options.after, 'read after');
  if (!Number.isInteger(options.limit) || options.limit < 1) {
    throw new StreamError(`read: limit must be a positive integer, got ${options.limit}`);
  }
  const rows = statement.all(shardIndex, after, options.limit) as RecordRow[];
  const out: ShardRecord[] = [];
  let bytes = 0;
  for (const row of rows) {
    bytes += row.data.byteLength;
    if (options.maxBytes !== undefined && out.length > 0 && bytes > options.maxBytes) break;
    out.push({
      shardId,
      sequenceNumber: formatSequenceNumber(row.seq),
      partitionKey: row.partition_key,
      ...(row.explicit_hash_key === null ? {} : { explicitHashKey: row.explicit_hash_key }),
      data: row.data,
      approximateArrivalTimestamp: row.arrival_ms,
    });
  }
  return out;
}
