import { describe, expect, it } from 'vitest';
import { compileRule, compileTemplate, ruleOutputBytes } from '../../../infra/local/iot-sql/index.js';
import { alarmTopic, commandReplyTopic, commandTopic, pipeline, telemetryTopic } from '../../../infra/pipeline.js';
import type { StreamEnvelope } from '../../../lambdas/domain/model.js';

const reading = { ts: 1_764_028_800_123, seq: 17, type: 'env-sensor', metrics: { temperature: 22.4, humidity: 41.0, battery: 3.61 } };

describe("the pipeline's own rule (pipeline.rule)", () => {
  const rule = compileRule(pipeline.rule.sql);
  const partitionKey = compileTemplate(pipeline.rule.partitionKey);

  it('subscribes to the telemetry topic filter', () => {
    expect(rule.topicFilter).toBe(pipeline.topics.telemetryFilter);
  });

  it('wraps a JSON reading in the stream envelope the consumers decode', () => {
    const payload = new TextEncoder().encode(JSON.stringify(reading));
    const message = { topic: telemetryTopic('sensor-0001'), payload, clientId: 'sensor-0001', timestamp: 1_764_028_800_999 };

    const result = rule.evaluate(message);

    const expected: StreamEnvelope = {
      payload: Buffer.from(payload).toString('base64'),
      topic: 'dt/fleet/sensor-0001/telemetry',
      clientId: 'sensor-0001',
      receivedAt: 1_764_028_800_999,
    };
    expect(result).toEqual({ matched: true, output: expected });
    expect(partitionKey(message)).toBe('sensor-0001');
    const record = JSON.parse(Buffer.from(ruleOutputBytes(result.matched ? result.output : null)).toString('utf8')) as StreamEnvelope;
    expect(record).toEqual(expected);
  });

  it('keeps the original bytes of a payload that is not JSON, so the consumer can reject it with them', () => {
    const payload = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x00]);
    const result = rule.evaluate({ topic: telemetryTopic('d-2'), payload, clientId: 'd-2', timestamp: 5 });
    expect(result.matched).toBe(true);
    const envelope = (result.matched ? result.output : undefined) as StreamEnvelope;
    expect(Uint8Array.from(Buffer.from(envelope.payload, 'base64'))).toEqual(payload);
  });

  it('does not match messages on other topics (alarms, other apps, deeper levels)', () => {
    for (const topic of ['alarms/fleet/d1', 'dt/other/d1/telemetry', 'dt/fleet/d1/telemetry/x', 'dt/fleet/telemetry']) {
      expect(rule.evaluate({ topic, payload: new Uint8Array(), clientId: 'd1', timestamp: 0 })).toEqual({ matched: false });
    }
  });
});

describe("the pipeline's alarm command rule (pipeline.commandRule)", () => {
  const rule = compileRule(pipeline.commandRule.sql);

  it('subscribes to the commands topic filter', () => {
    expect(rule.topicFilter).toBe(pipeline.topics.commandsFilter);
  });

  it("takes the deviceId from the command topic's device level", () => {
    const payload = new TextEncoder().encode('{"action":"acknowledge","ruleId":"overheat"}');
    const result = rule.evaluate({ topic: commandTopic('sensor-0001'), payload, clientId: 'night-shift', timestamp: 7 });

    expect(result).toEqual({
      matched: true,
      output: { payload: Buffer.from(payload).toString('base64'), deviceId: 'sensor-0001', clientId: 'night-shift', receivedAt: 7 },
    });
  });

  it('does not match its own replies, two levels below the filter', () => {
    for (const outcome of ['accepted', 'rejected'] as const) {
      expect(rule.evaluate({ topic: commandReplyTopic('sensor-0001', outcome), payload: new Uint8Array(), clientId: 'c', timestamp: 0 })).toEqual({ matched: false });
    }
  });
});

describe('the topics (pipeline.topics)', () => {
  it('derive every filter from its topic, the device level a single-level wildcard', () => {
    expect(telemetryTopic('+')).toBe(pipeline.topics.telemetryFilter);
    expect(alarmTopic('+')).toBe(pipeline.topics.alarmsFilter);
    expect(commandTopic('+')).toBe(pipeline.topics.commandsFilter);
  });
});
