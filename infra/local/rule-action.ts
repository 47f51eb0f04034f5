/**
 * The pipeline's IoT rule and its Kinesis action, locally: what the broker runs for each accepted
 * telemetry message, inside its `authorizePublish` hook (so the PUBACK waits for the durable append).
 * One function, so the stack and the benchmarks' partial compositions run the very same path.
 */
import type { Log } from '../../lambdas/ports/index.js';
import type { TelemetryMessage } from './broker/index.js';
import { compileRule, compileTemplate, ruleOutputBytes } from './iot-sql/index.js';
import type { LocalStream } from './stream/index.js';

export interface KinesisRuleActionOptions {
  /** The rule's SQL (pipeline.rule.sql). SQL outside our subset throws here, at start-up. */
  readonly sql: string;
  /** The Kinesis action's partition-key template (pipeline.rule.partitionKey). */
  readonly partitionKey: string;
  readonly stream: LocalStream;
  readonly log: Log;
}

/**
 * Returns the broker's `onTelemetry`: evaluates the rule and appends its output to the stream.
 * Resolves once the record is committed; undefined (nothing to wait for) when the rule does not match
 * or its action fails.
 */
export function makeKinesisRuleAction(options: KinesisRuleActionOptions): (message: TelemetryMessage) => Promise<void> | undefined {
  const { stream, log } = options;
  const rule = compileRule(options.sql);
  const partitionKeyOf = compileTemplate(options.partitionKey);
  return (message) => {
    const ruleMessage = { topic: message.topic, payload: message.payload, clientId: message.clientId, timestamp: message.receivedAt };
    const result = rule.evaluate(ruleMessage);
    if (!result.matched) return undefined;
    const partitionKey = partitionKeyOf(ruleMessage);
    if (!partitionKey) {
      // On AWS the Kinesis action fails and the rule's error action runs; there is no stream record.
      log.error('rule action failed: empty partition key', { topic: message.topic, clientId: message.clientId });
      return undefined;
    }
    return stream.append({ partitionKey, data: ruleOutputBytes(result.output) }).then(() => undefined);
  };
}
