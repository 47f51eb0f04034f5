/**
 * `npm run cost -- --devices N --interval S [--payload BYTES] [--region R] [--json]`: the monthly AWS
 * cost of the pipeline for a fleet, by service, the Kinesis shards it needs, both time-series stores
 * side by side and whether the configured stack keeps up. Pure arithmetic on
 * infra/aws/cost/prices.ts: no AWS call, no network.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { shortestQuietMs } from '../../../lambdas/domain/alarm-engine.js';
import { loadThresholdsFile } from '../../../lambdas/config/load-thresholds.js';
import { integerArgument, runCli, UsageError, writeJson, writeText } from '../../cli/cli-support.js';
import { STREAM_MODES } from '../deployment-settings.js';
import { COST_TIME_SERIES_STORES, DEFAULT_READINGS_RETENTION_DAYS, DEFAULT_STREAM_RETENTION_HOURS, INGEST_TOPICS, estimateMonthlyCost } from './estimate.js';
import { formatEstimate } from './format.js';
import { parseDeviceTypeWeights, perReadingStateShare } from './rule-write-share.js';

function positive(kind: 'integer' | 'number'): (value: string) => number {
  return (value) => {
    const n = Number(value);
    const ok = kind === 'integer' ? /^\d+$/.test(value) : /^\d+(\.\d+)?$/.test(value);
    if (!ok || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`not a positive ${kind}`);
    return n;
  };
}

function deviceTypes(value: string): Map<string, number> {
  try {
    return parseDeviceTypeWeights(value);
  } catch (error) {
    throw new UsageError(`--device-types: ${(error as Error).message}`);
  }
}

const program = new Command('cost')
  .description(
    'Monthly AWS cost of the pipeline for a fleet, by service, the Kinesis shards it needs, both time-series stores side by side, and whether the configured stack keeps up (the capacity verdict).',
  )
  .requiredOption('--devices <n>', 'devices in the fleet', positive('integer'))
  .requiredOption('--interval <seconds>', 'seconds between two readings of one device', positive('number'))
  .option('--payload <bytes>', 'JSON payload of one reading', positive('integer'), 200)
  .option('--region <region>', 'AWS region of the price table', 'us-east-1')
  .addOption(new Option('--stream-mode <mode>', 'Kinesis capacity mode').choices(STREAM_MODES).default('provisioned'))
  .addOption(
    new Option('--time-series-store <store>', 'time-series store (context timeSeriesStore)').choices(COST_TIME_SERIES_STORES).default('dynamodb'),
  )
  .addOption(
    new Option('--topic <topic>', 'where devices publish: Basic Ingest (no messaging charge) or the plain topic').choices(INGEST_TOPICS).default('basic-ingest'),
  )
  .option('--stream-retention-hours <hours>', 'Kinesis retention (context streamRetentionHours)', integerArgument({ min: 24, max: 8760 }), DEFAULT_STREAM_RETENTION_HOURS)
  .option('--readings-retention-days <days>', 'DynamoDB readings TTL (context readingsRetentionDays)', integerArgument({ min: 1 }), DEFAULT_READINGS_RETENTION_DAYS)
  .option('--thresholds <file>', 'thresholds file: its smallest silentFor or metricSilentFor window sets how often alarm state is written', 'config/thresholds.json')
  .option(
    '--device-types <type=weight,...>',
    "the fleet's device types and their shares, matched against the rules' match.type (sets how many devices a risesBy, fallsBy or unchangedFor rule makes write their alarm state on every reading)",
    'env-sensor=1,cold-chain=1,vehicle=1',
  )
  .option('--json', 'one JSON object on stdout')
  .action(
    (options: {
      devices: number;
      interval: number;
      payload: number;
      region: string;
      streamMode: (typeof STREAM_MODES)[number];
      timeSeriesStore: (typeof COST_TIME_SERIES_STORES)[number];
      topic: (typeof INGEST_TOPICS)[number];
      streamRetentionHours: number;
      readingsRetentionDays: number;
      thresholds: string;
      deviceTypes: string;
      json?: boolean;
    }) => {
      const rules = loadThresholdsFile(options.thresholds);
      const silentMs = shortestQuietMs(rules);
      const weights = deviceTypes(options.deviceTypes);
      const estimate = estimateMonthlyCost({
        devices: options.devices,
        intervalSeconds: options.interval,
        payloadBytes: options.payload,
        region: options.region,
        streamMode: options.streamMode,
        timeSeriesStore: options.timeSeriesStore,
        topic: options.topic,
        streamRetentionHours: options.streamRetentionHours,
        readingsRetentionDays: options.readingsRetentionDays,
        silentForSeconds: silentMs === undefined ? null : silentMs / 1000,
        perReadingStateShare: perReadingStateShare(rules, weights),
      });
      if (options.json === true) writeJson(estimate);
      else writeText(formatEstimate(estimate));
    },
  );

await runCli(program);
