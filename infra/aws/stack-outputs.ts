/**
 * The deployed stack as command lines see it: CloudFormation DescribeStacks on the stack name, whose
 * outputs name the tables, buckets and streams (so nothing has a fixed physical name to guess).
 * Credentials and, unless given, the region come from the AWS SDK's default chain (environment,
 * shared config and credentials files, SSO, instance roles). No CDK imports: CLIs load this quickly.
 *
 * @example
 * const stack = await resolveStackOutputs({ region: 'eu-west-1' });
 * const table = stack.require(STACK_OUTPUT.readingsTableName);
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ConfigError, FleetTelemetryError } from '../../lambdas/domain/errors.js';

/** The stack's name unless `--stack` says otherwise (the same as STACK_NAME in fleet-app.ts). */
export const DEFAULT_STACK_NAME = 'FleetTelemetry';

/** The CfnOutput ids every CLI may rely on (fixed for all of them: rename only everywhere at once). */
export const STACK_OUTPUT = Object.freeze({
  streamName: 'StreamName',
  failureBucketName: 'FailureBucketName',
  alarmStateTableName: 'AlarmStateTableName',
  readingsTableName: 'ReadingsTableName',
  alarmHistoryTableName: 'AlarmHistoryTableName',
  timestreamDatabaseName: 'TimestreamDatabaseName',
  timestreamTableName: 'TimestreamTableName',
  /** The threshold rules in AppConfig (npm run thresholds -- deploy FILE --target aws). */
  thresholdsApplicationId: 'ThresholdsAppConfigApplicationId',
  thresholdsEnvironmentId: 'ThresholdsAppConfigEnvironmentId',
  thresholdsProfileId: 'ThresholdsAppConfigProfileId',
  thresholdsDeploymentStrategyId: 'ThresholdsDeploymentStrategyId',
} as const);

/** The deployed stack cannot be read (not found, no credentials, no region) or lacks an output. */
export class StackOutputsError extends FleetTelemetryError {}

export interface DeployedStack {
  readonly stackName: string;
  readonly region: string;
  /** Output values by output key (the CfnOutput id). */
  readonly outputs: ReadonlyMap<string, string>;
  /** The output's value, or undefined when the stack has no such output. */
  get(outputKey: string): string | undefined;
  /** The output's value; throws a StackOutputsError naming the stack and the output when it is missing. */
  require(outputKey: string, hint?: string): string;
}

export interface ResolveStackOptions {
  /** @default DEFAULT_STACK_NAME */
  readonly stackName?: string;
  /** @default the SDK's chain (AWS_REGION, the profile's region...) */
  readonly region?: string;
  /** A client to use instead of a new one (tests pass one; its region is used). */
  readonly client?: CloudFormationClient;
}

/** Reads the stack's outputs with DescribeStacks. Every failure is a StackOutputsError with a one-line reason. */
export async function resolveStackOutputs(options: ResolveStackOptions = {}): Promise<DeployedStack> {
  const stackName = options.stackName ?? DEFAULT_STACK_NAME;
  const client = options.client ?? new CloudFormationClient(options.region === undefined ? {} : { region: options.region });
  let region: string;
  try {
    region = await client.config.region();
  } catch {
    throw new StackOutputsError('no AWS region: pass --region or set AWS_REGION (or a region in your AWS profile)');
  }
  let outputs: Map<string, string>;
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks[0];
    if (stack === undefined) throw new StackOutputsError(`stack ${stackName} not found in ${region}`);
    outputs = new Map((stack.Outputs ?? []).flatMap((o) => (o.OutputKey === undefined || o.OutputValue === undefined ? [] : [[o.OutputKey, o.OutputValue]])));
  } catch (error) {
    throw describeFailure(error, stackName, region);
  } finally {
    if (options.client === undefined) client.destroy();
  }
  return {
    stackName,
    region,
    outputs,
    get: (key) => outputs.get(key),
    require: (key, hint) => {
      const value = outputs.get(key);
      if (value === undefined) {
        throw new StackOutputsError(`stack ${stackName} in ${region} has no output ${key}${hint === undefined ? '' : ` (${hint})`}`);
      }
      return value;
    },
  };
}

function describeFailure(error: unknown, stackName: string, region: string): FleetTelemetryError {
  if (error instanceof FleetTelemetryError) return error;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  // CloudFormation answers a missing stack with a ValidationException "Stack with id X does not exist".
  if (name === 'ValidationError' || name === 'ValidationException' || /does not exist/.test(message)) {
    return new StackOutputsError(`stack ${stackName} not found in ${region} (deploy it with npx cdk deploy, or pass --stack NAME / --region R)`);
  }
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
    return new ConfigError(`no AWS credentials for ${region}: configure them (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY): ${message}`);
  }
  return new StackOutputsError(`could not read stack ${stackName} in ${region}: ${name === '' ? '' : `${name}: `}${message}`);
}
