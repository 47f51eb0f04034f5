/**
 * Quick measurement of group commit: appends/s with 100 concurrent appenders, for each durability.
 * Run: `npx tsx infra/local/stream/measure-appends.ts [seconds-per-mode]` (default 2). Prints JSON,
 * with a baseline of one appender (one record per commit) measured in the same run.
 * Each appender awaits its append before the next, as the broker does per client, so a commit
 * carries at most 100 records: the figure is the ack rate a fleet of 100 busy devices would see.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { telemetryTopic } from '../../pipeline.js';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Durability } from './stream-types.js';
import { LocalStream } from './local-stream.js';

const APPENDERS = 100;
const seconds = Number(process.argv[2] ?? 2);
const payload = Buffer.from(JSON.stringify({ payload: Buffer.from('{"ts":1764028800123,"metrics":{"temperature":22.4}}').toString('base64'), topic: telemetryTopic('sensor-0001'), clientId: 'sensor-0001', receivedAt: 1764028800123 }));

async function measure(durability: Durability, appenders = APPENDERS): Promise<{ durability: Durability; appenders: number; appends: number; appendsPerSecond: number; commits: number; recordsPerCommit: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-measure-'));
  const stream = LocalStream.open({ file: join(dir, 'stream.db'), streamName: 'measure', shardCount: 2, retentionHours: 24, durability });
  let commits = 0;
  stream.onAppend(() => commits++);
  let appends = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: appenders }, async (_, i) => {
      while (performance.now() < deadline) {
        await stream.append({ partitionKey: `sensor-${i}`, data: payload });
        appends++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  await stream.close();
  rmSync(dir, { recursive: true, force: true });
  return { durability, appenders, appends, appendsPerSecond: Math.round(appends / elapsed), commits, recordsPerCommit: Math.round((appends / commits) * 10) / 10 };
}

const results = [];
for (const durability of ['full', 'normal', 'off'] as const) results.push(await measure(durability));
// Baseline in the same run: one appender, so every commit carries one record (one fsync per append).
const baseline = await measure('full', 1);
console.log(
  JSON.stringify(
    { secondsPerMode: seconds, results, baseline, groupCommitSpeedup: Math.round((results[0]!.appendsPerSecond / baseline.appendsPerSecond) * 10) / 10 },
    null,
    2,
  ),
);
