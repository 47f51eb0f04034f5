/**
 * `npm run cost -- --devices N --interval S [--payload BYTES] [--region R] [--json]`: the monthly AWS
 * cost of the pipeline for a fleet, by service, and the Kinesis shards it needs. Pure arithmetic on
 * infra/aws/cost/prices.ts: no AWS call, no network.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { runCli, writeJson, writeText } from '../../local/cli/cli-support.js';
import { STREAM_MODES, TIME_SERIES_STORES } from '../deployment-settings.js';
import { estimateMonthlyCost } from './estimate.js';
import { formatEstimate } from './format.js';

function positive(kind: 'integer' | 'number'): (value: string) => number {
  return (value) => {
    const n = Number(value);
    const ok = kind === 'integer' ? /^\d+$/.test(value) : /^\d+(\.\d+)?$/.test(value);
    if (!ok || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`not a positive ${kind}`);
    return n;
  };
}

const program = new Command('cost')
  .description('Monthly AWS cost of the pipeline for a fleet, by service, and the Kinesis shards it needs.')
  .requiredOption('--devices <n>', 'devices in the fleet', positive('integer'))
  .requiredOption('--interval <seconds>', 'seconds between two readings of one device', positive('number'))
  .option('--payload <bytes>', 'JSON payload of one reading', positive('integer'), 200)
  .option('--region <region>', 'AWS region of the price table', 'us-east-1')
  .addOption(new Option('--stream-mode <mode>', 'Kinesis capacity mode').choices(STREAM_MODES).default('provisioned'))
  .addOption(
    new Option('--time-series-store <store>', 'time-series store (context timeSeriesStore)')
      .choices(TIME_SERIES_STORES)
      .default('timestream'),
  )
  .option('--json', 'one JSON object on stdout')
  .action(
    (options: {
      devices: number;
      interval: number;
      payload: number;
      region: string;
      streamMode: (typeof STREAM_MODES)[number];
      timeSeriesStore: (typeof TIME_SERIES_STORES)[number];
      json?: boolean;
    }) => {
      const estimate = estimateMonthlyCost({
        devices: options.devices,
        intervalSeconds: options.interval,
        payloadBytes: options.payload,
        region: options.region,
        streamMode: options.streamMode,
        timeSeriesStore: options.timeSeriesStore,
      });
      if (options.json === true) writeJson(estimate);
      else writeText(formatEstimate(estimate));
    },
  );

await runCli(program);
