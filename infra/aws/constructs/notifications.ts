import { RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { pipeline } from '../../pipeline.js';

export interface NotificationsProps {
  /** Subscribed to the device-alarm topic. @default no subscription */
  readonly alarmEmail?: string;
  /** Subscribed to the operations topic. @default no subscription */
  readonly opsEmail?: string;
}

/**
 * Where people hear about things: the device-alarm topic (one AlarmEvent JSON per transition,
 * published by the alarms and offline functions) and the operations topic (the stack's CloudWatch
 * alarms). Two topics, so a subscriber parsing AlarmEvents never receives a CloudWatch alarm.
 *
 * Both are encrypted with one customer managed key: the AWS managed `alias/aws/sns` key cannot be
 * used by CloudWatch alarm actions, whose key policy must allow `cloudwatch.amazonaws.com`
 * (docs sns/latest/dg/sns-key-management: "compatibility between event sources and encrypted
 * topics"). The key rotates yearly.
 */
export class Notifications extends Construct {
  public readonly key: Key;
  public readonly alarmTopic: Topic;
  public readonly opsTopic: Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps = {}) {
    super(scope, id);
    this.key = new Key(this, 'TopicKey', {
      description: `Encrypts the ${pipeline.name} SNS topics`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      topicName: `${pipeline.name}-alarms`,
      displayName: 'Fleet telemetry device alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.opsTopic = new Topic(this, 'OpsTopic', {
      topicName: `${pipeline.name}-ops`,
      displayName: 'Fleet telemetry operations',
      masterKey: this.key,
      enforceSSL: true,
    });

    if (props.alarmEmail !== undefined) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    if (props.opsEmail !== undefined) this.opsTopic.addSubscription(new EmailSubscription(props.opsEmail));
  }
}
