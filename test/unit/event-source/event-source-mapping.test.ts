import { describe, it, expect, afterEach } from 'vitest';
import type { KinesisStreamEvent } from 'aws-lambda';
import type { TempStreams } from '../stream/temp-stream.js';
import { manualClock, tempStreams } from '../stream/temp-stream.js';
import { laneOf, MAX_EVENT_BYTES } from '../../../infra/local/event-source/index.js';
import { CONSUMER, deferred, harness, nextTurn, SHARD0, seq } from './harness.js';

let t: TempStreams;
afterEach(async () => t.cleanup());

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('EventSourceMapping event', () => {
  it('builds the exact Kinesis record Lambda delivers', async () => {
    const clock = manualClock(Date.UTC(2025, 10, 25, 0, 0, 0, 987));
    t = tempStreams();
    const events: KinesisStreamEvent[] = [];
    const h = harness(t, { clock, handler: (event) => void events.push(event) });
    await h.stream.append({ partitionKey: 'sensor-0001', data: Buffer.from('{"payload":"eyJ0cyI6MX0="}') });

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(events).toEqual([
      {
        Records: [
          {
            kinesis: {
              kinesisSchemaVersion: '1.0',
              partitionKey: 'sensor-0001',
              sequenceNumber: seq(1),
              data: Buffer.from('{"payload":"eyJ0cyI6MX0="}').toString('base64'),
              approximateArrivalTimestamp: 1764028800.987,
            },
            eventSource: 'aws:kinesis',
            eventVersion: '1.0',
            eventID: `${SHARD0}:${seq(1)}`,
            eventName: 'aws:kinesis:record',
            invokeIdentityArn: 'arn:aws:iam::000000000000:role/fleet-telemetry-test-role',
            awsRegion: 'us-east-1',
            eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/fleet-telemetry',
          },
        ],
      },
    ]);
  });

  it('gives every invocation its own event, so a handler that mutates it cannot change what a retry receives', async () => {
    t = tempStreams();
    const received: string[][] = [];
    const h = harness(t, {
      handler: (event, call) => {
        received.push(event.Records.map((r) => `${r.kinesis.sequenceNumber} ${r.kinesis.partitionKey} ${r.kinesis.data} ${r.eventID}`));
        if (call > 0) return undefined;
        for (const record of event.Records) {
          record.kinesis.data = '';
          record.kinesis.sequenceNumber = 'changed';
          record.eventID = 'changed';
        }
        event.Records.length = 0;
        throw new Error('function error after mutating its event');
      },
    });
    await h.appendAll(['s1', 's2']);

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(received).toHaveLength(2);
    expect(received[1]).toEqual(received[0]);
  });

  it('puts records of one shard only in a batch', async () => {
    t = tempStreams();
    const events: KinesisStreamEvent[] = [];
    const h = harness(t, { stream: { shardCount: 2 }, handler: (event) => void events.push(event) });
    await h.stream.appendMany(Array.from({ length: 40 }, (_, i) => ({ partitionKey: `device-${i}`, data: Buffer.from(`m${i}`) })));

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(events.length).toBe(2);
    for (const event of events) {
      expect(new Set(event.Records.map((r) => r.eventID.split(':')[0])).size).toBe(1);
    }
    expect(events.reduce((n, e) => n + e.Records.length, 0)).toBe(40);
  });

  it('closes a batch before its event would pass 6 MB, keeping the order', async () => {
    t = tempStreams();
    const sizes: number[] = [];
    const h = harness(t, { handler: (event) => void sizes.push(Buffer.byteLength(JSON.stringify(event))) });
    const big = (i: number): Buffer => Buffer.alloc(1024 * 1024 - 1, i);
    await h.stream.appendMany(Array.from({ length: 10 }, (_, i) => ({ partitionKey: 'k', data: big(i) })));

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls.map((c) => c.length)).toEqual([4, 4, 2]);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });
});

