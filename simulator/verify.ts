/**
 * `--verify`: checks through the local store (`<dataDir>/store.db`, opened read-only) that every
 * reading the broker acknowledged was stored. The pipeline is asynchronous (stream, then the
 * ingest consumer), so it polls until all are there or the time is up, then reports what is
 * missing and what was stored more than once.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteStore } from '../lambdas/adapters/local/sqlite-store.js';
import { VerifyError } from './errors.js';

/** The outcome of a verification. */
export interface VerifyResult {
  /** Acknowledged readings checked. */
  readonly checked: number;
  /** Of those, found in the store. */
  readonly stored: number;
  /** Acknowledged but not stored when the time was up. */
  readonly missing: number;
  /** Readings (deviceId, seq) stored more than once. */
  readonly duplicates: number;
  /** Up to 10 missing ones, for the report. */
  readonly missingExamples: readonly { readonly deviceId: string; readonly seq: number }[];
  readonly ok: boolean;
  /** How long the check took, ms. */
  readonly waitedMs: number;
}

/** What to check. */
export interface VerifyRequest {
  readonly dataDir: string;
  /** Acknowledged seqs by device. */
  readonly acked: ReadonlyMap<string, readonly number[]>;
  /** Only readings at or after this event time (epoch ms): the run's start, so earlier runs' readings with the same seqs do not count. */
  readonly since: number;
  /** Give up after this long (ms). */
  readonly timeoutMs: number;
  /** Poll interval (ms). */
  readonly pollMs?: number;
}

/** Polls the store until every acknowledged reading is there or `timeoutMs` passes. */
export async function verifyStored(request: VerifyRequest): Promise<VerifyResult> {
  const started = Date.now();
  const file = join(request.dataDir, 'store.db');
  const pollMs = request.pollMs ?? 500;
  // Devices still missing something, with what they miss.
  let pending = new Map<string, Set<number>>();
  let checked = 0;
  for (const [deviceId, seqs] of request.acked) {
    checked += seqs.length;
    if (seqs.length > 0) pending.set(deviceId, new Set(seqs));
  }
  const duplicatesByDevice = new Map<string, number>();
  let store: SqliteStore | undefined;
  try {
    for (;;) {
      if (store === undefined) {
        try {
          store = SqliteStore.open(file, { readonly: true });
        } catch (err) {
          // The stack creates the store at start-up; a stack that is not running is an error only once the time is up.
          if (Date.now() - started >= request.timeoutMs) {
            throw new VerifyError(`cannot open the local store ${file}: ${(err as Error).message}`, { cause: err });
          }
        }
      }
      if (store !== undefined) {
        const next = new Map<string, Set<number>>();
        for (const [deviceId, wanted] of pending) {
          const counts = new Map<number, number>();
          for (const row of store.queryReadings({ deviceId, since: request.since, order: 'asc' })) {
            if (row.seq !== null) counts.set(row.seq, (counts.get(row.seq) ?? 0) + 1);
          }
          let dups = 0;
          for (const n of counts.values()) if (n > 1) dups += 1;
          duplicatesByDevice.set(deviceId, dups);
          const still = new Set([...wanted].filter((seq) => !counts.has(seq)));
          if (still.size > 0) next.set(deviceId, still);
        }
        pending = next;
      }
      if (pending.size === 0 || Date.now() - started >= request.timeoutMs) break;
      await sleep(pollMs);
    }
  } finally {
    store?.close();
  }
  let missing = 0;
  const missingExamples: { deviceId: string; seq: number }[] = [];
  for (const [deviceId, seqs] of pending) {
    missing += seqs.size;
    for (const seq of seqs) if (missingExamples.length < 10) missingExamples.push({ deviceId, seq });
  }
  let duplicates = 0;
  for (const n of duplicatesByDevice.values()) duplicates += n;
  return { checked, stored: checked - missing, missing, duplicates, missingExamples, ok: missing === 0, waitedMs: Date.now() - started };
}
