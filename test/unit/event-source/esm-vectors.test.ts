/**
 * The event source mapping's documented behaviour (docs/aws-semantics.md section 3), one test per case, plus the rules derived from them.
 * Every batch is s1 < s2 < s3 < s4 < s5 on one shard.
 */
import { describe, it, expect, afterEach } from 'vitest';
import type { TempStreams } from '../stream/temp-stream.js';
import { manualClock, tempStreams } from '../stream/temp-stream.js';
import { CONSUMER, harness, SHARD0, seq, seqOf } from './harness.js';

const S = ['s1', 's2', 's3', 's4', 's5'];

let t: TempStreams;
afterEach(async () => t.cleanup());

describe('EventSourceMapping: ReportBatchItemFailures', () => {
  it('redelivers s2..s5 when the function reports [s3, s2]', async () => {
    t = tempStreams();
    const h = harness(t, {
      handler: (event, call) =>
        call === 0 ? { batchItemFailures: [{ itemIdentifier: seqOf(event, 's3') }, { itemIdentifier: seqOf(event, 's2') }] } : undefined,
    });
    await h.appendAll(S);

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls).toEqual([S, ['s2', 's3', 's4', 's5']]);
    expect(h.stream.getCheckpoint(CONSUMER, SHARD0)).toBe(seq(5));
  });

  it.each([
    ['{}', {}],
    ['null', null],
    ['undefined', undefined],
    ['[]', { batchItemFailures: [] }],
    ['a null list', { batchItemFailures: null }],
  ])('checkpoints after s5 when the function returns %s', async (_name, response) => {
    t = tempStreams();
    const h = harness(t, { handler: () => response as never });
    await h.appendAll(S);

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls).toEqual([S]);
    expect(h.stream.getCheckpoint(CONSUMER, SHARD0)).toBe(seq(5));
  });

  it.each([
    ['an empty itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: '' }] })],
    ['the identifier under a wrong key', (s3: string) => ({ batchItemFailures: [{ id: s3 }] })],
    ['an identifier not in the batch (our choice)', () => ({ batchItemFailures: [{ itemIdentifier: '99999' }] })],
  ])('retries s1..s5 as a full failure on %s', async (_name, respond) => {
    t = tempStreams();
    const h = harness(t, { handler: (event, call) => (call === 0 ? (respond(seqOf(event, 's3')) as never) : undefined) });
    await h.appendAll(S);

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls).toEqual([S, S]);
  });

  it('ignores reported failures when ReportBatchItemFailures is off: the batch succeeded', async () => {
    t = tempStreams();
    const h = harness(t, {
      settings: { functionResponseTypes: [] },
      handler: (event) => ({ batchItemFailures: [{ itemIdentifier: seqOf(event, 's2') }] }),
    });
    await h.appendAll(S);

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls).toEqual([S]);
    expect(h.stream.getCheckpoint(CONSUMER, SHARD0)).toBe(seq(5));
  });

  it('counts a partial failure without bisect as a retry of the remaining records (derived)', async () => {
    t = tempStreams();
    const h = harness(t, {
      settings: { maximumRetryAttempts: 1 },
      handler: (event) => ({ batchItemFailures: [{ itemIdentifier: seqOf(event, 's3') }] }),
    });
    await h.appendAll(S);

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls).toEqual([S, ['s3', 's4', 's5']]);
    const [failure] = h.stream.listFailures(CONSUMER);
    expect(failure!.metadata.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 });
    expect(failure!.metadata.KinesisBatchInfo).toMatchObject({ startSequenceNumber: seq(3), endSequenceNumber: seq(5), batchSize: 3 });
    expect(failure!.metadata.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST' });
  });
});

