import { describe, it, expect, afterEach } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { formatSequenceNumber, LocalStream, StreamReader } from '../../../infra/local/stream/index.js';
import { WorkerStream } from '../../../infra/local/consumers/worker-stream.js';
import { packRecords } from '../../../infra/local/consumers/record-batch.js';
import { hostEnd, workerEnd } from '../../../infra/local/consumers/protocol.js';
import type { HostEnd } from '../../../infra/local/consumers/protocol.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function streamWith(sizes: readonly number[]): Promise<{ file: string; stream: LocalStream }> {
  const dir = mkdtempSync(join(tmpdir(), 'ft-worker-stream-'));
  const file = join(dir, 'stream.db');
  const stream = LocalStream.open({ file, streamName: 'fleet-telemetry', shardCount: 1, retentionHours: 24, durability: 'off' });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => stream.close());
  await stream.appendMany(sizes.map((n, i) => ({ partitionKey: `d${i % 3}`, data: Buffer.alloc(n, i % 251) })));
  return { file, stream };
}

/** A WorkerStream on one end of a real message channel, as in the worker, and the stack's end of it. */
function workerStream(file: string, heldBytesPerShard?: number): { view: WorkerStream; reader: StreamReader; stack: HostEnd } {
  const { port1, port2 } = new MessageChannel();
  const reader = StreamReader.open(file);
  const worker = workerEnd(port1, (message) => {
    if (message.kind === 'appended') view.received(message.records);
  });
  const view = new WorkerStream(reader, worker, heldBytesPerShard === undefined ? {} : { heldBytesPerShard });
  cleanups.push(() => {
    reader.close();
    port1.close();
    port2.close();
  });
  return { view, reader, stack: hostEnd(port2, () => undefined) };
}

describe('WorkerStream reads (the consumers share what one of them read)', () => {
  it.each([
    ['everything read', undefined],
    ['a few records', 2_000],
  ])('returns exactly what the stream file holds for any sequence of reads by two consumers, whatever their limits and byte budgets (holding %s)', async (_what, held) => {
    const sizes = Array.from({ length: 300 }, (_, i) => 1 + ((i * 37) % 200));
    const { file } = await streamWith(sizes);
    const { view } = workerStream(file, held);
    const direct = StreamReader.open(file);
    cleanups.push(() => direct.close());
    const shardId = view.shards[0]!.shardId;

    fc.assert(
      fc.property(
        fc.array(fc.record({ consumer: fc.constantFrom(0, 1), limit: fc.integer({ min: 1, max: 120 }), maxBytes: fc.option(fc.integer({ min: 1, max: 5_000 })), rewind: fc.boolean() }), {
          maxLength: 40,
        }),
        (steps) => {
          const cursors = [0, 0];
          for (const step of steps) {
            if (step.rewind) cursors[step.consumer] = Math.max(0, cursors[step.consumer]! - 50);
            const at = cursors[step.consumer]!;
            const options = { ...(at === 0 ? {} : { after: formatSequenceNumber(at) }), limit: step.limit, ...(step.maxBytes === null ? {} : { maxBytes: step.maxBytes }) };
            const got = view.read(shardId, options);
            expect(got.map((r) => r.sequenceNumber)).toEqual(direct.read(shardId, options).map((r) => r.sequenceNumber));
            if (got.length > 0) cursors[step.consumer] = Number(got[got.length - 1]!.sequenceNumber);
          }
        },
      ),
      { numRuns: 200, seed: 16 },
    );
  });

  it('holds the records of each commit the stack sends, wakes its listeners, and serves them as the file would', async () => {
    const { file, stream } = await streamWith([5, 6]);
    const { view, stack } = workerStream(file);
    const shardId = view.shards[0]!.shardId;
    const unsubscribe = stream.onCommit((records) => {
      const { packed, transfer } = packRecords(records);
      stack.emit({ kind: 'appended', records: packed }, transfer);
    });
    cleanups.push(unsubscribe);
    const woken = new Promise<readonly string[]>((resolve) => view.onAppend(resolve));

    await stream.appendMany([1, 2, 3].map((i) => ({ partitionKey: 'd1', data: Buffer.from(`pushed-${i}`) })));

    expect(await woken).toEqual([shardId]);
    expect(view.latestSequenceNumber(shardId)).toBe(formatSequenceNumber(5));
    const direct = stream.read(shardId, { limit: 10 });
    expect(view.read(shardId, { limit: 10 })).toEqual(direct);
    expect(view.read(shardId, { after: formatSequenceNumber(2), limit: 2 })).toEqual(direct.slice(2, 4));
  });

  it('lets go of held records once every consumer of the shard has saved a checkpoint past them', async () => {
    const { file, stream } = await streamWith([]);
    const { view, stack } = workerStream(file);
    const shardId = view.shards[0]!.shardId;
    cleanups.push(
      stream.onCommit((records) => {
        const { packed, transfer } = packRecords(records);
        stack.emit({ kind: 'appended', records: packed }, transfer);
      }),
    );
    view.getCheckpoint('ingest', shardId);
    view.getCheckpoint('alarms', shardId);
    const woken = new Promise((resolve) => view.onAppend(resolve));
    await stream.appendMany([1, 2, 3].map((i) => ({ partitionKey: 'd', data: Buffer.from(`m${i}`) })));
    await woken;
    expect(view.heldRecords(shardId)).toBe(3);

    view.setCheckpoint('ingest', shardId, formatSequenceNumber(3));
    expect(view.heldRecords(shardId)).toBe(3);
    view.setCheckpoint('alarms', shardId, formatSequenceNumber(2));

    expect(view.heldRecords(shardId)).toBe(1);
    expect(view.read(shardId, { after: formatSequenceNumber(2), limit: 5 }).map((r) => r.data.toString())).toEqual(['m3']);
    expect(view.read(shardId, { limit: 5 }).map((r) => r.data.toString())).toEqual(['m1', 'm2', 'm3']);
  });

  it('sees records appended after it last read', async () => {
    const { file, stream } = await streamWith([10, 10]);
    const { view } = workerStream(file);
    const shardId = view.shards[0]!.shardId;
    expect(view.read(shardId, { limit: 10 })).toHaveLength(2);

    await stream.append({ partitionKey: 'd0', data: Buffer.from('later') });

    expect(view.read(shardId, { after: formatSequenceNumber(2), limit: 10 }).map((r) => r.data.toString())).toEqual(['later']);
    expect(view.read(shardId, { limit: 10 })).toHaveLength(3);
  });
});
