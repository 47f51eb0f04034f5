/** Retention: records older than the retention period are deleted, as Kinesis expiry does. */
import type Database from 'better-sqlite3';

/** Deletes, on every shard, the records that arrived before `cutoffMs`; returns how many. */
export function trimBefore(db: Database.Database, shardCount: number, cutoffMs: number): number {
  // Arrival times never decrease along a shard, so the expired records are a prefix: find the first
  // live one through the (shard, seq) key and delete before it. Cost: the expired rows, not the shard.
  const firstLive = db.prepare('SELECT seq FROM records WHERE shard_index = ? AND arrival_ms >= ? ORDER BY seq LIMIT 1').pluck();
  const deleteBefore = db.prepare('DELETE FROM records WHERE shard_index = ? AND seq < ?');
  const deleteAll = db.prepare('DELETE FROM records WHERE shard_index = ?');
  return db.transaction(() => {
    let deleted = 0;
    for (let i = 0; i < shardCount; i++) {
      const live = firstLive.get(i, cutoffMs) as number | undefined;
      deleted += (live === undefined ? deleteAll.run(i) : deleteBefore.run(i, live)).changes;
    }
    return deleted;
  })();
}