describe('EventSourceMapping: BisectBatchOnFunctionError', () => {
  it('splits a batch whose invocation throws into [s1,s2] and [s3..s5] without using a retry', async () => {
    t = tempStreams();
    const h = harness(t, {
      // With no retry allowed, a bisection that counted as one would send the batch to the destination.
      settings: { bisectBatchOnFunctionError: true, maximumRetryAttempts: 0 },
      handler: (_event, call) => {
        if (call === 0) throw new Error('downstream timeout');
      },
    });
    await h.appendAll(S);

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls).toEqual([S, ['s1', 's2'], ['s3', 's4', 's5']]);
    expect(h.stream.listFailures()).toEqual([]);
  });

  it('with ReportBatchItemFailures, bisects at the returned sequence number and retries only s3..s5, not as a retry', async () => {
    t = tempStreams();
    const h = harness(t, {
      settings: { bisectBatchOnFunctionError: true, maximumRetryAttempts: 0 },
      handler: (event, call) => (call === 0 ? { batchItemFailures: [{ itemIdentifier: seqOf(event, 's3') }] } : undefined),
    });
    await h.appendAll(S);

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls).toEqual([S, ['s3', 's4', 's5']]);
    expect(h.stream.listFailures()).toEqual([]);
  });

  it('isolates a poison record: only it reaches the destination, the rest are processed (derived)', async () => {
    t = tempStreams();
    const h = harness(t, {
      settings: { bisectBatchOnFunctionError: true, maximumRetryAttempts: 1 },
      handler: (event) => {
        if (event.Records.some((r) => Buffer.from(r.kinesis.data, 'base64').toString() === 's3')) throw new Error('poison');
      },
    });
    await h.appendAll(S);

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls).toEqual([S, ['s1', 's2'], ['s3', 's4', 's5'], ['s3'], ['s3'], ['s4', 's5']]);
    const failures = h.stream.listFailures(CONSUMER);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.metadata.KinesisBatchInfo).toMatchObject({ startSequenceNumber: seq(3), endSequenceNumber: seq(3), batchSize: 1 });
    expect(failures[0]!.metadata.requestContext.approximateInvokeCount).toBe(4);
    expect(h.stream.getCheckpoint(CONSUMER, SHARD0)).toBe(seq(5));
  });
});

describe('EventSourceMapping: MaximumRetryAttempts and the on-failure destination', () => {
  it('invokes once plus 2 retries, then writes the destination record and moves the checkpoint on', async () => {
    const clock = manualClock(Date.UTC(2025, 10, 25, 0, 0, 0, 123));
    t = tempStreams();
    const h = harness(t, {
      clock,
      settings: { maximumRetryAttempts: 2 },
      handler: (event) => {
        if (event.Records.length === 5) throw new Error('always fails');
      },
    });
    await h.appendAll(S);

    h.esm.start();
    await h.esm.whenIdle();
    await h.appendAll(['s6']);
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls).toEqual([S, S, S, ['s6']]);
    expect(h.stream.getCheckpoint(CONSUMER, SHARD0)).toBe(seq(6));
    const [failure] = h.stream.listFailures(CONSUMER);
    expect(failure!.condition).toBe('RetryAttemptsExhausted');
    expect(failure!.metadata).toEqual({
      requestContext: {
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fleet-telemetry-test',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2025-11-25T00:00:00.123Z',
      KinesisBatchInfo: {
        shardId: SHARD0,
        startSequenceNumber: seq(1),
        endSequenceNumber: seq(5),
        approximateArrivalOfFirstRecord: '2025-11-25T00:00:00.123Z',
        approximateArrivalOfLastRecord: '2025-11-25T00:00:00.123Z',
        batchSize: 5,
        streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/fleet-telemetry',
      },
    });
    expect(failure!.payload.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString())).toEqual(S);
  });

  it('with -1, retries until the records pass MaximumRecordAgeInSeconds, then discards them as RecordAgeExceeded', async () => {
    const clock = manualClock();
    t = tempStreams();
    const h = harness(t, {
      clock,
      settings: { maximumRetryAttempts: -1, maximumRecordAgeInSeconds: 60 },
      handler: () => {
        clock.advance(30_000);
        throw new Error('store throttled');
      },
    });
    await h.appendAll(S);

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    // Ages 0 s, 30 s and 60 s are invoked; at 90 s the records are older than the 60 s maximum.
    expect(h.calls).toEqual([S, S, S]);
    const [failure] = h.stream.listFailures(CONSUMER);
    expect(failure!.metadata.requestContext).toMatchObject({ condition: 'RecordAgeExceeded', approximateInvokeCount: 3 });
    expect(failure!.metadata.responseContext).toMatchObject({ functionError: 'Unhandled' });
  });
});

describe('EventSourceMapping: MaximumRecordAgeInSeconds', () => {
  it('discards records older than the maximum age to the destination without invoking, and invokes the rest', async () => {
    const clock = manualClock();
    t = tempStreams();
    const h = harness(t, { clock, settings: { maximumRecordAgeInSeconds: 60 } });
    await h.appendAll(['old1', 'old2']);
    clock.advance(61_000);
    await h.appendAll(['fresh']);

    h.esm.start();
    await h.esm.whenIdle();
    await h.esm.stop();

    expect(h.calls).toEqual([['fresh']]);
    const [failure] = h.stream.listFailures(CONSUMER);
    expect(failure!.condition).toBe('RecordAgeExceeded');
    expect(failure!.metadata.requestContext.approximateInvokeCount).toBe(0);
    expect(failure!.metadata.responseContext).toBeUndefined();
    expect(failure!.metadata.KinesisBatchInfo).toMatchObject({ startSequenceNumber: seq(1), endSequenceNumber: seq(2), batchSize: 2 });
    expect(h.stream.getCheckpoint(CONSUMER, SHARD0)).toBe(seq(3));
  });
});
