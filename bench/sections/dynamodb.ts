/**
 * The `dynamodb` section: the ingest use case through the DynamoDB time-series adapter, against dynalite (a DynamoDB
 * implementation, in this process on 127.0.0.1), beside the same use case over the in-memory store
 * on the same records. Each run writes into a fresh table built from the deployed key schema, with
 * the ingest function's settings (batches of 500, 25 items per BatchWriteItem, 10 in flight).
 *
 * What the figure is: our decode + chunking + marshalling + the SDK's HTTP requests + dynalite's own
 * work, all on this machine's cores. It is not DynamoDB's speed (on AWS the table scales on demand
 * and each request takes a network round trip instead of dynalite's CPU); it shows what one ingest
 * invocation costs on our side and that the adapter keeps a 500-record batch moving.
 */
import { performance } from 'node:perf_hooks';
import { FakeClock, InMemoryRejectSink, InMemoryTimeSeriesStore } from '../../lambdas/adapters/memory/index.js';
import { READINGS_TABLE_KEYS } from '../../lambdas/adapters/aws/dynamodb-readings-schema.js';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { DYNAMODB_MAX_ITEMS_PER_BATCH, DynamoDbTimeSeriesStore, toReadingItem } from '../../lambdas/adapters/aws/dynamodb-time-series.js';
import { storeReadings, type StoreReadingsDeps } from '../../lambdas/app/store-readings.js';
import type { Reading, StreamRecord } from '../../lambdas/domain/model.js';
import { decodeStreamRecord } from '../../lambdas/domain/telemetry.js';
import { noMetrics, silentLog } from '../../lambdas/ports/observability.js';
import { startDynalite } from '../../test/helpers/dynalite.js';
import { makeRecords, RECORDS_START } from '../load/records.js';
import { figure, type BenchFigure } from '../report/figure.js';
import { median } from '../report/stats.js';
import type { SectionContext } from './section.js';

export interface DynamoDbBenchOptions {
  /** Records per run. */
  readonly records: number;
  /** Measured runs of each subject (after one warm-up). */
  readonly runs: number;
  readonly progress: (line: string) => void;
}

/** Store writes in flight per invocation: the ingest function's DynamoDB setting (lambdas/ingest/handler.ts). */
const CONCURRENT_WRITES = 10;
const BATCH = 500;

async function runDynamoDbBench(options: DynamoDbBenchOptions): Promise<BenchFigure[]> {
  const records = makeRecords(options.records, Math.max(1, Math.floor(options.records / 20)));
  const batches: StreamRecord[][] = [];
  for (let i = 0; i < records.length; i += BATCH) batches.push(records.slice(i, i + BATCH));
  const dynalite = await startDynalite();
  try {
    const ingest = async (store: StoreReadingsDeps['store']): Promise<number> => {
      const deps: StoreReadingsDeps = {
        store,
        rejects: new InMemoryRejectSink(),
        clock: new FakeClock(RECORDS_START),
        metrics: noMetrics,
        log: silentLog,
        maxConcurrentWrites: CONCURRENT_WRITES,
      };
      const started = performance.now();
      for (const batch of batches) {
        const outcome = await storeReadings(batch, deps);
        if (outcome.failed.length > 0) throw new Error(`${outcome.failed.length} records of a batch were not stored`);
      }
      return Math.round(records.length / ((performance.now() - started) / 1000));
    };
    const memory = async (): Promise<number> => ingest(new InMemoryTimeSeriesStore());
    // dynalite's own ceiling: the same items, already built, sent as BatchWriteItem with the same
    // concurrency and nothing of ours around them.
    const items = decodedReadings(records).map((reading) => ({ PutRequest: { Item: toReadingItem(reading, 30 * 86_400) } }));
    const raw = async (): Promise<number> => {
      const tableName = await dynalite.createTable(READINGS_TABLE_KEYS);
      const requests: (typeof items)[] = [];
      for (let i = 0; i < items.length; i += DYNAMODB_MAX_ITEMS_PER_BATCH) requests.push(items.slice(i, i + DYNAMODB_MAX_ITEMS_PER_BATCH));
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENT_WRITES }, async () => {
          while (next < requests.length) {
            const RequestItems = { [tableName]: requests[next++] as typeof items };
            const { UnprocessedItems } = await dynalite.client.send(new BatchWriteItemCommand({ RequestItems }));
            if (Object.keys(UnprocessedItems ?? {}).length > 0) throw new Error('dynalite left items unprocessed');
          }
        }),
      );
      return Math.round(items.length / ((performance.now() - started) / 1000));
    };
    const dynamo = async (): Promise<number> =>
      ingest(new DynamoDbTimeSeriesStore({ client: dynalite.client, tableName: await dynalite.createTable(READINGS_TABLE_KEYS) }));

    await memory();
    await raw();
    await dynamo(); // warm-up: JIT, the SDK's first requests, dynalite's first table
    const baselineRuns: number[] = [];
    const rawRuns: number[] = [];
    const runs: number[] = [];
    for (let i = 0; i < options.runs; i += 1) {
      baselineRuns.push(await memory());
      rawRuns.push(await raw());
      runs.push(await dynamo());
    }
    options.progress(
      `storeReadings over dynalite: ${median(runs).toLocaleString('en-US')} records/s (runs ${runs.join(', ')}); raw BatchWriteItem ${median(rawRuns).toLocaleString('en-US')} items/s; memory store ${median(baselineRuns).toLocaleString('en-US')} records/s`,
    );
    return [
      figure('use-case: storeReadings (DynamoDB adapter over dynalite)', 'records/s', runs, baselineRuns, {
        note: `${options.records} records in batches of ${BATCH}, 25 per BatchWriteItem, ${CONCURRENT_WRITES} in flight, dynalite in-process; baseline: the memory store; detail: dynalite's own ceiling (pre-built items, raw BatchWriteItem)`,
        detail: { rawBatchWriteItemsPerS: median(rawRuns), ofRawCeiling: Math.round((median(runs) / median(rawRuns)) * 1000) / 1000 },
      }),
    ];
  } finally {
    await dynalite.stop();
  }
}

function decodedReadings(records: readonly StreamRecord[]): Reading[] {
  return records.map((record) => {
    const decoded = decodeStreamRecord(record);
    if (!decoded.success) throw new Error('bench record rejected');
    return decoded.reading;
  });
}

/** `--only dynamodb`. */
export async function dynamodbSection({ profile, progress }: SectionContext): Promise<readonly BenchFigure[]> {
  progress(`DynamoDB adapter over dynalite: ${profile.dynamodb.records.toLocaleString('en-US')} records, ${profile.runs} runs`);
  return runDynamoDbBench({ records: profile.dynamodb.records, runs: profile.runs, progress: (line) => progress(`  ${line}`) });
}
