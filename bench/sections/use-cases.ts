/**
 * The `use-cases` section: in-process throughput of the two stream use cases over the in-memory
 * fakes, against a baseline that does the least any consumer must do with the same records: parse
 * the envelope, base64-decode the payload, parse the payload. The ratio says what decoding, validation, chunking and the alarm state
 * machine cost on top of that floor; both sides run in the same process, on the same records, so the
 * ratio holds on a loaded machine where the absolute figures do not.
 */
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { evaluateAlarms } from '../../lambdas/app/evaluate-alarms.js';
import { storeReadings } from '../../lambdas/app/store-readings.js';
import {
  FakeClock,
  InMemoryAlarmStateStore,
  InMemoryRejectSink,
  InMemoryTimeSeriesStore,
  RecordingNotifier,
} from '../../lambdas/adapters/memory/index.js';
import { loadThresholdsFile } from '../../lambdas/config/load-thresholds.js';
import type { StreamRecord } from '../../lambdas/domain/model.js';
import { decodeStreamRecord } from '../../lambdas/domain/telemetry.js';
import { noMetrics, silentLog } from '../../lambdas/ports/observability.js';
import { makeRecords, RECORDS_START } from '../load/records.js';
import type { BenchFigure } from '../report/figure.js';
import { figure } from '../report/figure.js';
import { median } from '../report/stats.js';
import type { SectionContext } from './section.js';

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

const THRESHOLDS = fileURLToPath(new URL('../../config/thresholds.json', import.meta.url));

/** Measures storeReadings, evaluateAlarms and decodeStreamRecord against the JSON.parse baseline; each figure is named `use-case: <subject>`. */
export async function runUseCaseBench(options: UseCaseBenchOptions = {}): Promise<BenchFigure[]> {
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
          clock: new FakeClock(RECORDS_START),
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

  const figures: Record<string, number[]> = {};
  for (const subject of subjects) figures[subject.name] = await measure(subject.run, count, runs, (line) => progress(`${subject.name}: ${line}`));
  const baselineRuns = figures[subjects[0]?.name ?? ''] ?? [];
  return subjects.map(({ name }) => figure(`use-case: ${name}`, 'records/s', figures[name] ?? [], baselineRuns));
}

/** One warm-up (the JIT settles), then `runs` measured runs of `run`, each as records/s. */
async function measure(run: () => Promise<void>, count: number, runs: number, progress: (line: string) => void): Promise<number[]> {
  await run();
  const figures: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await run();
    figures.push(Math.round(count / ((performance.now() - started) / 1000)));
  }
  progress(`${Math.round(median(figures)).toLocaleString('en-US')} records/s (runs ${figures.join(', ')})`);
  return figures;
}

/** `--only use-cases`. */
export async function useCasesSection({ profile, progress }: SectionContext): Promise<readonly BenchFigure[]> {
  progress(`use cases in-process: ${profile.useCases.records.toLocaleString('en-US')} records, ${profile.runs} runs each`);
  return runUseCaseBench({ records: profile.useCases.records, runs: profile.runs, progress: (line) => progress(`  ${line}`) });
}
