/**
 * In-process throughput of the two stream use cases over the in-memory fakes, against a baseline that
 * does the least any consumer must do with the same records: parse the envelope, base64-decode the
 * payload, parse the payload. The ratio says what decoding, validation, chunking and the alarm state
 * machine cost on top of that floor; both sides run in the same process, on the same records, so the
 * ratio holds on a loaded machine where the absolute figures do not.
 *
 * `npx tsx bench/use-cases.ts [--records N] [--runs N] [--json]`
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { telemetryTopic } from '../infra/pipeline.js';
import { evaluateAlarms } from '../lambdas/app/evaluate-alarms.js';
import { storeReadings } from '../lambdas/app/store-readings.js';
import {
  FakeClock,
  InMemoryAlarmStateStore,
  InMemoryRejectSink,
  InMemoryTimeSeriesStore,
  RecordingNotifier,
} from '../lambdas/adapters/memory/index.js';
import { loadThresholdsFile } from '../lambdas/config/load-thresholds.js';
import type { StreamRecord } from '../lambdas/domain/model.js';
import { decodeStreamRecord } from '../lambdas/domain/telemetry.js';
import { noMetrics, silentLog } from '../lambdas/ports/observability.js';

export interface UseCaseBenchOptions {
  /** Records per run. Default 100,000. */
  readonly records?: number;
  /** Records per use-case call, as the ingest mapping's batchSize. Default 500. */
  readonly batchSize?: number;
  /** Measured runs per subject; the median is reported. Default 5. */
  readonly runs?: number;
  /** Distinct devices sending the records. Default 1,000. */
  readonly devices?: number;
  /** Progress lines go here (stderr by default). */
  readonly progress?: (line: string) => void;
}

export interface BenchResult {
  readonly name: string;
  /** Median over the runs. */
  readonly value: number;
  readonly unit: 'records/s';
  /** The baseline's median in the same process. */
  readonly baseline: number;
  /** value / baseline. */
  readonly ratio: number;
  /** Every run's figure, in run order. */
  readonly runs: readonly number[];
}

const THRESHOLDS = fileURLToPath(new URL('../config/thresholds.json', import.meta.url));
const START = 1_764_028_800_000;

/** Measures storeReadings, evaluateAlarms and decodeStreamRecord against the JSON.parse baseline. */
export async function runUseCaseBench(options: UseCaseBenchOptions = {}): Promise<BenchResult[]> {
  const count = options.records ?? 100_000;
  const batchSize = options.batchSize ?? 500;
  const runs = options.runs ?? 5;
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const records = makeRecords(count, options.devices ?? 1_000);
  const batches: StreamRecord[][] = [];
  for (let i = 0; i < records.length; i += batchSize) batches.push(records.slice(i, i + batchSize));
  const rules = loadThresholdsFile(THRESHOLDS);

  const subjects: { name: string; run: () => Promise<void> }[] = [
    {
      name: 'baseline: JSON.parse envelope + base64 + JSON.parse payload',
      run: async () => {
        let sink = 0;
        for (const record of records) {
          const envelope = JSON.parse(Buffer.from(record.data).toString('utf8')) as { payload: string };
          const message = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { metrics: object };
          sink += Object.keys(message.metrics).length;
        }
        if (sink === 0) throw new Error('baseline parsed nothing');
      },
    },
    {
      name: 'decodeStreamRecord',
      run: async () => {
        for (const record of records) if (!decodeStreamRecord(record).success) throw new Error('bench record rejected');
      },
    },
    {
      name: 'storeReadings (memory store, 100 per write)',
      run: async () => {
        const deps = {
          store: new InMemoryTimeSeriesStore(),
          rejects: new InMemoryRejectSink(),
          clock: new FakeClock(START),
          metrics: noMetrics,
          log: silentLog,
        };
        for (const batch of batches) {
          const outcome = await storeReadings(batch, deps);
          if (outcome.failed.length > 0) throw new Error('bench batch failed');
        }
      },
    },
    {
      name: 'evaluateAlarms (memory state store, config/thresholds.json)',
      run: async () => {
        const deps = { rules, states: new InMemoryAlarmStateStore(), notifier: new RecordingNotifier(), metrics: noMetrics, log: silentLog };
        for (const batch of batches) {
          const outcome = await evaluateAlarms(batch, deps);
          if (outcome.failed.length > 0) throw new Error('bench batch failed');
        }
      },
    },
  ];

  const medians = new Map<string, { value: number; runs: number[] }>();
  for (const subject of subjects) {
    await subject.run(); // warm-up: let the JIT settle before measuring
    const figures: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const started = performance.now();
      await subject.run();
      figures.push(Math.round(count / ((performance.now() - started) / 1000)));
    }
    medians.set(subject.name, { value: median(figures), runs: figures });
    progress(`${subject.name}: ${median(figures).toLocaleString('en-US')} records/s (runs ${figures.join(', ')})`);
  }

  const baseline = medians.get(subjects[0]?.name ?? '')?.value ?? Number.NaN;
  return subjects.map(({ name }) => {
    const { value, runs: figures } = medians.get(name) ?? { value: Number.NaN, runs: [] };
    return { name, value, unit: 'records/s', baseline, ratio: Math.round((value / baseline) * 1000) / 1000, runs: figures };
  });
}

