/**
 * The pipeline as the benchmarks drive it: the real local stack (`startLocalStack`), in a temp data
 * dir, started fresh for every run, told by the stack (`onIngestBatch`) when each ingest write has
 * committed to store.db. (The baseline, raw aedes, is in targets/raw-broker.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalStack } from '../../infra/local/stack.js';
import type { LocalStack } from '../../infra/local/stack.js';
import type { DeviceEntry } from '../../infra/local/registry/index.js';
import { loadThresholdsFile } from '../../lambdas/config/load-thresholds.js';
import { stderrLog } from '../../lambdas/adapters/local/observability.js';
import type { IngestBatchCommitted } from '../../infra/local/consumers/compose.js';
import { benchDeviceId } from '../load/devices.js';
import type { PublisherCredentials } from '../load/publisher.js';

const OPERATOR_ID = 'bench-operator';
const THRESHOLDS = fileURLToPath(new URL('../../config/thresholds.json', import.meta.url));

export interface PipelineTargetOptions {
  /** Publishers to register (device role, type env-sensor). */
  readonly publishers: number;
  /** Also register an operator account (for alarm latency). */
  readonly operator?: boolean;
  readonly durability?: 'full' | 'normal' | 'off';
  /** Shards of the local stream. @default pipeline.stream.shardCount */
  readonly shards?: number;
  /** Keep each reading's ts-to-committed latency (ms) while true. @default false */
  readonly sampleLatency?: boolean;
}

export interface PipelineTarget {
  readonly stack: LocalStack;
  readonly port: number;
  readonly dataDir: string;
  readonly credentials: readonly PublisherCredentials[];
  readonly operator: PublisherCredentials | undefined;
  /** Readings the ingest consumer has committed to store.db so far. */
  stored(): number;
  /** Resolves with the wall time (epoch ms) at which the `count`-th reading was committed. */
  whenStored(count: number, timeoutMs: number): Promise<number>;
  /** Reading ts (its publish time) to commit in store.db, ms, for every reading committed while sampling. */
  readonly storedLatencyMs: number[];
  /** Starts or stops sampling; with `sinceTs`, only readings whose ts is at or after it (epoch ms) are sampled. */
  setSampling(on: boolean, sinceTs?: number): void;
  /** Stops the stack and deletes its data dir. */
  stop(): Promise<void>;
}

/**
 * Starts the real local stack for a benchmark run. The only instrumentation is the stack's own
 * `onIngestBatch`: the consumers' worker reports the time each ingest write returned (its
 * transaction had committed), how many readings it stored and their `ts`.
 */
export async function startPipeline(options: PipelineTargetOptions): Promise<PipelineTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ft-bench-'));
  const log = stderrLog({ level: 'error', name: 'bench-stack' });
  let stored = 0;
  let sampling = options.sampleLatency ?? false;
  let sampleSince = Number.NEGATIVE_INFINITY;
  const storedLatencyMs: number[] = [];
  const waiters: { count: number; resolve: (at: number) => void }[] = [];
  const onIngestBatch = (batch: IngestBatchCommitted): void => {
    stored += batch.stored;
    if (sampling) for (const ts of batch.readingTimes) if (ts >= sampleSince) storedLatencyMs.push(batch.committedAt - ts);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i] as (typeof waiters)[number];
      if (stored >= waiter.count) {
        waiters.splice(i, 1);
        waiter.resolve(batch.committedAt);
      }
    }
  };

  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      dataDir,
      mqttPort: 0,
      wsPort: null,
      thresholds: loadThresholdsFile(THRESHOLDS),
      log,
      durability: options.durability ?? 'full',
      onIngestBatch,
      ...(options.shards === undefined ? {} : { shardCount: options.shards }),
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }

  const entries: DeviceEntry[] = Array.from({ length: options.publishers }, (_, i) => ({ deviceId: benchDeviceId(i), type: 'env-sensor' }));
  if (options.operator) entries.push({ deviceId: OPERATOR_ID, role: 'operator' });
  const registered = await stack.registry.upsertMany(entries);
  const credentials = registered.filter((c) => c.deviceId !== OPERATOR_ID).map((c) => ({ clientId: c.deviceId, password: c.password }));
  const operatorEntry = registered.find((c) => c.deviceId === OPERATOR_ID);

  return {
    stack,
    port: stack.mqttPort,
    dataDir,
    credentials,
    operator: operatorEntry === undefined ? undefined : { clientId: operatorEntry.deviceId, password: operatorEntry.password },
    stored: () => stored,
    whenStored(count, timeoutMs) {
      if (stored >= count) return Promise.resolve(Date.now());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${stored} of ${count} readings stored after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          count,
          resolve: (at) => {
            clearTimeout(timer);
            resolve(at);
          },
        });
      });
    },
    storedLatencyMs,
    setSampling(on, sinceTs) {
      sampling = on;
      sampleSince = sinceTs ?? Number.NEGATIVE_INFINITY;
    },
    async stop() {
      try {
        await stack.stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
