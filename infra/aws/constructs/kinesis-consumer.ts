import type { Stream } from 'aws-cdk-lib/aws-kinesis';
import { CfnEventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { EventSourceMappingSettings } from '../../pipeline.js';
import type { FailureBucket } from './failure-bucket.js';
import type { FleetFunction } from './fleet-function.js';

export interface KinesisConsumerProps {
  readonly stream: Stream;
  readonly consumer: FleetFunction;
  /** pipeline.consumers.<name>: the same object the local event-source emulation runs with. */
  readonly settings: EventSourceMappingSettings;
  /** Receives the whole invocation record of a batch the mapping gave up on (record age exhausted). */
  readonly onFailure: FailureBucket;
}

/**
 * One event source mapping from the stream to a function. Its settings are the pipeline
 * definition's, spread as they are: EventSourceMappingSettings is named after the properties of
 * AWS::Lambda::EventSourceMapping for that reason, so what runs locally is what deploys (and the
 * app validates them at synth with the local runtime's own check, infra/pipeline-validation.ts).
 */
export class KinesisConsumer extends Construct {
  public readonly mapping: CfnEventSourceMapping;

  constructor(scope: Construct, id: string, props: KinesisConsumerProps) {
    super(scope, id);
    const { settings } = props;

    // Grant: Lambda polls the stream and writes to the on-failure destination with the function's
    // execution role (docs lambda/latest/dg/with-kinesis: "Execution role permissions").
    props.stream.grantRead(props.consumer.role);
    props.onFailure.grantFailureWrites(props.consumer.role);
    NagSuppressions.addResourceSuppressions(
      props.consumer.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'The on-failure destination writes one object per failed batch under a key Lambda chooses (aws/lambda/<mapping>/<shard>/<date>/...), so s3:PutObject must name the objects of that one bucket with a wildcard.',
          appliesTo: [{ regex: '/^Resource::<FailureBucket[A-Za-z0-9]+\\.Arn>\\/\\*$/' }],
        },
      ],
      true,
    );

    // Wire
    this.mapping = new CfnEventSourceMapping(this, 'Mapping', {
      functionName: props.consumer.function.functionName,
      eventSourceArn: props.stream.streamArn,
      ...settings,
      functionResponseTypes: [...settings.functionResponseTypes],
      destinationConfig: { onFailure: { destination: props.onFailure.bucket.bucketArn } },
    });
    // Lambda checks the role's permissions when the mapping is created: the policy must exist first.
    this.mapping.node.addDependency(props.consumer);
  }
}
