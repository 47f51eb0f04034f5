/**
 * The consumers' worker thread dying on its own (not the process): the stack logs it, starts a new
 * worker at the saved checkpoints, and nothing appended before or after is lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline, telemetryTopic } from '../../infra/pipeline.js';
import { LocalStream } from '../../infra/local/stream/index.js';
import { makeKinesisRuleAction } from '../../infra/local/rule-action.js';
import { startConsumerHost } from '../../infra/local/consumers/host.js';
import type { ConsumerHost } from '../../infra/local/consumers/host.js';
import { SqliteStore } from '../../lambdas/adapters/local/sqlite-store.js';
import { parseThresholds } from '../../lambdas/domain/thresholds.js';
import type { Log } from '../../lambdas/ports/observability.js';
import { silentLog } from '../../lambdas/ports/observability.js';
import { systemClock } from '../../lambdas/ports/clock.js';
import { eventually } from '../helpers/local-stack.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the consumers worker thread', () => {
  it('is started again at its checkpoints when it dies, and every reading is stored once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ft-worker-restart-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const stream = LocalStream.open({ file: join(dir, 'stream.db'), streamName: pipeline.stream.name, shardCount: 2, retentionHours: 24, durability: 'normal' });
    const store = SqliteStore.open(join(dir, 'store.db'));
    cleanups.push(async () => {
      await stream.close();
      store.close();
    });
    const errors: string[] = [];
    const log: Log = { ...silentLog, error: (message) => errors.push(message) };
    const host: ConsumerHost = await startConsumerHost({
      mode: 'worker',
      stream,
      store,
      thresholds: parseThresholds({ rules: [] }),
      publish: async () => undefined,
      log,
      clock: systemClock,
      workerEntry: new URL('../fixtures/consumers/crash-once-worker.ts', import.meta.url),
    });
    cleanups.unshift(() => host.stop({ drainTimeoutMs: 1_000 }));
    const append = makeKinesisRuleAction({ sql: pipeline.rule.sql, partitionKey: pipeline.rule.partitionKey, stream, log: silentLog });
    const publish = (seq: number) =>
      append({ topic: telemetryTopic('boiler-1'), payload: Buffer.from(JSON.stringify({ ts: Date.now(), seq, metrics: { t: seq } })), clientId: 'boiler-1', timestamp: Date.now() });

    await publish(1);
    await host.whenIdle();
    await eventually(() => (errors.some((e) => e.includes('exited unexpectedly')) ? true : undefined), 5_000, 'the worker to die');
    await publish(2);
    await host.whenIdle({ timeoutMs: 10_000 });

    expect(store.queryReadings({ deviceId: 'boiler-1', order: 'asc' }).map((r) => r.seq)).toEqual([1, 2]);
    // The counters go on from what the first worker counted.
    expect(host.metrics.get('ReadingsStored')).toBe(2);
  });
});
