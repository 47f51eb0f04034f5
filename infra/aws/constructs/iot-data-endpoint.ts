import { Stack } from 'aws-cdk-lib';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface IotDataEndpointProps {
  /** The host, when the deployer already knows it (context `iotDataEndpoint`). @default looked up at deploy time */
  readonly host?: string;
}

/**
 * The account's `iot:Data-ATS` endpoint host, which the functions publish alarm events to.
 *
 * Looked up at deploy time rather than asked of the user: the host is per account and region
 * (`<prefix>-ats.iot.<region>.amazonaws.com`), so a context value is one more thing to get wrong on
 * a first deployment, and the legacy `iot:Data` (VeriSign) endpoint that the SDK would guess is not
 * the one to use. A custom resource calls IoT DescribeEndpoint with endpointType `iot:Data-ATS` when
 * the stack is created and whenever the resource is updated: the data of a custom resource is what
 * its last Create or Update returned, so an Update that calls nothing would leave
 * `endpointAddress` empty (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources.AwsCustomResource.html).
 * Setting the context value skips the lookup and its small provider function.
 */
export class IotDataEndpoint extends Construct {
  /** The host name (a token resolved at deploy time unless given). */
  public readonly host: string;

  constructor(scope: Construct, id: string, props: IotDataEndpointProps = {}) {
    super(scope, id);
    if (props.host !== undefined) {
      this.host = props.host;
      return;
    }
    // Called on update too: with onCreate only, any later change of this resource's properties
    // (a CDK upgrade that changes the provider, say) makes CloudFormation send an Update that the
    // provider answers with no data, and every reference to endpointAddress fails the update.
    const describeEndpoint = {
      service: 'Iot',
      action: 'DescribeEndpoint',
      parameters: { endpointType: 'iot:Data-ATS' },
      physicalResourceId: PhysicalResourceId.of('iot-data-ats-endpoint'),
    };
    const lookup = new AwsCustomResource(this, 'DescribeEndpoint', {
      onCreate: describeEndpoint,
      onUpdate: describeEndpoint,
      policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: AwsCustomResourcePolicy.ANY_RESOURCE }),
      // The SDK in the Lambda runtime has DescribeEndpoint; installing the latest at deploy time
      // would need npm from inside the account and slows every deployment.
      installLatestAwsSdk: false,
    });
    this.host = lookup.getResponseField('endpointAddress');
    NagSuppressions.addResourceSuppressions(
      lookup,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'iot:DescribeEndpoint has no resource-level permissions (IAM service authorization reference for AWS IoT), so its statement must name "*"; it is the only action granted.',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
    // The provider function is a singleton at stack level, made by aws-cdk-lib.
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
    if (provider !== undefined) {
      NagSuppressions.addResourceSuppressions(
        provider,
        [
          {
            id: 'AwsSolutions-IAM4',
            reason:
              "aws-cdk-lib's AwsCustomResource provider function uses AWSLambdaBasicExecutionRole, which only lets it write its own logs; the function runs on stack create and update to read the IoT endpoint.",
            appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
          },
        ],
        true,
      );
    }
  }
}

/** The construct id aws-cdk-lib gives the AwsCustomResource singleton provider function. */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';
