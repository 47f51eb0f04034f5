import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEntry, type EntryRun } from '../helpers/run-entry.js';
import type { OnFailureRecord } from '../../infra/local/stream/index.js';
import type { RedriveReport } from '../../infra/redrive-batch.js';
import { kinesisEvent, telemetryRecord } from '../fixtures/aws/kinesis-events.js';
import { eventually, startTestStack, type TestStack } from '../helpers/local-stack.js';

/** What `npm run redrive -- ...args` runs, minus npm. */
function redrive(...args: string[]): Promise<EntryRun> {
  return runEntry('infra/cli/redrive.ts', args);
}

const thresholds = { rules: [{ id: 'overheat', metric: 'temperature', when: { above: 80 }, severity: 'critical' }] };
const DEVICE = 'sensor-redrive';

// Child processes start slowly on a shared 2-core machine: a longer timeout than the default.
describe('npm run redrive (local)', { timeout: 90_000 }, () => {
  let data: string;
  let t: TestStack;

  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), 'ft-redrive-'));
    t = await startTestStack(thresholds, { dataDir: data });
  });
  afterAll(async () => {
    await t.close();
    rmSync(data, { recursive: true, force: true });
  });

  /** Keeps, as the ingest mapping would after giving up, a batch of two readings that were never stored. */
  function keepFailedBatch(now: number): void {
    const readings = [1, 2].map((seq) => ({ ts: now - 120_000 + seq, seq, type: 'env-sensor', metrics: { temperature: 20 + seq } }));
    const shardId = t.stack.stream.shardFor(DEVICE);
    const event = kinesisEvent(readings.map((payload, i) => telemetryRecord({ deviceId: DEVICE, payload, position: i + 1, shardId, receivedAt: now - 60_000 })));
    const at = new Date(now).toISOString();
    const metadata: OnFailureRecord = {
      requestContext: { requestId: 'r-1', functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:ingest', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: at,
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: event.Records[0]?.kinesis.sequenceNumber ?? '',
        endSequenceNumber: event.Records[1]?.kinesis.sequenceNumber ?? '',
        approximateArrivalOfFirstRecord: at,
        approximateArrivalOfLastRecord: at,
        batchSize: 2,
        streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/fleet-telemetry',
      },
    };
    t.stack.stream.recordFailure('ingest', { shardId, condition: 'RetryAttemptsExhausted', metadata, payload: event });
  }

  const stored = () => t.stack.store.queryReadings({ deviceId: DEVICE });

  it('lists with --dry-run, puts the batch back on the running stack\'s stream, and skips it the second time', async () => {
    // The device's shard has seen traffic through the running stack (so its consumers hold that
    // shard's newest records in memory) and is quiet when the batch is put back.
    const device = await t.connect(DEVICE, { type: 'env-sensor' });
    await device.publishAsync(`dt/fleet/${DEVICE}/telemetry`, JSON.stringify({ ts: Date.now() - 1_000, seq: 10, metrics: { temperature: 20 } }), { qos: 1 });
    await eventually(() => (stored().length === 1 ? true : undefined), 15_000, 'the live reading stored');
    await t.stack.whenIdle();
    keepFailedBatch(Date.now());

    const dry = await redrive('--data', data, '--dry-run', '--json');
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    const planned = JSON.parse(dry.stdout) as RedriveReport;
    expect(planned).toMatchObject({ target: 'local', dryRun: true, records: 2 });
    expect(planned.batches).toEqual([expect.objectContaining({ consumer: 'ingest', condition: 'RetryAttemptsExhausted', records: 2, outcome: 'would-redrive' })]);
    expect(stored()).toHaveLength(1);

    const run = await redrive('--data', data, '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: false, records: 2, batches: [{ outcome: 'redriven' }] });
    const rows = await eventually(() => (stored().length === 3 ? stored() : undefined), 15_000, 'both redriven readings stored');
    expect(rows.map((r) => r.seq).sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual([1, 2, 10]);

    const again = await redrive('--data', data);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/skipped \(put back before\)/);
    expect(again.stdout).toMatch(/^0 batch\(es\), 0 record\(s\) put back on the stream\.$/m);
    await t.stack.whenIdle();
    expect(stored()).toHaveLength(3);
  });

  it.each([
    [['--bucket', 'b'], /--bucket needs --target aws/],
    [['--target', 'gcp'], /Allowed choices are local, aws/],
    [['--data', '/nonexistent-ft-data'], /no local stream at \/nonexistent-ft-data\/stream.db/],
  ])('refuses %j with one line and exit code 2', async (args, reason) => {
    const run = await redrive(...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(reason);
  });

  it('explains itself with --help', async () => {
    const run = await redrive('--help');
    expect(run.code).toBe(0);
    for (const flag of ['--target', '--dry-run', '--json', '--bucket', '--stack', '--region', '--consumer', '--data']) expect(run.stdout).toContain(flag);
  });
});
