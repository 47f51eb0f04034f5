/**
 * The tables of stream.db. One file holds the log, the consumers' checkpoints and the on-failure
 * destination, so a checkpoint and the failure entry that let it move on live in one durable place.
 */
import type Database from 'better-sqlite3';

/** Bumped when the layout changes; a file with another version is refused at open. */
export const SCHEMA_VERSION = 1;

export function createSchema(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS stream_meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS shards (
      shard_index       INTEGER PRIMARY KEY,
      shard_id          TEXT NOT NULL UNIQUE,
      starting_hash_key TEXT NOT NULL,
      ending_hash_key   TEXT NOT NULL,
      -- the counter survives trimming, so sequence numbers never go back after retention empties a shard
      last_seq          INTEGER NOT NULL DEFAULT 0,
      last_arrival_ms   INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE IF NOT EXISTS records (
      shard_index       INTEGER NOT NULL,
      seq               INTEGER NOT NULL,
      partition_key     TEXT NOT NULL,
      explicit_hash_key TEXT,
      arrival_ms        INTEGER NOT NULL,
      data              BLOB NOT NULL,
      PRIMARY KEY (shard_index, seq)
    );
    CREATE TABLE IF NOT EXISTS checkpoints (
      consumer    TEXT NOT NULL,
      shard_index INTEGER NOT NULL,
      seq         INTEGER NOT NULL,
      updated_ms  INTEGER NOT NULL,
      PRIMARY KEY (consumer, shard_index)
    );
    CREATE TABLE IF NOT EXISTS esm_failures (
      id         INTEGER PRIMARY KEY AUTOINCREMENT,
      consumer   TEXT NOT NULL,
      shard_id   TEXT NOT NULL,
      condition  TEXT NOT NULL,
      created_ms INTEGER NOT NULL,
      metadata   TEXT NOT NULL,
      payload    TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS esm_failures_by_consumer ON esm_failures (consumer, id);
  `);
}
