/**
 * `npm run rule -- --topic T --payload TEXT [--sql SQL] [--partition-key TEMPLATE] [--client-id ID]
 * [--timestamp MS] [--json]`: what an IoT rule (default: the pipeline's own, from infra/pipeline.ts)
 * makes of one message, evaluated by the same evaluator the local broker runs.
 *
 * With --json, stdout is exactly one line:
 * `{"matched": bool, "record": <the JSON value the Kinesis action receives> | null, "partitionKey": "..." | null}`.
 */
import { Command } from 'commander';
import { pipeline } from '../../pipeline.js';
import { compileRule, compileTemplate, IotSqlError, isTopicName, SUPPORTED_FUNCTIONS } from '../iot-sql/index.js';
import type { CompiledRule, CompiledTemplate, RuleMessage } from '../iot-sql/index.js';
import { integerArgument, runCli, UsageError, writeJson, writeText } from '../../cli/cli-support.js';

interface RuleCliOptions {
  topic: string;
  payload: string;
  sql: string;
  partitionKey: string;
  clientId: string;
  timestamp?: number;
  json: boolean;
}

/** The --json document. */
interface RuleReport {
  readonly matched: boolean;
  readonly record: unknown;
  readonly partitionKey: string | null;
}

function compileFlag<T>(flag: string, compile: () => T): T {
  try {
    return compile();
  } catch (error) {
    if (error instanceof IotSqlError) throw new UsageError(`${flag}: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * The record as JSON: raw bytes (`SELECT *` of a non-JSON payload) as `{"$bytes": "<base64>"}`, and
 * Undefined (`SELECT VALUE` of a missing field: AWS sends an empty record) as null.
 */
function recordJson(output: unknown): unknown {
  if (output instanceof Uint8Array) return { $bytes: Buffer.from(output).toString('base64') };
  return output === undefined ? null : output;
}

function render(report: RuleReport, rule: CompiledRule, topic: string): string {
  if (!report.matched) {
    return rule.matchesTopic(topic)
      ? 'not matched: WHERE is not true for this message'
      : `not matched: topic ${topic} does not match FROM '${rule.topicFilter}'`;
  }
  const lines = ['matched', `partition key: ${report.partitionKey === '' ? '(empty: the Kinesis action would fail)' : report.partitionKey}`];
  lines.push('record:', report.record === null ? '(empty)' : JSON.stringify(report.record, null, 2));
  return lines.join('\n');
}

const program = new Command('rule')
  .description(
    'Show what an IoT rule makes of one message: whether it matches, the stream record and its partition key. ' +
      `Supported SQL: SELECT (*, fields, a.b, AS, VALUE), FROM 'topic/+/#', WHERE, = <> < <= > >= + - * / % AND OR NOT, ` +
      `literals, and the functions ${SUPPORTED_FUNCTIONS.join(', ')}.`,
  )
  .requiredOption('--topic <topic>', 'the MQTT topic the message is published on, e.g. dt/fleet/sensor-0001/telemetry')
  .requiredOption('--payload <text>', 'the message payload (its UTF-8 bytes; need not be JSON)')
  .option('--sql <sql>', 'the rule statement (IoT SQL 2016-03-23 subset)', pipeline.rule.sql)
  .option('--partition-key <template>', 'the Kinesis action partition key, a substitution template', pipeline.rule.partitionKey)
  .option('--client-id <id>', 'the MQTT client id (none: clientid() gives "n/a", as for a message that did not come over MQTT)', '')
  .option('--timestamp <ms>', 'the receive time, epoch ms (default: now)', integerArgument({ min: 0 }))
  .option('--json', 'print {"matched", "record", "partitionKey"} as JSON (raw bytes as {"$bytes": base64})', false)
  .action((opts: RuleCliOptions) => {
    const rule = compileFlag('--sql', () => compileRule(opts.sql));
    const partitionKeyOf: CompiledTemplate = compileFlag('--partition-key', () => compileTemplate(opts.partitionKey));
    if (!isTopicName(opts.topic)) throw new UsageError(`--topic: not a topic name (empty, or contains + or #): ${opts.topic}`);

    const message: RuleMessage = {
      topic: opts.topic,
      payload: new TextEncoder().encode(opts.payload),
      clientId: opts.clientId,
      timestamp: opts.timestamp ?? Date.now(),
    };
    const result = rule.evaluate(message);
    const report: RuleReport = result.matched
      ? { matched: true, record: recordJson(result.output), partitionKey: partitionKeyOf(message) }
      : { matched: false, record: null, partitionKey: null };

    if (opts.json) writeJson(report);
    else writeText(render(report, rule, opts.topic));
  });

await runCli(program);
