/**
 * `npm run redrive [-- --target local|aws] [--dry-run] [--json]`: puts the batches the event source
 * mappings gave up on back on the stream, from the local failure table (stream.db) or, with
 * `--target aws`, from the S3 failure destination named by the stack's outputs. Safe to run twice:
 * a batch put back is marked and skipped the next time, and putting one back twice does no harm (the
 * store upserts, alarms are decided by event time). The AWS SDK is loaded only for `--target aws`.
 */
import { Command, Option } from 'commander';
import { UsageError, runCli, writeJson, writeText } from './cli-support.js';
import { formatRedriveReport, type RedriveReport } from '../redrive-batch.js';

const TARGETS = ['local', 'aws'] as const;

interface Flags {
  target: (typeof TARGETS)[number];
  data: string;
  consumer?: string;
  dryRun?: boolean;
  json?: boolean;
  bucket?: string;
  stream?: string;
  stack?: string;
  region?: string;
}

async function redrive(flags: Flags): Promise<RedriveReport> {
  const dryRun = flags.dryRun === true;
  if (flags.target === 'local') {
    for (const awsOnly of ['bucket', 'stream', 'stack', 'region'] as const) {
      if (flags[awsOnly] !== undefined) throw new UsageError(`--${awsOnly} needs --target aws`);
    }
    const { redriveLocal } = await import('../local/redrive.js');
    return redriveLocal({ dataDir: flags.data, dryRun, ...(flags.consumer === undefined ? {} : { consumer: flags.consumer }) });
  }
  const [{ S3Client }, { KinesisClient }, { resolveStackOutputs, STACK_OUTPUT }, { redriveAws }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/client-kinesis'),
    import('../aws/stack-outputs.js'),
    import('../aws/redrive.js'),
  ]);
  let { bucket, stream: streamName, region } = flags;
  if (bucket === undefined || streamName === undefined) {
    const stack = await resolveStackOutputs({ ...(flags.stack === undefined ? {} : { stackName: flags.stack }), ...(region === undefined ? {} : { region }) });
    bucket ??= stack.require(STACK_OUTPUT.failureBucketName, 'or pass --bucket');
    streamName ??= stack.require(STACK_OUTPUT.streamName, 'or pass --stream');
    region ??= stack.region;
  }
  const clientConfig = region === undefined ? {} : { region };
  const s3 = new S3Client(clientConfig);
  const kinesis = new KinesisClient(clientConfig);
  try {
    return await redriveAws({ s3, kinesis, bucket, streamName, dryRun, ...(flags.consumer === undefined ? {} : { consumer: flags.consumer }) });
  } finally {
    s3.destroy();
    kinesis.destroy();
  }
}

const program = new Command('redrive')
  .description(
    'Puts the batches the event source mappings gave up on back on the stream: from the local failure table (stream.db), or with --target aws from the S3 failure destination named by the stack outputs FailureBucketName and StreamName. Each batch put back is marked and skipped by later runs.',
  )
  .addOption(new Option('--target <target>', 'local stack or deployed AWS stack').choices(TARGETS).default('local'))
  .option('--data <dir>', 'data directory of the local stack', './data')
  .option('--consumer <name>', 'only the batches of this consumer (local: ingest, alarms; aws: part of the function name)')
  .option('--dry-run', 'list what would be put back; change nothing')
  .option('--json', 'one JSON object on stdout')
  .option('--bucket <name>', 'failure bucket (aws; default: the stack output FailureBucketName)')
  .option('--stream <name>', 'Kinesis stream (aws; default: the stack output StreamName)')
  .option('--stack <name>', 'stack whose outputs name the bucket and stream (aws)', undefined)
  .option('--region <region>', 'AWS region (aws; default: the SDK chain)')
  .action(async (flags: Flags) => {
    const report = await redrive(flags);
    if (flags.json === true) writeJson(report);
    else writeText(formatRedriveReport(report));
  });

await runCli(program);
