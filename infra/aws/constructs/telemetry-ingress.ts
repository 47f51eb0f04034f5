import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { pipeline } from '../../pipeline.js';
import type { DeploymentSettings } from '../deployment-settings.js';
import { keptMessagesQueue } from './kept-messages-queue.js';

export interface TelemetryIngressProps {
  /** `provisioned` uses pipeline.stream.shardCount. */
  readonly streamMode: DeploymentSettings['streamMode'];
  /** How long the stream keeps records, hours (context streamRetentionHours). */
  readonly retentionHours: number;
}

/**
 * Device messages onto the stream: the Kinesis stream, the IoT topic rule that wraps each message in
 * the envelope (pipeline.rule.sql) and puts it on the stream keyed by deviceId, the rule's own role,
 * and the rule's error action.
 *
 * Error action: SQS, not S3 or CloudWatch Logs. The rules engine sends one error message per failed
 * (rule, message) carrying `base64OriginalPayload` [iot rule-error-handling], at most about 171 KB
 * for IoT Core's 128 KB payload limit, within SQS's 256 KB message limit. A queue keeps each failed
 * message whole and separately for 14 days, its depth is one CloudWatch alarm away, it costs nothing
 * while empty, and a message can be replayed onto the stream by reading it back; the pipeline's other
 * kept messages (rejects, consumer failures) are SQS queues too, so an operator looks in one place.
 */
export class TelemetryIngress extends Construct {
  public readonly stream: Stream;
  public readonly rule: CfnTopicRule;
  /** Assumed by IoT to run the rule's actions: PutRecord on the stream, SendMessage on the error queue. */
  public readonly ruleRole: Role;
  /** The error action's destination: messages the rule could not put on the stream. */
  public readonly ruleErrors: Queue;

  constructor(scope: Construct, id: string, props: TelemetryIngressProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // Build
    this.stream = new Stream(this, 'Stream', {
      streamName: pipeline.stream.name,
      ...(props.streamMode === 'provisioned'
        ? { streamMode: StreamMode.PROVISIONED, shardCount: pipeline.stream.shardCount }
        : { streamMode: StreamMode.ON_DEMAND }),
      retentionPeriod: Duration.hours(props.retentionHours),
      // The AWS managed key (alias/aws/kinesis): producers and consumers need no KMS grant.
      encryption: StreamEncryption.MANAGED,
      // Deleted with the stack: what a consumer gave up on is in the failure bucket, which is kept,
      // and a retained stream would keep billing shard-hours and block a redeploy under its name.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.ruleErrors = keptMessagesQueue(this, 'RuleErrors', {
      queueName: `${pipeline.name}-rule-errors`,
      holds: 'IoT rule error-action messages (with the original payload)',
    });

    const ruleArn = stack.formatArn({ service: 'iot', resource: 'rule', resourceName: pipeline.rule.name });
    this.ruleRole = new Role(this, 'RuleRole', {
      description: `Assumed by AWS IoT to run the actions of rule ${pipeline.rule.name}`,
      // Confused-deputy guard: only this account's rule of this name may assume the role.
      assumedBy: new ServicePrincipal('iot.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': ruleArn },
      }),
    });

    // Grant: exactly what the two actions call.
    this.ruleRole.addToPolicy(
      new PolicyStatement({ actions: ['kinesis:PutRecord'], resources: [this.stream.streamArn] }),
    );
    this.ruleRole.addToPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.ruleErrors.queueArn] }),
    );

    // Wire
    this.rule = new CfnTopicRule(this, 'Rule', {
      ruleName: pipeline.rule.name,
      topicRulePayload: {
        description: 'Wraps every telemetry message in the envelope and puts it on the stream, keyed by deviceId.',
        sql: pipeline.rule.sql,
        awsIotSqlVersion: pipeline.rule.sqlVersion,
        ruleDisabled: false,
        actions: [
          {
            kinesis: {
              streamName: this.stream.streamName,
              partitionKey: pipeline.rule.partitionKey,
              roleArn: this.ruleRole.roleArn,
            },
          },
        ],
        errorAction: {
          sqs: { queueUrl: this.ruleErrors.queueUrl, roleArn: this.ruleRole.roleArn, useBase64: false },
        },
      },
    });
    // IoT checks at creation that it can use the role: create the role and its policy first.
    this.rule.node.addDependency(this.ruleRole);
  }
}