/**
 * Realistic records: `devices` env sensors and cold-chain loggers in turn, each reading a second apart
 * with seq, three or four metrics, and temperatures that now and then cross the rules' bounds so
 * alarms are raised and cleared along the way.
 */
export function makeRecords(count: number, devices: number): StreamRecord[] {
  const records: StreamRecord[] = [];
  for (let i = 0; i < count; i += 1) {
    const device = i % devices;
    const seq = Math.floor(i / devices);
    const deviceId = `sensor-${String(device).padStart(5, '0')}`;
    const coldChain = device % 4 === 0;
    const wave = Math.sin((seq + device) / 7);
    const ts = START + seq * 1000;
    const message = coldChain
      ? { ts, seq, type: 'cold-chain', metrics: { temperature: round(5 + 4 * wave), battery: round(3.6 - seq / 2000) } }
      : { ts, seq, type: 'env-sensor', metrics: { temperature: round(70 + 15 * wave), humidity: round(40 + 10 * wave), battery: round(3.7 - (device % 9) / 20) } };
    const envelope = {
      payload: Buffer.from(JSON.stringify(message)).toString('base64'),
      topic: telemetryTopic(deviceId),
      clientId: deviceId,
      receivedAt: ts + 40,
    };
    records.push({
      ref: { shardId: 'shardId-000000000000', sequenceNumber: String(49_000_000_000 + i), partitionKey: deviceId, approximateArrivalTimestamp: ts + 50 },
      data: new TextEncoder().encode(JSON.stringify(envelope)),
    });
  }
  return records;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : Math.round(((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2);
}

function formatTable(results: readonly BenchResult[]): string {
  const rows = results.map((r) => [r.name, r.value.toLocaleString('en-US'), r.baseline.toLocaleString('en-US'), r.ratio.toFixed(2)]);
  const header = ['subject', 'records/s (median)', 'baseline records/s', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function flag(args: readonly string[], name: string): number | undefined {
  const at = args.indexOf(name);
  if (at === -1) return undefined;
  const value = Number(args[at + 1]);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  try {
    const records = flag(args, '--records');
    const runs = flag(args, '--runs');
    const results = await runUseCaseBench({ ...(records === undefined ? {} : { records }), ...(runs === undefined ? {} : { runs }) });
    process.stdout.write(`${args.includes('--json') ? JSON.stringify(results, null, 2) : formatTable(results)}\n`);
  } catch (error) {
    process.stderr.write(`bench/use-cases: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
