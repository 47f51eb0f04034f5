import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Stream } from 'aws-cdk-lib/aws-kinesis';
import { CfnEventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EventSourceMappingSettings } from '../../pipeline.js';
import type { FleetFunction } from './fleet-function.js';

export interface KinesisConsumerProps {
  readonly stream: Stream;
  readonly consumer: FleetFunction;
  /** pipeline.consumers.<name>: the same object the local event-source emulation runs with. */
  readonly settings: EventSourceMappingSettings;
  /** Receives the metadata of a batch the mapping gave up on (retries or record age exhausted). */
  readonly onFailure: IQueue;
}

/**
 * One event source mapping from the stream to a function. Its settings are the pipeline
 * definition's, spread as they are: EventSourceMappingSettings is named after the properties of
 * AWS::Lambda::EventSourceMapping for that reason, so what runs locally is what deploys.
 */
export class KinesisConsumer extends Construct {
  public readonly mapping: CfnEventSourceMapping;

  constructor(scope: Construct, id: string, props: KinesisConsumerProps) {
    super(scope, id);
    const { settings } = props;

    // Grant: Lambda polls the stream and writes to the on-failure destination with the function's
    // execution role (docs lambda/latest/dg/with-kinesis: "Execution role permissions").
    props.stream.grantRead(props.consumer.role);
    props.consumer.role.addToPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.onFailure.queueArn] }),
    );

    // Wire
    this.mapping = new CfnEventSourceMapping(this, 'Mapping', {
      functionName: props.consumer.function.functionName,
      eventSourceArn: props.stream.streamArn,
      ...settings,
      functionResponseTypes: [...settings.functionResponseTypes],
      destinationConfig: { onFailure: { destination: props.onFailure.queueArn } },
    });
    // Lambda checks the role's permissions when the mapping is created: the policy must exist first.
    this.mapping.node.addDependency(props.consumer);
  }
}
