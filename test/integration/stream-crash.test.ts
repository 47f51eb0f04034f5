/**
 * kill -9 tests with real child processes on a real stream file:
 * - every append whose promise resolved (what lets the broker PUBACK) is on disk after a crash, in per-key order;
 * - a crash between an invocation and its checkpoint re-delivers the batch: no record is skipped.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LocalStream } from '../../infra/local/stream/index.js';
import { EventSourceMapping } from '../../infra/local/event-source/index.js';
import type { EventSourceMappingSettings } from '../../infra/pipeline.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const STREAM_MODULE = pathToFileURL(join(REPO, 'infra/local/stream/index.ts')).href;
const ESM_MODULE = pathToFileURL(join(REPO, 'infra/local/event-source/index.ts')).href;

const SETTINGS: EventSourceMappingSettings = {
  batchSize: 3,
  maximumBatchingWindowInSeconds: 0,
  parallelizationFactor: 1,
  startingPosition: 'TRIM_HORIZON',
  bisectBatchOnFunctionError: false,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  functionResponseTypes: ['ReportBatchItemFailures'],
};

let dir: string;
let child: ChildProcess | undefined;

afterEach(() => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a TypeScript script in a child Node process (tsx loader) and hands each stdout line to `onLine`. */
function runChild(source: string, onLine: (line: string, child: ChildProcess) => void): Promise<NodeJS.Signals | null> {
  const script = join(dir, 'child.mts');
  writeFileSync(script, source);
  const proc = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let buffered = '';
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) onLine(line, proc);
  });
  return new Promise((resolve, reject) => {
    proc.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(signal);
      else reject(new Error(`child exited with ${code} before it was killed: ${stderr}`));
    });
  });
}

describe('LocalStream under kill -9', () => {
  it('keeps every append that resolved before the crash, in per-key order', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-crash-'));
    const file = join(dir, 'stream.db');
    const acked = new Map<string, number>();
    let total = 0;

    await runChild(
      `
      import { LocalStream } from ${JSON.stringify(STREAM_MODULE)};
      const stream = LocalStream.open({ file: ${JSON.stringify(file)}, streamName: 'fleet-telemetry', shardCount: 2, retentionHours: 24, durability: 'full' });
      for (let p = 0; p < 10; p++) {
        void (async () => {
          for (let i = 1; ; i++) {
            await stream.append({ partitionKey: 'device-' + p, data: Buffer.from('device-' + p + ':' + i) });
            process.stdout.write('device-' + p + ':' + i + '\\n');
          }
        })();
      }
      `,
      (line, proc) => {
        const [key, n] = line.split(':') as [string, string];
        acked.set(key, Math.max(acked.get(key) ?? 0, Number(n)));
        if (++total === 400) proc.kill('SIGKILL');
      },
    );

    const stream = LocalStream.open({ file, streamName: 'fleet-telemetry', shardCount: 2, retentionHours: 24 });
    const stored = new Map<string, number[]>();
    for (const shard of stream.shards) {
      for (const record of stream.read(shard.shardId, { limit: 100_000 })) {
        const [key, n] = record.data.toString().split(':') as [string, string];
        expect(record.partitionKey).toBe(key);
        stored.set(key, [...(stored.get(key) ?? []), Number(n)]);
      }
    }
    await stream.close();

    expect(total).toBeGreaterThanOrEqual(400);
    for (const [key, lastAcked] of acked) {
      const numbers = stored.get(key) ?? [];
      expect(numbers.length).toBeGreaterThanOrEqual(lastAcked);
      expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i + 1));
    }
  });
});

describe('EventSourceMapping under kill -9', () => {
  it('re-delivers the batch that was in flight when the process died, and skips nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-crash-'));
    const file = join(dir, 'stream.db');
    const seed = LocalStream.open({ file, streamName: 'fleet-telemetry', shardCount: 1, retentionHours: 24 });
    await seed.appendMany(Array.from({ length: 9 }, (_, i) => ({ partitionKey: 'device-1', data: Buffer.from(`r${i + 1}`) })));
    await seed.close();
    const childInvocations: string[] = [];

    await runChild(
      `
      import { LocalStream } from ${JSON.stringify(STREAM_MODULE)};
      import { EventSourceMapping } from ${JSON.stringify(ESM_MODULE)};
      const stream = LocalStream.open({ file: ${JSON.stringify(file)}, streamName: 'fleet-telemetry', shardCount: 1, retentionHours: 24 });
      const esm = new EventSourceMapping({
        consumer: 'ingest', stream, settings: ${JSON.stringify(SETTINGS)},
        handler: async (event) => {
          const ids = event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString());
          process.stdout.write(ids.join(',') + '\\n');
          // The second batch never finishes: the process dies while it is in flight.
          if (ids.includes('r5')) await new Promise(() => {});
        },
      });
      esm.start();
      `,
      (line, proc) => {
        childInvocations.push(line);
        if (line.includes('r5')) proc.kill('SIGKILL');
      },
    );

    const stream = LocalStream.open({ file, streamName: 'fleet-telemetry', shardCount: 1, retentionHours: 24 });
    const afterRestart: string[][] = [];
    const esm = new EventSourceMapping({
      consumer: 'ingest',
      stream,
      settings: SETTINGS,
      handler: async (event) => {
        afterRestart.push(event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString()));
      },
    });
    esm.start();
    await esm.whenIdle();
    await esm.stop();
    const checkpoint = stream.getCheckpoint('ingest', 'shardId-000000000000');
    await stream.close();

    expect(childInvocations).toEqual(['r1,r2,r3', 'r4,r5,r6']);
    expect(afterRestart).toEqual([
      ['r4', 'r5', 'r6'],
      ['r7', 'r8', 'r9'],
    ]);
    expect(checkpoint).toBe('00000000000000000009');
  });
});