describe('EventSourceMapping batching', () => {
  it('invokes at once when the batching window is 0', async () => {
    t = tempStreams();
    const h = harness(t, { settings: { maximumBatchingWindowInSeconds: 0 } });
    h.esm.start();

    await h.appendAll(['r1']);
    await h.esm.whenIdle();
    await h.appendAll(['r2']);
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls).toEqual([['r1'], ['r2']]);
  });

  it('gathers records that arrive within the batching window into one batch', async () => {
    t = tempStreams();
    const h = harness(t, { settings: { maximumBatchingWindowInSeconds: 2, batchSize: 10 } });
    h.esm.start();

    await h.appendAll(['r1']);
    await sleep(50);
    await h.appendAll(['r2']);
    await h.esm.whenIdle({ timeoutMs: 10_000 });
    await h.esm.stop();

    expect(h.calls).toEqual([['r1', 'r2']]);
  });

  it('does not wait for the window once the batch is full', async () => {
    t = tempStreams();
    const h = harness(t, { settings: { maximumBatchingWindowInSeconds: 300, batchSize: 2 } });
    h.esm.start();

    await h.appendAll(['r1', 'r2']);
    await h.esm.whenIdle({ timeoutMs: 5_000 });
    await h.esm.stop();

    expect(h.calls).toEqual([['r1', 'r2']]);
  });

  it('wakes on an in-process append without polling', async () => {
    t = tempStreams();
    const h = harness(t, { pollIntervalMs: 1_000_000 });
    h.esm.start();

    await h.appendAll(['r1']);
    await h.esm.whenIdle({ timeoutMs: 5_000 });
    await h.esm.stop();

    expect(h.calls).toEqual([['r1']]);
  });

  it('finds records appended through another connection by polling', async () => {
    t = tempStreams();
    const writer = t.open();
    const h = harness(t, { streamInstance: t.open(), pollIntervalMs: 20 });
    h.esm.start();

    await writer.append({ partitionKey: 'k', data: Buffer.from('from another process') });
    await h.esm.whenIdle({ timeoutMs: 5_000 });
    await h.esm.stop();

    expect(h.calls).toEqual([['from another process']]);
  });
});

describe('EventSourceMapping ParallelizationFactor', () => {
  it.each([1, 2, 3])(
    'keeps each partition key in order with factor 3 under random delays and failures (seed %i)',
    async (seedValue) => {
      const random = seeded(seedValue);
      t = tempStreams();
      const processed = new Map<string, number[]>();
      let inFlight = 0;
      let maxInFlight = 0;
      const h = harness(t, {
        settings: { parallelizationFactor: 3, batchSize: 7, bisectBatchOnFunctionError: true, maximumRetryAttempts: -1 },
        handler: async (event) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await sleep(Math.floor(random() * 4));
          inFlight--;
          const roll = random();
          if (roll < 0.15) throw new Error('transient');
          // Process in order; on a simulated failure at record j, records before j are done.
          const failAt = roll < 0.3 ? Math.floor(random() * event.Records.length) : event.Records.length;
          for (const r of event.Records.slice(0, failAt)) {
            const [key, n] = Buffer.from(r.kinesis.data, 'base64').toString().split(':') as [string, string];
            processed.set(key, [...(processed.get(key) ?? []), Number(n)]);
          }
          return failAt < event.Records.length ? { batchItemFailures: [{ itemIdentifier: event.Records[failAt]!.kinesis.sequenceNumber }] } : undefined;
        },
      });
      const keys = Array.from({ length: 12 }, (_, i) => `device-${i}`);
      const sent = new Map<string, number>(keys.map((k) => [k, 0]));
      h.esm.start();

      for (let round = 0; round < 10; round++) {
        const entries = Array.from({ length: 20 }, () => {
          const key = keys[Math.floor(random() * keys.length)]!;
          const n = sent.get(key)! + 1;
          sent.set(key, n);
          return { partitionKey: key, data: Buffer.from(`${key}:${n}`) };
        });
        await h.stream.appendMany(entries);
        await sleep(Math.floor(random() * 5));
      }
      await h.esm.whenIdle({ timeoutMs: 20_000 });
      await h.esm.stop();

      for (const key of keys) {
        expect(processed.get(key) ?? []).toEqual(Array.from({ length: sent.get(key)! }, (_, i) => i + 1));
      }
      expect(maxInFlight).toBeGreaterThan(1);
      expect(h.stream.getCheckpoint(CONSUMER, SHARD0)).toBe(seq(200));
    },
  );

  it('moves the shard checkpoint past a record only when every record before it is done', async () => {
    t = tempStreams();
    const keyA = 'device-a';
    const keyB = Array.from({ length: 100 }, (_, i) => `device-${i}`).find((k) => laneOf(k, 2) !== laneOf(keyA, 2))!;
    const release = deferred();
    const bDone = deferred();
    const h = harness(t, {
      settings: { parallelizationFactor: 2 },
      handler: async (event) => {
        if (event.Records[0]!.kinesis.partitionKey === keyA) await release.promise;
        else bDone.resolve();
      },
    });
    await h.stream.appendMany([
      { partitionKey: keyA, data: Buffer.from('a1') },
      { partitionKey: keyB, data: Buffer.from('b1') },
      { partitionKey: keyB, data: Buffer.from('b2') },
    ]);

    h.esm.start();
    await bDone.promise;
    await nextTurn();
    await nextTurn();
    const whileABlocked = h.stream.getCheckpoint(CONSUMER, SHARD0);
    release.resolve();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect([...h.calls].sort()).toEqual([['a1'], ['b1', 'b2']]);
    expect(whileABlocked).toBeUndefined();
    expect(h.stream.getCheckpoint(CONSUMER, SHARD0)).toBe(seq(3));
  });
});

