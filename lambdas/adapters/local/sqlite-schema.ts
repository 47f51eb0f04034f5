import type Database from 'better-sqlite3';
import { StoreSchemaError } from './errors.js';

/**
 * The local store's schema, as numbered migrations applied in order at open. The version reached is
 * the one row of `schema_version`. A migration is never edited once released: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the first schema.
  `
  -- The time series (Timestream's table). One row per reading, keyed like a Timestream record's
  -- identity (dimensions deviceId + seq, time ts): writing the same reading again is an upsert. seq is
  -- -1 when the reading has none, because NULL is never equal to NULL in a key. WITHOUT ROWID makes
  -- the primary key the table's own order, so "one device, a time range" is a single range scan and
  -- an insert touches one B-tree, not a table and an index.
  CREATE TABLE readings (
    device_id   TEXT    NOT NULL,
    ts          INTEGER NOT NULL,  -- event time, epoch ms
    seq         INTEGER NOT NULL,  -- -1: none
    type        TEXT,
    metrics     TEXT    NOT NULL,  -- JSON object name -> number
    received_at INTEGER NOT NULL,  -- epoch ms, as the rules engine saw it
    PRIMARY KEY (device_id, ts, seq)
  ) STRICT, WITHOUT ROWID;

  -- Newest event time per device, kept by the same transaction as the readings: "last seen" and the
  -- fleet-wide "newest readings" query read this instead of scanning the time series.
  CREATE TABLE devices (
    device_id        TEXT    PRIMARY KEY,
    last_ts          INTEGER NOT NULL,
    last_received_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  -- The reject sink (the SQS reject queue on AWS): every field of RejectedMessage.
  CREATE TABLE rejects (
    id               INTEGER PRIMARY KEY,
    rejected_at      INTEGER NOT NULL,
    reason           TEXT    NOT NULL,
    stage            TEXT    NOT NULL CHECK (stage IN ('decode', 'store')),
    device_id        TEXT,
    topic            TEXT,
    payload          TEXT    NOT NULL,  -- base64, as in RejectedMessage
    shard_id         TEXT    NOT NULL,
    sequence_number  TEXT    NOT NULL,
    partition_key    TEXT    NOT NULL,
    arrival_ts       INTEGER NOT NULL,
    -- A redelivered batch rejects the same record again: keep it once.
    UNIQUE (shard_id, sequence_number, stage)
  ) STRICT;
  CREATE INDEX rejects_by_time ON rejects (rejected_at);
  CREATE INDEX rejects_by_device ON rejects (device_id, rejected_at);

  -- Alarm state (the DynamoDB table): one row per device, written with a condition on version.
  CREATE TABLE alarm_state (
    device_id TEXT    PRIMARY KEY,
    version   INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,  -- epoch ms
    state     TEXT    NOT NULL,  -- JSON, opaque to the store
    outbox    TEXT    NOT NULL   -- JSON array of AlarmEvent
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX alarm_state_by_last_seen ON alarm_state (last_seen);

  -- Every alarm transition published, once: an outbox republished after a crash is recorded once.
  CREATE TABLE alarm_transitions (
    alarm_id       TEXT    NOT NULL,
    ts             INTEGER NOT NULL,
    state          TEXT    NOT NULL,
    previous_state TEXT    NOT NULL,
    device_id      TEXT    NOT NULL,
    rule_id        TEXT    NOT NULL,
    metric         TEXT,
    severity       TEXT    NOT NULL,
    value          REAL,
    threshold      REAL    NOT NULL,
    recorded_at    INTEGER NOT NULL,
    PRIMARY KEY (alarm_id, ts, state)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX alarm_transitions_by_time ON alarm_transitions (ts);
  CREATE INDEX alarm_transitions_by_device ON alarm_transitions (device_id, ts);

  -- The newest transition per alarm: the current state of every alarm ever raised.
  CREATE TABLE alarm_current (
    alarm_id       TEXT    PRIMARY KEY,
    device_id      TEXT    NOT NULL,
    rule_id        TEXT    NOT NULL,
    metric         TEXT,
    state          TEXT    NOT NULL,
    previous_state TEXT    NOT NULL,
    severity       TEXT    NOT NULL,
    value          REAL,
    threshold      REAL    NOT NULL,
    ts             INTEGER NOT NULL,  -- event time of that transition: the state holds since then
    recorded_at    INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX alarm_current_by_device ON alarm_current (device_id);
  `,
  // 2: the alarm lifecycle (issue 13): commands and who gave them, reminders, snooze ends.
  `
  -- When the scheduled check must visit a device without a reading (a snooze ends, a reminder is
  -- due); NULL when nothing is pending. Partial index: only the few devices waiting are in it.
  ALTER TABLE alarm_state ADD COLUMN wake_at INTEGER;
  CREATE INDEX alarm_state_by_wake_at ON alarm_state (wake_at) WHERE wake_at IS NOT NULL;

  -- A transition's cause: the command (and its operator and note), 'reminder', or NULL (automatic).
  ALTER TABLE alarm_transitions ADD COLUMN action TEXT;
  ALTER TABLE alarm_transitions ADD COLUMN by_client TEXT;
  ALTER TABLE alarm_transitions ADD COLUMN note TEXT;
  ALTER TABLE alarm_transitions ADD COLUMN reminder INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE alarm_current ADD COLUMN action TEXT;
  ALTER TABLE alarm_current ADD COLUMN by_client TEXT;
  ALTER TABLE alarm_current ADD COLUMN note TEXT;

  -- Every operator command with its outcome, once (a retried command records the same row again).
  -- rule_id and action are '' when the command was too malformed to name them.
  CREATE TABLE alarm_commands (
    device_id    TEXT    NOT NULL,
    at           INTEGER NOT NULL,  -- epoch ms, when the rule received it
    by_client    TEXT    NOT NULL,
    rule_id      TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    note         TEXT,
    seconds      INTEGER,
    client_token TEXT,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    reason       TEXT,
    state        TEXT,
    recorded_at  INTEGER NOT NULL,
    PRIMARY KEY (device_id, at, by_client, rule_id, action)
  ) STRICT, WITHOUT ROWID;
  `,
  // 3: each consumer's position, stored with the writes it covers.
  `
  -- The last stream record each consumer has applied, per shard: written after (in the same or a later
  -- transaction than) the writes of the records it passes, so whatever state of this file survives a
  -- power cut, its positions never claim more than it holds. At start the stack resumes each consumer
  -- from the lower of this and the stream's own checkpoint (stream.db), replaying what a rollback of
  -- this file took away (offsets stored with the data, as Kafka Connect and Flink do).
  CREATE TABLE consumer_positions (
    consumer        TEXT NOT NULL,
    shard_id        TEXT NOT NULL,
    sequence_number TEXT NOT NULL,  -- the stream's 20-digit form: compares as text
    PRIMARY KEY (consumer, shard_id)
  ) STRICT, WITHOUT ROWID;
  `,
  // 4: finding a resend of a reading that has no ts.
  `
  -- A reading without ts takes its receive time as its time (ts = received_at), so a resend (a lost
  -- PUBACK) would be a second row. The time-series adapter looks for an earlier copy through this
  -- index, which holds only such rows: readings that carry ts cost nothing more.
  CREATE INDEX readings_timed_by_receipt ON readings (device_id, seq, ts) WHERE ts = received_at;
  `,
  // 5: an alarm event's threshold may be null (a rule whose threshold is another metric, on a command
  // that compared no reading). SQLite cannot drop a NOT NULL in place: both tables are rebuilt.
  `
  CREATE TABLE alarm_transitions_v5 (
    alarm_id       TEXT    NOT NULL,
    ts             INTEGER NOT NULL,
    state          TEXT    NOT NULL,
    previous_state TEXT    NOT NULL,
    device_id      TEXT    NOT NULL,
    rule_id        TEXT    NOT NULL,
    metric         TEXT,
    severity       TEXT    NOT NULL,
    value          REAL,
    threshold      REAL,
    recorded_at    INTEGER NOT NULL,
    action         TEXT,
    by_client      TEXT,
    note           TEXT,
    reminder       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (alarm_id, ts, state)
  ) STRICT, WITHOUT ROWID;
  INSERT INTO alarm_transitions_v5
    (alarm_id, ts, state, previous_state, device_id, rule_id, metric, severity, value, threshold, recorded_at, action, by_client, note, reminder)
    SELECT alarm_id, ts, state, previous_state, device_id, rule_id, metric, severity, value, threshold, recorded_at, action, by_client, note, reminder
    FROM alarm_transitions;
  DROP TABLE alarm_transitions;
  ALTER TABLE alarm_transitions_v5 RENAME TO alarm_transitions;
  CREATE INDEX alarm_transitions_by_time ON alarm_transitions (ts);
  CREATE INDEX alarm_transitions_by_device ON alarm_transitions (device_id, ts);

  CREATE TABLE alarm_current_v5 (
    alarm_id       TEXT    PRIMARY KEY,
    device_id      TEXT    NOT NULL,
    rule_id        TEXT    NOT NULL,
    metric         TEXT,
    state          TEXT    NOT NULL,
    previous_state TEXT    NOT NULL,
    severity       TEXT    NOT NULL,
    value          REAL,
    threshold      REAL,
    ts             INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    action         TEXT,
    by_client      TEXT,
    note           TEXT
  ) STRICT, WITHOUT ROWID;
  INSERT INTO alarm_current_v5
    (alarm_id, device_id, rule_id, metric, state, previous_state, severity, value, threshold, ts, recorded_at, action, by_client, note)
    SELECT alarm_id, device_id, rule_id, metric, state, previous_state, severity, value, threshold, ts, recorded_at, action, by_client, note
    FROM alarm_current;
  DROP TABLE alarm_current;
  ALTER TABLE alarm_current_v5 RENAME TO alarm_current;
  CREATE INDEX alarm_current_by_device ON alarm_current (device_id);
  `,
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The version a store file is at: 0 for a file no writer has set up yet. */
export function schemaVersionOf(db: Database.Database): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    .get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/**
 * Brings the store at `file` to SCHEMA_VERSION, in one IMMEDIATE transaction so two processes opening
 * the same new file do not both migrate it. A file from newer code is refused rather than guessed at.
 */
export function migrate(db: Database.Database, file: string): void {
  const run = db.transaction(() => {
    const from = schemaVersionOf(db);
    if (from > SCHEMA_VERSION) {
      throw new StoreSchemaError(
        `${file}: store schema version ${from} is newer than this code's ${SCHEMA_VERSION}; upgrade the code`,
      );
    }
    if (from === SCHEMA_VERSION) return;
    if (from === 0) db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT');
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] as string);
    db.prepare('DELETE FROM schema_version').run();
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
  });
  run.immediate();
}

/** For a read-only open: the file must already be at this code's version (nobody may migrate it). */
export function checkSchema(db: Database.Database, file: string): void {
  const version = schemaVersionOf(db);
  if (version !== SCHEMA_VERSION) {
    throw new StoreSchemaError(
      version === 0
        ? `${file}: not a fleet-telemetry store (no schema); start the stack once to create it`
        : `${file}: store schema version ${version}, this code reads ${SCHEMA_VERSION}`,
    );
  }
}
