import { CloudFormationClient, CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/domain/errors.js';
import { DEFAULT_STACK_NAME, STACK_OUTPUT, StackOutputsError, resolveStackOutputs } from '../../../infra/aws/stack-outputs.js';

const cloudFormation = mockClient(CloudFormationClient);
const client = (): CloudFormationClient => new CloudFormationClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

describe('resolveStackOutputs', () => {
  beforeEach(() => cloudFormation.reset());

  it('asks DescribeStacks for the default stack and maps its outputs by key', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'FleetTelemetry',
          CreationTime: new Date(0),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'ReadingsTableName', OutputValue: 'FleetTelemetry-ReadingsTable-ABC' },
            { OutputKey: 'StreamName', OutputValue: 'fleet-telemetry' },
          ],
        },
      ],
    });

    const stack = await resolveStackOutputs({ client: client() });

    expect(cloudFormation.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input)).toEqual([{ StackName: DEFAULT_STACK_NAME }]);
    expect(stack.stackName).toBe('FleetTelemetry');
    expect(stack.region).toBe('eu-west-1');
    expect(stack.require(STACK_OUTPUT.readingsTableName)).toBe('FleetTelemetry-ReadingsTable-ABC');
    expect(stack.get(STACK_OUTPUT.timestreamTableName)).toBeUndefined();
  });

  it('names the stack, the region and the output when a required output is missing', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'Other', CreationTime: new Date(0), StackStatus: 'CREATE_COMPLETE' }] });

    const stack = await resolveStackOutputs({ client: client(), stackName: 'Other' });

    expect(() => stack.require('ReadingsTableName', 'deployed with -c timeSeriesStore=dynamodb?')).toThrow(
      new StackOutputsError('stack Other in eu-west-1 has no output ReadingsTableName (deployed with -c timeSeriesStore=dynamodb?)'),
    );
  });

  it('says the stack was not found when CloudFormation answers that it does not exist', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({ name: 'ValidationError', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Stack with id Nope does not exist' }),
    );

    await expect(resolveStackOutputs({ client: client(), stackName: 'Nope' })).rejects.toThrow(
      new StackOutputsError('stack Nope not found in eu-west-1 (deploy it with npx cdk deploy, or pass --stack NAME / --region R)'),
    );
  });

  it('turns missing credentials into a configuration error that says how to set them', async () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    cloudFormation.on(DescribeStacksCommand).rejects(noCredentials);

    const failure = resolveStackOutputs({ client: client() });

    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(/no AWS credentials for eu-west-1: configure them/);
  });

  it('asks for a region when the SDK chain has none', async () => {
    const regionless = new CloudFormationClient({ region: async (): Promise<string> => Promise.reject(new Error('Region is missing')) });

    await expect(resolveStackOutputs({ client: regionless })).rejects.toThrow(new StackOutputsError('no AWS region: pass --region or set AWS_REGION (or a region in your AWS profile)'));
  });
});
