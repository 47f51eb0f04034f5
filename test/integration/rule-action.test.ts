import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeKinesisRuleAction } from '../../infra/local/rule-action.js';
import { compileRule, compileTemplate, ruleOutputBytes, type RuleMessage } from '../../infra/local/iot-sql/index.js';
import { LocalStream, StreamRecordInvalidError } from '../../infra/local/stream/index.js';
import { pipeline, telemetryTopic } from '../../infra/pipeline.js';
import { silentLog } from '../../lambdas/ports/observability.js';
import type { Log } from '../../lambdas/ports/observability.js';

const reading = (deviceId: string, seq: number, payload?: Buffer): RuleMessage => ({
  topic: telemetryTopic(deviceId),
  payload: payload ?? Buffer.from(JSON.stringify({ seq, metrics: { temperature: 20 + seq } })),
  clientId: deviceId,
  timestamp: 1_764_028_800_000 + seq,
});

describe('makeKinesisRuleAction (the rule and its Kinesis action on the local stream)', () => {
  let dir: string;
  let stream: LocalStream;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rule-action-'));
    stream = LocalStream.open({ file: join(dir, 'stream.db'), streamName: pipeline.stream.name, shardCount: 2, retentionHours: 24, durability: 'full' });
  });

  afterEach(async () => {
    await stream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const action = (log: Log = silentLog, partitionKey: string = pipeline.rule.partitionKey) =>
    makeKinesisRuleAction({ sql: pipeline.rule.sql, partitionKey, stream, log });

  /** Every record of the device's shard, oldest first. */
  const recordsOf = (deviceId: string) => stream.read(stream.shardFor(deviceId), { limit: 10_000 });

  it("appends exactly the bytes the general evaluator gives for the pipeline's rule, keyed by the device id", async () => {
    const message = reading('sensor-"quoted"\\1', 1, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    const general = compileRule(pipeline.rule.sql).evaluate(message);
    const expected = Buffer.from(ruleOutputBytes(general.matched ? general.output : undefined));

    await action()(message);

    const [record] = recordsOf(message.clientId);
    expect(record?.partitionKey).toBe(compileTemplate(pipeline.rule.partitionKey)(message));
    expect(record?.data.equals(expected)).toBe(true);
  });

  it('resolves only once the record is committed', async () => {
    const appended = action()(reading('d1', 1));
    const beforeCommit = stream.latestSequenceNumber(stream.shardFor('d1'));

    await appended;

    expect(beforeCommit).toBeUndefined();
    expect(recordsOf('d1')).toHaveLength(1);
  });

  it('hands the messages of one task one promise, and appends them in call order', async () => {
    const onTelemetry = action();

    const promises = [1, 2, 3, 4].map((seq) => onTelemetry(reading('d1', seq)));
    await Promise.all(promises);

    expect(new Set(promises).size).toBe(1);
    expect(recordsOf('d1').map((r) => (JSON.parse(r.data.toString('utf8')) as { receivedAt: number }).receivedAt % 1000)).toEqual([1, 2, 3, 4]);
  });

  it('starts a new batch in the next task', async () => {
    const onTelemetry = action();

    const first = onTelemetry(reading('d1', 1));
    await first;
    const second = onTelemetry(reading('d1', 2));
    await second;

    expect(second).not.toBe(first);
    expect(recordsOf('d1')).toHaveLength(2);
  });

  it('fails only the message whose record the stream refuses, and commits the others around it in order', async () => {
    // A 300-character device id makes a partition key longer than Kinesis' 256 characters.
    const longId = 'x'.repeat(300);
    const onTelemetry = action();

    const results = await Promise.allSettled([onTelemetry(reading('d1', 1)), onTelemetry(reading(longId, 2)), onTelemetry(reading('d1', 3))]);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(StreamRecordInvalidError);
    expect(recordsOf('d1')).toHaveLength(2);
    expect(recordsOf('d1').map((r) => r.partitionKey)).toEqual(['d1', 'd1']);
  });

  it('rejects every message of a batch the stream cannot commit (the stream is closed)', async () => {
    const onTelemetry = action();
    const promise = onTelemetry(reading('d1', 1));
    await stream.close();

    await expect(promise).rejects.toThrow();
  });

  it('returns nothing to wait for when the rule does not match', () => {
    expect(action()({ ...reading('d1', 1), topic: 'alarms/fleet/d1' })).toBeUndefined();
  });

  it('logs an empty partition key as a failed action and appends nothing, as the Kinesis action fails on AWS', async () => {
    const errors: string[] = [];
    const log: Log = { ...silentLog, error: (message) => void errors.push(message) };

    const result = action(log, '${topic(9)}')(reading('d1', 1));
    await Promise.resolve();

    expect(result).toBeUndefined();
    expect(errors).toEqual(['rule action failed: empty partition key']);
    expect(recordsOf('d1')).toEqual([]);
  });
});
