/**
 * `--verify`: checks through the stack's store that every reading the broker acknowledged was
 * stored, and not twice. Locally the store is `<dataDir>/store.db` (opened read-only); on AWS it is the
 * deployed stack's readings table, read through the readings port (verify-aws.ts). The pipeline is
 * asynchronous (stream, then the ingest consumer), so it polls until all are there or the time is up,
 * then reports what is missing and what was stored more than once. A large fleet is checked on a
 * sample of its devices (every acknowledged reading of each sampled device), so that a 100,000-device
 * run on AWS is not 100,000 queries per poll.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteStore } from '../lambdas/adapters/local/sqlite-store.js';
import { VerifyError } from './errors.js';
import { createRng } from './random.js';

/** The outcome of a verification. */
export interface VerifyResult {
  /** Acknowledged readings checked (of the sampled devices). */
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
  /** Devices checked, when only a sample of the fleet was. */
  readonly sampledDevices?: number;
}

/** Where stored readings are read back: how many times each seq of a device is stored since a time. */
export interface StoredReadingsSource {
  seqCounts(deviceId: string, since: number): Promise<ReadonlyMap<number, number>>;
  close(): void;
}

/** What to check. */
export interface VerifyRequest {
  /** Opens the store; may fail while the stack is starting (retried until the time is up). */
  readonly open: () => Promise<StoredReadingsSource>;
  /** Names the store in errors (a file, a table). */
  readonly storeName: string;
  /** Acknowledged seqs by device. */
  readonly acked: ReadonlyMap<string, readonly number[]>;
  /** Only readings at or after this event time (epoch ms): the run's start, so earlier runs' readings with the same seqs do not count. */
  readonly since: number;
  /** Give up after this long (ms). */
  readonly timeoutMs: number;
  /** Poll interval (ms). */
  readonly pollMs?: number;
  /** Check at most this many devices, drawn with `seed`. @default all */
  readonly sampleDevices?: number;
  readonly seed?: string;
}

/** The local stack's store as a source. */
export function sqliteSource(dataDir: string): { open: () => Promise<StoredReadingsSource>; storeName: string } {
  const file = join(dataDir, 'store.db');
  return {
    storeName: file,
    open: () => {
      const store = SqliteStore.open(file, { readonly: true });
      return Promise.resolve({
        seqCounts: (deviceId, since) => {
          const counts = new Map<number, number>();
          for (const row of store.queryReadings({ deviceId, since, order: 'asc' })) {
            if (row.seq !== null) counts.set(row.seq, (counts.get(row.seq) ?? 0) + 1);
          }
          return Promise.resolve(counts);
        },
        close: () => store.close(),
      });
    },
  };
}

/** The devices to check: all of them, or `size` drawn without replacement (seeded, so a run is repeatable). */
export function sampleOf<T>(items: readonly T[], size: number | undefined, seed: string): T[] {
  if (size === undefined || size >= items.length) return [...items];
  const rng = createRng(seed, 'verify-sample');
  const pool = [...items];
  // A partial Fisher-Yates shuffle: the first `size` places hold the sample.
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rng.uniform(0, pool.length - i));
    [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
  }
  return pool.slice(0, size);
}

/** Polls the store until every acknowledged reading of the (sampled) devices is there or `timeoutMs` passes. */
export async function verifyStored(request: VerifyRequest): Promise<VerifyResult> {
  const started = Date.now();
  const pollMs = request.pollMs ?? 500;
  const devices = sampleOf([...request.acked.keys()], request.sampleDevices, request.seed ?? 'verify');
  // Devices still missing something, with what they miss.
  let pending = new Map<string, Set<number>>();
  let checked = 0;
  for (const deviceId of devices) {
    const seqs = request.acked.get(deviceId) ?? [];
    checked += seqs.length;
    if (seqs.length > 0) pending.set(deviceId, new Set(seqs));
  }
  const duplicatesByDevice = new Map<string, number>();
  let source: StoredReadingsSource | undefined;
  try {
    for (;;) {
      if (source === undefined) {
        try {
          source = await request.open();
        } catch (err) {
          // The stack creates its store at start-up; a stack that is not running is an error only once the time is up.
          if (Date.now() - started >= request.timeoutMs) {
            throw new VerifyError(`cannot open ${request.storeName}: ${(err as Error).message}`, { cause: err });
          }
        }
      }
      if (source !== undefined) {
        const next = new Map<string, Set<number>>();
        for (const [deviceId, wanted] of pending) {
          const counts = await source.seqCounts(deviceId, request.since);
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
    source?.close();
  }
  let missing = 0;
  const missingExamples: { deviceId: string; seq: number }[] = [];
  for (const [deviceId, seqs] of pending) {
    missing += seqs.size;
    for (const seq of seqs) if (missingExamples.length < 10) missingExamples.push({ deviceId, seq });
  }
  let duplicates = 0;
  for (const n of duplicatesByDevice.values()) duplicates += n;
  return {
    checked,
    stored: checked - missing,
    missing,
    duplicates,
    missingExamples,
    ok: missing === 0,
    waitedMs: Date.now() - started,
    ...(devices.length < request.acked.size ? { sampledDevices: devices.length } : {}),
  };
}
