/**
 * The `store` section: the SQLite time-series sink against raw better-sqlite3 inserts of the same
 * rows, and the cost of growth of the read side (one device's last hour) with 10^5..10^7 rows.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../lambdas/adapters/local/sqlite-store.js';
import type { Reading } from '../../lambdas/domain/model.js';
import { makeReadings, RECORDS_START } from '../load/records.js';
import type { BenchFigure } from '../report/figure.js';
import { figure } from '../report/figure.js';
import { latencySummary, median, round } from '../report/stats.js';
import type { SectionContext } from './section.js';

const HOUR_MS = 3_600_000;

export interface SinkOptions {
  readonly runs: number;
  /** Readings written per run. */
  readonly readings: number;
  /** Readings per write: the ingest mapping's batch. */
  readonly batchSize: number;
  readonly devices: number;
  readonly progress: (line: string) => void;
}

function withTempStore<T>(run: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'ft-bench-store-'));
  try {
    return run(join(dir, 'store.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sink as the ingest consumer uses it: `SqliteStore.timeSeries.write` of one batch at a time. */
async function sinkRun(readings: readonly Reading[], batchSize: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ft-bench-store-'));
  const store = SqliteStore.open(join(dir, 'store.db'));
  try {
    const started = performance.now();
    for (let i = 0; i < readings.length; i += batchSize) {
      const outcome = await store.timeSeries.write(readings.slice(i, i + batchSize));
      if (outcome.rejected.length > 0) throw new Error(`sink refused ${outcome.rejected.length} readings`);
    }
    const rate = readings.length / ((performance.now() - started) / 1000);
    if (store.countReadings() !== readings.length) throw new Error('sink: row count differs from readings written');
    return rate;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The floor: the same rows, plain INSERTs of a prepared statement, one transaction per batch, into
 * the same table and with the same pragmas (the store's schema is created by SqliteStore.open).
 */
function rawRun(readings: readonly Reading[], batchSize: number): number {
  return withTempStore((file) => {
    SqliteStore.open(file).close();
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('cache_size = -65536');
      const insert = db.prepare('INSERT INTO readings (device_id, ts, seq, type, metrics, received_at) VALUES (?, ?, ?, ?, ?, ?)');
      const batch = db.transaction((rows: readonly Reading[]) => {
        for (const r of rows) insert.run(r.deviceId, r.ts, r.seq ?? -1, r.type ?? null, JSON.stringify(r.metrics), r.receivedAt);
      });
      const started = performance.now();
      for (let i = 0; i < readings.length; i += batchSize) batch(readings.slice(i, i + batchSize));
      return readings.length / ((performance.now() - started) / 1000);
    } finally {
      db.close();
    }
  });
}

/** Sink against raw inserts, interleaved, each run on a new file. */
async function runSinkBench(options: SinkOptions): Promise<BenchFigure[]> {
  const readings = makeReadings(options.readings, options.devices);
  options.progress(`store sink: ${options.runs} runs of ${options.readings.toLocaleString('en-US')} readings in writes of ${options.batchSize}, ${options.devices} devices`);
  // Warm-up: the JIT and the page cache, for both sides alike.
  const warm = readings.slice(0, Math.min(readings.length, 5_000));
  await sinkRun(warm, options.batchSize);
  rawRun(warm, options.batchSize);
  const sink: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    raw.push(rawRun(readings, options.batchSize));
    sink.push(await sinkRun(readings, options.batchSize));
    options.progress(`  run ${i + 1}: sink ${Math.round(sink[i] as number).toLocaleString('en-US')} rows/s, raw better-sqlite3 ${Math.round(raw[i] as number).toLocaleString('en-US')} rows/s`);
  }
  return [
    figure('store-sink-vs-raw-insert', 'rows/s', sink, raw, {
      note: `SqliteTimeSeriesStore.write (upsert + devices table) in writes of ${options.batchSize}, against plain prepared INSERTs of the same rows, same batches, same file settings`,
    }),
  ];
}

export interface QueryGrowthOptions {
  readonly runs: number;
  /** Stored readings to measure at, smallest first (the smallest is the baseline). */
  readonly sizes: readonly number[];
  /** Queries per run. */
  readonly queries: number;
  readonly progress: (line: string) => void;
}

/** Each device holds this many readings, one every 10 s (about 27.8 hours): the last hour is 360 rows. */
const READINGS_PER_DEVICE = 10_000;
const INTERVAL_MS = 10_000;

/**
 * Fills `file` (a store created by SqliteStore.open) with `size` readings by raw inserts in key
 * order, without the journal or fsync: generation is not what is measured.
 */
function fill(file: string, size: number): number {
  const devices = Math.max(1, Math.ceil(size / READINGS_PER_DEVICE));
  const db = new Database(file);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const insert = db.prepare('INSERT INTO readings (device_id, ts, seq, type, metrics, received_at) VALUES (?, ?, ?, ?, ?, ?)');
    const device = db.prepare('INSERT INTO devices (device_id, last_ts, last_received_at) VALUES (?, ?, ?)');
    let written = 0;
    const chunk = db.transaction((d: number, from: number, to: number) => {
      const deviceId = `sensor-${String(d).padStart(5, '0')}`;
      for (let k = from; k < to; k++) {
        const ts = RECORDS_START + k * INTERVAL_MS;
        insert.run(deviceId, ts, k, 'env-sensor', `{"temperature":${20 + (k % 50) / 10},"humidity":${40 + (k % 17)},"battery":3.6}`, ts + 40);
      }
    });
    for (let d = 0; d < devices && written < size; d++) {
      const count = Math.min(READINGS_PER_DEVICE, size - written);
      for (let k = 0; k < count; k += 50_000) chunk(d, k, Math.min(count, k + 50_000));
      const last = RECORDS_START + (count - 1) * INTERVAL_MS;
      device.run(`sensor-${String(d).padStart(5, '0')}`, last, last + 40);
      written += count;
    }
    return devices;
  } finally {
    db.close();
  }
}

/** `queryReadings` for one device's last hour, at each size; the smallest size is the baseline. */
function runQueryGrowth(options: QueryGrowthOptions): BenchFigure[] {
  const perSize: { size: number; runs: number[]; p99: number[]; rows: number; fileMiB: number }[] = [];
  for (const size of options.sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'ft-bench-query-'));
    const file = join(dir, 'store.db');
    try {
      SqliteStore.open(file).close();
      const started = performance.now();
      const devices = fill(file, size);
      const fileMiB = statSync(file).size / (1024 * 1024);
      options.progress(
        `query growth: ${size.toLocaleString('en-US')} readings (${devices} devices, ${Math.round(fileMiB)} MiB) generated in ${round((performance.now() - started) / 1000, 1)} s`,
      );
      const store = SqliteStore.open(file);
      try {
        const lastTs = RECORDS_START + (Math.min(READINGS_PER_DEVICE, size) - 1) * INTERVAL_MS;
        let rows = 0;
        const runs: number[] = [];
        const p99: number[] = [];
        let pick = 12_345;
        const query = () => {
          pick = (pick * 1_103_515_245 + 12_345) % 2_147_483_648;
          const deviceId = `sensor-${String(pick % devices).padStart(5, '0')}`;
          const t = performance.now();
          rows = store.queryReadings({ deviceId, since: lastTs - HOUR_MS + 1 }).length;
          return performance.now() - t;
        };
        // Warm-up: without it the first size measured pays the JIT's start (it read twice as slow as the
        // next size in a full run) and would be a false baseline.
        for (let q = 0; q < 500; q++) query();
        for (let r = 0; r < options.runs; r++) {
          const times = Array.from({ length: options.queries }, query);
          const summary = latencySummary(times);
          runs.push(summary.p50);
          p99.push(summary.p99);
        }
        perSize.push({ size, runs, p99, rows, fileMiB });
        options.progress(`  one device's last hour (${rows} rows): p50 ${round(median(runs), 3)} ms per query`);
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const base = perSize[0];
  return perSize.map((s) =>
    figure(`query-last-hour@${s.size.toExponential().replace('e+', 'e')}`, 'ms', s.runs, base?.runs ?? null, {
      digits: 3,
      note: `queryReadings, one device's last hour (${s.rows} rows), ${s.size.toLocaleString('en-US')} readings stored (${Math.round(s.fileMiB)} MiB); baseline: the same query with ${base?.size.toLocaleString('en-US')} stored`,
      detail: { p99Ms: round(median(s.p99), 3) },
    }),
  );
}

/** `--only store`. */
export async function storeSection({ profile, progress }: SectionContext): Promise<readonly BenchFigure[]> {
  const { runs } = profile;
  const { readings, devices, querySizes, queries } = profile.store;
  return [...(await runSinkBench({ runs, readings, batchSize: 500, devices, progress })), ...runQueryGrowth({ runs, sizes: querySizes, queries, progress })];
}
