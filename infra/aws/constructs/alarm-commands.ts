import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { ALARM_COMMANDS_ENV } from '../../../lambdas/alarm-commands/env.js';
import {
  ALARM_HISTORY_TABLE_KEYS,
  ALARM_HISTORY_TTL_ATTRIBUTE,
  ALARM_STATE_WAKE_INDEX,
} from '../../../lambdas/adapters/aws/dynamodb-readings-schema.js';
import { alarmTopic, commandReplyTopic, pipeline } from '../../pipeline.js';
import type { DeploymentSettings } from '../deployment-settings.js';
import { FleetFunction, handlerEnvironment } from './fleet-function.js';
import type { Notifications } from './notifications.js';
import type { ThresholdsConfig } from './thresholds-config.js';

/** One command per invocation: a conditional write, a few publishes and a history write. */
export const ALARM_COMMANDS_SIZING = { memoryMb: 256, timeoutSeconds: 15 } as const;

/**
 * A command older than this is dropped by Lambda's asynchronous queue instead of being applied: the
 * operator's CLI stopped waiting long ago, and a stale snooze or disable applied late would surprise.
 */
const MAX_COMMAND_AGE = Duration.minutes(5);

export interface AlarmCommandsProps {
  readonly settings: DeploymentSettings;
  /** Absolute path of the validated thresholds file, shipped as the alarms function's is (the fallback rules). */
  readonly thresholdsFile: string;
  /** Where the rules in force are read (AppConfig). */
  readonly thresholds: ThresholdsConfig;
  readonly alarmState: ITable;
  readonly notifications: Notifications;
  /** The account's iot:Data-ATS host. */
  readonly iotDataEndpointHost: string;
  /** Where the command rule's error action puts what it could not deliver (the telemetry rule's queue). */
  readonly ruleErrors: IQueue;
}

/**
 * Operator commands on AWS (docs/architecture.md, "Alarm commands"): the alarm-history table, the
 * alarm-commands function, and the second topic rule, on `cmd/fleet/alarms/+`, whose Lambda action
 * invokes it (asynchronously: IoT does, and Lambda retries a failed invocation twice) with the
 * envelope pipeline.commandRule's SQL builds.
 *
 * The history table is partitioned by device and sorted by time (a device's history is one Query),
 * on demand, with a TTL on `expiresAt` (pipeline.alarmHistory.ttlDays) and kept when the stack is
 * deleted (it is the audit trail of who did what); it has no fixed name, so a later deploy does not
 * collide with the kept one.
 */
export class AlarmCommands extends Construct {
  public readonly history: Table;
  public readonly handler: FleetFunction;
  public readonly rule: CfnTopicRule;
  /** Assumed by IoT for the rule's error action only. */
  public readonly ruleErrorRole: Role;

  constructor(scope: Construct, id: string, props: AlarmCommandsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const keys = ALARM_HISTORY_TABLE_KEYS;

    // Build
    this.history = new Table(this, 'History', {
      partitionKey: { name: keys.partitionKey.name, type: AttributeType.STRING },
      sortKey: { name: keys.sortKey.name, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: ALARM_HISTORY_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.handler = new FleetFunction(this, 'Function', {
      name: 'alarm-commands',
      description: 'Invoked by the command rule: applies an operator command to the alarm state, records it, answers it.',
      sizing: ALARM_COMMANDS_SIZING,
      settings: props.settings,
      thresholdsFile: props.thresholdsFile,
      environment: handlerEnvironment(ALARM_COMMANDS_ENV, {
        ALARM_STATE_TABLE: props.alarmState.tableName,
        ALARM_HISTORY_TABLE: this.history.tableName,
        ALARM_TOPIC_ARN: props.notifications.alarmTopic.topicArn,
        IOT_DATA_ENDPOINT: props.iotDataEndpointHost,
        ...props.thresholds.functionEnvironment(),
      }),
    });
    this.handler.function.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: MAX_COMMAND_AGE });

    // Grant: the state it changes (conditional writes), the history, the transitions and the replies.
    const role = this.handler.role;
    role.addToPolicy(new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [props.alarmState.tableArn] }));
    this.grantHistoryWrite(this.handler);
    props.thresholds.grantRead(this.handler);
    role.addToPolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: [props.notifications.alarmTopic.topicArn] }));
    role.addToPolicy(new PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [props.notifications.key.keyArn] }));
    const topicArn = (topic: string): string => stack.formatArn({ service: 'iot', resource: 'topic', resourceName: topic });
    const published = [alarmTopic('*'), commandReplyTopic('*', 'accepted'), commandReplyTopic('*', 'rejected')];
    role.addToPolicy(new PolicyStatement({ actions: ['iot:Publish'], resources: published.map(topicArn) }));
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            `iot:Publish is limited to ${alarmTopic('<deviceId>')} and the two reply topics ${commandReplyTopic('<deviceId>', 'accepted')}|rejected; the deviceIds are the fleet, unknown at deploy time, so that level is a wildcard.`,
          appliesTo: published.map((topic) => `Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:topic/${topic}`),
        },
      ],
      true,
    );

    // Wire: the rule invokes the function; only this account's rule of this name may.
    const ruleArn = stack.formatArn({ service: 'iot', resource: 'rule', resourceName: pipeline.commandRule.name });
    this.handler.function.addPermission('InvokedByCommandRule', {
      principal: new ServicePrincipal('iot.amazonaws.com'),
      sourceArn: ruleArn,
      sourceAccount: stack.account,
    });
    this.ruleErrorRole = new Role(this, 'RuleErrorRole', {
      description: `Assumed by AWS IoT for the error action of rule ${pipeline.commandRule.name}`,
      assumedBy: new ServicePrincipal('iot.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': ruleArn },
      }),
    });
    this.ruleErrorRole.addToPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.ruleErrors.queueArn] }));
    this.rule = new CfnTopicRule(this, 'Rule', {
      ruleName: pipeline.commandRule.name,
      topicRulePayload: {
        description: 'Hands every alarm command, wrapped in an envelope with the sender client id, to the alarm-commands function.',
        sql: pipeline.commandRule.sql,
        awsIotSqlVersion: pipeline.commandRule.sqlVersion,
        ruleDisabled: false,
        actions: [{ lambda: { functionArn: this.handler.function.functionArn } }],
        errorAction: { sqs: { queueUrl: props.ruleErrors.queueUrl, roleArn: this.ruleErrorRole.roleArn, useBase64: false } },
      },
    });
    this.rule.node.addDependency(this.ruleErrorRole);
  }

  /** PutItem on the history table: every function that publishes transitions records them there too. */
  grantHistoryWrite(fn: FleetFunction): void {
    fn.role.addToPolicy(new PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [this.history.tableArn] }));
  }
}

/** The offline check's Query of the alarm-state table's wake index (devices with a snooze ending or a reminder due). */
export function wakeIndexQuery(table: ITable): PolicyStatement {
  return new PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/${ALARM_STATE_WAKE_INDEX.name}`] });
}
