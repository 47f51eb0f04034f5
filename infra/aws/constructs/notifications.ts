import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
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
  /**
   * Name prefix of the CloudWatch alarms allowed to publish to the operations topic (the stack's
   * own alarms are all named with it).
   */
  readonly opsAlarmNamePrefix: string;
}

/**
 * Where people hear about things: the device-alarm topic (one AlarmEvent JSON per transition,
 * published by the alarms and offline functions) and the operations topic (the stack's CloudWatch
 * alarms). Two topics, so a subscriber parsing AlarmEvents never receives a CloudWatch alarm.
 *
 * Both are encrypted with one customer managed key: the AWS managed `alias/aws/sns` key cannot be
 * used by CloudWatch alarm actions, whose key policy must allow `cloudwatch.amazonaws.com`
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html, "compatibility between event
 * sources from AWS services and encrypted topics"). The key rotates yearly.
 *
 * Who may publish, and nothing more:
 * - operations topic: CloudWatch, for this account's alarms named with opsAlarmNamePrefix. A topic
 *   policy replaces SNS's default one (`enforceSSL` writes a Deny-only policy), so without this
 *   Allow no alarm action can publish; `aws:SourceAccount` and `aws:SourceArn` keep another
 *   account's or another stack's alarms out (the confused-deputy guard,
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html). The key policy's
 *   statement for CloudWatch carries the same conditions.
 * - device-alarm topic: only the alarms and offline functions' roles, by their identity policies
 *   (same account: an IAM Allow suffices while the topic policy denies nothing but plain HTTP).
 */
export class Notifications extends Construct {
  public readonly key: Key;
  public readonly alarmTopic: Topic;
  public readonly opsTopic: Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const fromThisStacksAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${props.opsAlarmNamePrefix}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
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
        conditions: fromThisStacksAlarms,
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

    this.opsTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisStacksCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.opsTopic.topicArn],
        conditions: fromThisStacksAlarms,
      }),
    );

    if (props.alarmEmail !== undefined) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    if (props.opsEmail !== undefined) this.opsTopic.addSubscription(new EmailSubscription(props.opsEmail));
  }
}
