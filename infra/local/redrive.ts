/**
 * `npm run redrive` on the local runtime: puts the batches kept in the local on-failure destination
 * (stream.db's esm_failures, infra/local/stream/failures.ts) back on the local stream, so both
 * consumers see their records again, as they would on AWS after a PutRecords. Each batch put back is
 * marked in stream.db (table redriven_failures), so a second run skips it; if a run dies between the
 * append and the mark, the batch is put back twice, which the idempotent store and event-time alarms
 * absorb. Works with the stack stopped or running (a second connection appends in its own
 * transactions; the stream's sequence counters are read inside them).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../../lambdas/domain/errors.js';
import type { FailedBatch, RedriveReport } from '../redrive-batch.js';
import { recordsOfEvent, redriveBatches } from '../redrive-batch.js';
import { LocalStream, listStreamFileFailures } from './stream/index.js';

export interface LocalRedriveOptions {
  /** The data directory of the local stack (its stream.db). */
  readonly dataDir: string;
  /** Only this consumer's batches (ingest, alarms). @default all */
  readonly consumer?: string;
  readonly dryRun: boolean;
}

/** The stream's file in the data directory (DATA_FILES.stream in infra/local/stack.ts, not imported: it loads the broker). */
const STREAM_FILE = 'stream.db';

const MARKS_SQL = `CREATE TABLE IF NOT EXISTS redriven_failures (
  failure_id  INTEGER PRIMARY KEY,
  redriven_ms INTEGER NOT NULL,
  records     INTEGER NOT NULL
)`;

/** Lists the kept batches and, unless dryRun, puts the ones not yet redriven back on the stream. */
export async function redriveLocal(options: LocalRedriveOptions): Promise<RedriveReport> {
  const file = join(options.dataDir, STREAM_FILE);
  if (!existsSync(file)) throw new ConfigError(`no local stream at ${file}: is --data the stack's data directory?`);
  const marks = new Database(file);
  try {
    marks.pragma('busy_timeout = 5000');
    marks.exec(MARKS_SQL);
    const redriven = new Set((marks.prepare('SELECT failure_id FROM redriven_failures').all() as { failure_id: number }[]).map((r) => r.failure_id));
    const batches: FailedBatch[] = listStreamFileFailures(file, options.consumer).map((entry) => ({
      id: String(entry.id),
      consumer: entry.consumer,
      condition: entry.condition,
      shardId: entry.shardId,
      failedAt: new Date(entry.createdAt).toISOString(),
      records: recordsOfEvent(entry.payload, `stream.db failure entry ${entry.id}`),
      redriven: redriven.has(entry.id),
    }));
    if (options.dryRun || batches.every((batch) => batch.redriven)) {
      return await redriveBatches('local', batches, { dryRun: options.dryRun, putBack: async () => undefined });
    }
    const meta = new Map((marks.prepare('SELECT key, value FROM stream_meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    const stream = LocalStream.open({
      file,
      streamName: meta.get('stream_name') ?? '',
      shardCount: Number(meta.get('shard_count')),
      retentionHours: Number(meta.get('retention_hours')),
    });
    const mark = marks.prepare('INSERT OR REPLACE INTO redriven_failures (failure_id, redriven_ms, records) VALUES (?, ?, ?)');
    try {
      return await redriveBatches('local', batches, {
        dryRun: false,
        putBack: async (batch) => {
          await stream.appendMany(batch.records.map((record) => ({ partitionKey: record.partitionKey, data: record.data })));
          mark.run(Number(batch.id), Date.now(), batch.records.length);
        },
      });
    } finally {
      await stream.close();
    }
  } finally {
    marks.close();
  }
}
