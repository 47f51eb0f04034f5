/** The stream file's identity (`stream_meta`, `shards`): written at creation, checked at every open. */
import type Database from 'better-sqlite3';
import type { Clock } from '../../../lambdas/ports/clock.js';
import { StreamConfigMismatchError } from './errors.js';
import { SCHEMA_VERSION } from './schema.js';
import type { ShardInfo } from './stream-types.js';

export interface StreamIdentity {
  readonly file: string;
  readonly streamName: string;
  readonly shardCount: number;
  readonly retentionHours: number;
  readonly shards: readonly ShardInfo[];
}

/** Run inside a transaction. @throws StreamConfigMismatchError if the file holds another format, stream name or shard count. */
export function initialiseMeta(db: Database.Database, stream: StreamIdentity, clock: Clock): void {
  const rows = db.prepare('SELECT key, value FROM stream_meta').all() as { key: string; value: string }[];
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  if (meta.size === 0) {
    const put = db.prepare('INSERT INTO stream_meta (key, value) VALUES (?, ?)');
    put.run('schema_version', String(SCHEMA_VERSION));
    put.run('stream_name', stream.streamName);
    put.run('shard_count', String(stream.shardCount));
    put.run('retention_hours', String(stream.retentionHours));
    put.run('created_ms', String(clock.now()));
    const addShard = db.prepare('INSERT INTO shards (shard_index, shard_id, starting_hash_key, ending_hash_key) VALUES (?, ?, ?, ?)');
    stream.shards.forEach((s, i) => addShard.run(i, s.shardId, s.hashKeyRange.startingHashKey.toString(), s.hashKeyRange.endingHashKey.toString()));
    return;
  }
  if (meta.get('schema_version') !== String(SCHEMA_VERSION)) {
    throw new StreamConfigMismatchError(`${stream.file}: stream file format ${meta.get('schema_version')}, this code reads format ${SCHEMA_VERSION}`);
  }
  if (meta.get('stream_name') !== stream.streamName) {
    throw new StreamConfigMismatchError(`${stream.file} holds stream "${meta.get('stream_name')}", not "${stream.streamName}"; use another file`);
  }
  if (meta.get('shard_count') !== String(stream.shardCount)) {
    throw new StreamConfigMismatchError(
      `${stream.file} holds stream "${stream.streamName}" with ${meta.get('shard_count')} shards, but ${stream.shardCount} were asked for; ` +
        'the local stream cannot be resharded: keep the shard count or delete the file (its records and checkpoints go with it)',
    );
  }
  // Retention may change, as IncreaseStreamRetentionPeriod / DecreaseStreamRetentionPeriod allow on Kinesis.
  db.prepare("UPDATE stream_meta SET value = ? WHERE key = 'retention_hours'").run(String(stream.retentionHours));
}