describe('EventSourceMapping positions and lifecycle', () => {
  it('resumes after its checkpoint when started again', async () => {
    t = tempStreams();
    const first = harness(t);
    await first.appendAll(['s1', 's2', 's3']);
    first.esm.start();
    await first.esm.whenIdle();
    await first.esm.stop();
    await first.appendAll(['s4', 's5']);

    const second = harness(t, { streamInstance: first.stream });
    second.esm.start();
    await second.esm.whenIdle();
    await second.esm.stop();

    expect(first.calls).toEqual([['s1', 's2', 's3']]);
    expect(second.calls).toEqual([['s4', 's5']]);
  });

  it('starts after the newest record with LATEST, and saves that position at once', async () => {
    t = tempStreams();
    const h = harness(t, { settings: { startingPosition: 'LATEST' } });
    await h.appendAll(['before1', 'before2']);

    h.esm.start();
    const saved = h.stream.getCheckpoint(CONSUMER, SHARD0);
    await h.appendAll(['after']);
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(saved).toBe(seq(2));
    expect(h.calls).toEqual([['after']]);
  });

  it('waits for the batch in flight when stopped, and saves its checkpoint', async () => {
    t = tempStreams();
    const release = deferred();
    const invoked = deferred();
    const h = harness(t, {
      handler: async () => {
        invoked.resolve();
        await release.promise;
      },
    });
    await h.appendAll(['s1', 's2']);
    h.esm.start();
    await invoked.promise;

    let stopped = false;
    const stopping = h.esm.stop().then(() => {
      stopped = true;
    });
    await nextTurn();
    const stoppedBeforeRelease = stopped;
    release.resolve();
    await stopping;

    expect(stoppedBeforeRelease).toBe(false);
    expect(h.stream.getCheckpoint(CONSUMER, SHARD0)).toBe(seq(2));
  });

  it('with drain, processes every record present before stopping, even inside a batching window', async () => {
    t = tempStreams();
    const h = harness(t, { settings: { maximumBatchingWindowInSeconds: 300, batchSize: 100 } });
    h.esm.start();
    await h.appendAll(['s1', 's2']);

    await h.esm.stop({ drain: true });

    expect(h.calls).toEqual([['s1', 's2']]);
    expect(h.stream.getCheckpoint(CONSUMER, SHARD0)).toBe(seq(2));
  });

  it('stops after drainTimeoutMs when a record keeps failing, leaving it for the next start', async () => {
    t = tempStreams();
    const h = harness(t, {
      handler: () => {
        throw new Error('never works');
      },
    });
    await h.appendAll(['s1']);
    h.esm.start();

    await h.esm.stop({ drain: true, drainTimeoutMs: 50 });

    expect(h.stream.getCheckpoint(CONSUMER, SHARD0)).toBeUndefined();
    expect(h.warnings).toContain('drain timed out; stopping with records left for the next start');
  });

  it('resumes at the trim horizon when its checkpoint points into expired records, and says so', async () => {
    const clock = manualClock();
    t = tempStreams();
    const h = harness(t, { clock });
    await h.appendAll(['s1']);
    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();
    await h.appendAll(['s2', 's3']);
    clock.advance(25 * 3_600_000);
    await h.appendAll(['s4']);
    h.stream.trim();

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls).toEqual([['s1'], ['s4']]);
    expect(h.warnings).toContain('records expired (retention) before the consumer read them');
  });

  it('reports where it is stuck when not idle in time', async () => {
    t = tempStreams();
    const h = harness(t, {
      handler: () => {
        throw new Error('never works');
      },
    });
    await h.appendAll(['s1']);
    h.esm.start();

    await expect(h.esm.whenIdle({ timeoutMs: 50 })).rejects.toThrow(`${SHARD0} at 0 of 1`);
    await h.esm.stop();
    expect(h.calls.length).toBeGreaterThan(1);
  });
});
