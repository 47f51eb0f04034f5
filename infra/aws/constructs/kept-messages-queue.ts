import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';

export interface KeptMessagesQueueProps {
  readonly queueName: string;
  /** What lands here, for the nag acknowledgement. */
  readonly holds: string;
}

/**
 * A queue that keeps messages the pipeline could not use, for a person to read or replay: encrypted
 * (SQS-managed keys, so writers need no KMS grant), TLS only, kept for the SQS maximum of 14 days.
 */
export function keptMessagesQueue(scope: Construct, id: string, props: KeptMessagesQueueProps): Queue {
  const queue = new Queue(scope, id, {
    queueName: props.queueName,
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  NagSuppressions.addResourceSuppressions(queue, [
    {
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself the end of the line: it holds ${props.holds} for inspection and replay, nothing consumes it automatically, so a dead-letter queue behind it would never receive anything. Its depth is alarmed instead.`,
    },
  ]);
  return queue;
}
