import type Database from 'better-sqlite3';
import type { RejectedMessage } from '../../domain/model.js';
import type { RejectSink } from '../../ports/reject-sink.js';
import type { WriteGroup } from './write-group.js';

/**
 * The reject sink on the local SQLite store (`rejects` table; the SQS reject queue on AWS). A record
 * rejected again at the same stage (a redelivered batch) is kept once, keyed by its stream position.
 */
export class SqliteRejectSink implements RejectSink {
  private readonly insert: Database.Statement;
  private readonly insertAll: (messages: readonly RejectedMessage[]) => void;

  constructor(
    db: Database.Database,
    private readonly writes: WriteGroup,
  ) {
    this.insert = db.prepare(
      `INSERT INTO rejects (rejected_at, reason, stage, device_id, topic, payload, shard_id, sequence_number, partition_key, arrival_ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (shard_id, sequence_number, stage) DO NOTHING`,
    );
    this.insertAll = db.transaction((messages: readonly RejectedMessage[]) => {
      for (const m of messages) {
        this.insert.run(
          m.rejectedAt,
          m.reason,
          m.stage,
          m.deviceId ?? null,
          m.topic ?? null,
          m.payload,
          m.record.shardId,
          m.record.sequenceNumber,
          m.record.partitionKey,
          m.record.approximateArrivalTimestamp,
        );
      }
    });
  }

  /** Keeps `messages` in one transaction; a transient SQLite failure throws RetryableError. */
  async reject(messages: readonly RejectedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.writes.run('store.db rejects write', () => this.insertAll(messages));
  }
}
