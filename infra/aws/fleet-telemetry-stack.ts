import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { ALARMS_ENV } from '../../lambdas/alarms/env.js';
import { ingestEnv, type INGEST_STORE_ENV } from '../../lambdas/ingest/env.js';
import { OFFLINE_ENV } from '../../lambdas/offline/env.js';
import { alarmTopic, commandTopic, pipeline } from '../pipeline.js';
import { AlarmCommands, wakeIndexQuery } from './constructs/alarm-commands.js';
import { DeviceAccess } from './constructs/device-access.js';
import { FailureBucket, TIMESTREAM_REJECTS_PREFIX } from './constructs/failure-bucket.js';
import { FleetFunction, handlerEnvironment } from './constructs/fleet-function.js';
import { IotDataEndpoint } from './constructs/iot-data-endpoint.js';
import { keptMessagesQueue } from './constructs/kept-messages-queue.js';
import { KinesisConsumer } from './constructs/kinesis-consumer.js';
import { Notifications } from './constructs/notifications.js';
import { AlarmStateTable } from './constructs/alarm-state-table.js';
import { OPS_ALARM_NAME_PREFIX, OperationalAlarms } from './constructs/operational-alarms.js';
import type { StreamConsumerWatch } from './constructs/operational-alarms.js';
import { PipelineDashboard } from './constructs/pipeline-dashboard.js';
import { ReadingsTable } from './constructs/readings-table.js';
import { TelemetryIngress } from './constructs/telemetry-ingress.js';
import { ThresholdsConfig } from './constructs/thresholds-config.js';
import { TimeSeriesDatabase } from './constructs/time-series-database.js';
import type { DeploymentSettings } from './deployment-settings.js';
import { FUNCTION_SIZING } from './function-sizing.js';
import { STACK_OUTPUT } from './stack-outputs.js';

export interface FleetTelemetryStackProps extends StackProps {
  readonly settings: DeploymentSettings;
  /**
   * Absolute path of the thresholds file, already validated: the first version in AppConfig, and
   * shipped in the alarm functions' bundles as their rules until they have read AppConfig.
   */
  readonly thresholdsFile: string;
}

/** What the ingest function needs of its time-series store: a name, its environment, its write grant. */
interface TimeSeriesStoreWiring<Kind extends keyof typeof INGEST_STORE_ENV> {
  readonly name: string;
  readonly readingsTable?: ReadingsTable;
  readonly environment: Readonly<Record<(typeof INGEST_STORE_ENV)[Kind][number], string>>;
  grantWrite(fn: FleetFunction): void;
}

/** The ingest consumer as the rest of the stack sees it. */
interface IngestConsumer {
  readonly function: FleetFunction;
  readonly rejects: Queue;
  readonly readings?: ReadingsTable;
}

/** `timeSeriesStore=none`: nothing to create, name or grant. */
const NO_TIME_SERIES_STORE: TimeSeriesStoreWiring<'none'> = {
  name: 'no time-series store',
  environment: {},
  grantWrite: () => {},
};

/**
 * How far behind the stream each consumer may fall before someone is told: minutes, where the
 * mappings give up on a record only after a day (alarms) or three (ingest), so people hear of an
 * outage long before anything is discarded.
 */
export const MAX_ITERATOR_AGE = { ingest: Duration.minutes(5), alarms: Duration.minutes(1) } as const;

/**
 * The offline check must finish well within its schedule; past half of it, the next fleet
 * doubling would make runs overlap.
 */
export const OFFLINE_CHECK_MAX_DURATION = Duration.seconds((pipeline.offlineCheck.everyMinutes * 60) / 2);

/**
 * The whole pipeline on AWS, built from infra/pipeline.ts: IoT Core (policies, thing type, topic
 * rule) -> Kinesis -> two consumers (ingest -> DynamoDB or Timestream, alarms -> DynamoDB + IoT/SNS), the
 * scheduled offline check, the bucket and queues that keep what could not be used, and the alarms
 * and dashboard on all of it.
 *
 * Retained resources (tables, the failure bucket, Timestream) have no fixed physical names, so that
 * `cdk destroy` then `cdk deploy` creates new ones instead of failing on names still taken; the
 * functions get the names in their environment and people get them from the stack outputs.
 */
export class FleetTelemetryStack extends Stack {
  public readonly ingress: TelemetryIngress;
  public readonly alarmState: Table;
  public readonly notifications: Notifications;
  /** Runs with every store; with `timeSeriesStore=none` it only keeps rejects. */
  public readonly ingest: FleetFunction;
  /** Present with `timeSeriesStore=dynamodb` (the default). */
  public readonly readings?: ReadingsTable;
  public readonly alarms: FleetFunction;
  public readonly alarmCommands: AlarmCommands;
  public readonly offline: FleetFunction;
  public readonly operationalAlarms: OperationalAlarms;
  public readonly failures: FailureBucket;
  public readonly dashboard: PipelineDashboard;
  /** The threshold rules in AppConfig, read by the alarms, offline and alarm-commands functions. */
  public readonly thresholds: ThresholdsConfig;

  constructor(scope: Construct, id: string, props: FleetTelemetryStackProps) {
    super(scope, id, props);
    const { settings } = props;

    // Build: devices -> stream
    this.ingress = new TelemetryIngress(this, 'Ingress', {
      streamMode: settings.streamMode,
      retentionHours: settings.streamRetentionHours,
    });
    const deviceAccess = new DeviceAccess(this, 'DeviceAccess');

    // Build: state, notifications, kept failures, the rules in force
    this.notifications = new Notifications(this, 'Notifications', {
      ...(settings.alarmEmail === undefined ? {} : { alarmEmail: settings.alarmEmail }),
      ...(settings.opsEmail === undefined ? {} : { opsEmail: settings.opsEmail }),
      opsAlarmNamePrefix: OPS_ALARM_NAME_PREFIX,
    });
    this.alarmState = new AlarmStateTable(this, 'AlarmStateCapacity', 'AlarmState', { settings }).table;
    this.failures = new FailureBucket(this, 'FailureBucket');
    const endpoint = new IotDataEndpoint(this, 'IotDataEndpoint', {
      ...(settings.iotDataEndpoint === undefined ? {} : { host: settings.iotDataEndpoint }),
    });
    this.thresholds = new ThresholdsConfig(this, 'ThresholdsConfig', { thresholdsFile: props.thresholdsFile });

    // Build + grant + wire: operator commands (issue 13): the history table, the command rule and its function
    this.alarmCommands = new AlarmCommands(this, 'AlarmCommands', {
      settings,
      thresholdsFile: props.thresholdsFile,
      thresholds: this.thresholds,
      alarmState: this.alarmState,
      notifications: this.notifications,
      iotDataEndpointHost: endpoint.host,
      ruleErrors: this.ingress.ruleErrors,
    });

    // Build + grant + wire: the two stream consumers and the scheduled offline check
    const ingest = this.ingestConsumer(settings);
    this.ingest = ingest.function;
    this.readings = ingest.readings;
    const alarmFunctions = this.alarmFunctions(props, endpoint.host);
    this.alarms = alarmFunctions.alarms;
    this.offline = alarmFunctions.offline;

    // Alarms on all of it
    const watched = this.watch(ingest);
    this.operationalAlarms = watched.operationalAlarms;
    this.dashboard = watched.dashboard;

    this.addOutputs(deviceAccess, endpoint.host);
  }

  /**
   * The ingest consumer with its store, its rejects queue and its mapping. With timeSeriesStore=none it
   * still runs, without a store: it is what keeps a malformed message, with its reason, in the rejects
   * queue (the alarms consumer only skips it).
   */
  private ingestConsumer(settings: DeploymentSettings): IngestConsumer {
    const kind = settings.timeSeriesStore;
    const store =
      kind === 'dynamodb'
        ? this.dynamoDbTimeSeries(settings)
        : kind === 'timestream'
          ? this.timestreamTimeSeries(settings)
          : NO_TIME_SERIES_STORE;
    const rejects = keptMessagesQueue(this, 'Rejects', {
      queueName: `${pipeline.name}-rejects`,
      holds: 'messages that broke the telemetry contract, with their reason and original payload',
    });
    const ingest = new FleetFunction(this, 'Ingest', {
      name: 'ingest',
      description:
        kind === 'none'
          ? 'Stream consumer: decodes readings and keeps rejects (timeSeriesStore=none: no store).'
          : `Stream consumer: decodes readings, writes them to ${store.name}, keeps rejects.`,
      sizing: FUNCTION_SIZING.ingest,
      settings,
      environment: handlerEnvironment<string>(ingestEnv(kind), {
        TIME_SERIES_STORE: kind,
        REJECT_QUEUE_URL: rejects.queueUrl,
        ...store.environment,
      }),
    });
    store.grantWrite(ingest);
    ingest.role.addToPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [rejects.queueArn] }));
    new KinesisConsumer(this, 'IngestMapping', {
      stream: this.ingress.stream,
      consumer: ingest,
      settings: pipeline.consumers.ingest,
      onFailure: this.failures,
    });
    return { function: ingest, rejects, ...(store.readingsTable === undefined ? {} : { readings: store.readingsTable }) };
  }

  /**
   * The alarms consumer and the offline check: one environment (state, history, topic, endpoint, the
   * rules in AppConfig), each its grants. The offline check runs every minute whatever the rules say:
   * snoozes and reminders need it, and a silentFor rule deployed later through AppConfig must find it
   * running (with no silence rule it only queries the wake index).
   */
  private alarmFunctions(props: FleetTelemetryStackProps, iotDataEndpointHost: string): { alarms: FleetFunction; offline: FleetFunction } {
    const { settings } = props;
    const notifierEnvironment = {
      ALARM_STATE_TABLE: this.alarmState.tableName,
      ALARM_HISTORY_TABLE: this.alarmCommands.history.tableName,
      ALARM_TOPIC_ARN: this.notifications.alarmTopic.topicArn,
      IOT_DATA_ENDPOINT: iotDataEndpointHost,
      ...this.thresholds.functionEnvironment(),
    };
    const alarms = new FleetFunction(this, 'Alarms', {
      name: 'alarms',
      description: 'Stream consumer: evaluates threshold rules, keeps alarm state, publishes transitions.',
      sizing: FUNCTION_SIZING.alarms,
      settings,
      thresholdsFile: props.thresholdsFile,
      environment: handlerEnvironment(ALARMS_ENV, notifierEnvironment),
    });
    const offline = new FleetFunction(this, 'Offline', {
      name: 'offline',
      description: 'Scheduled: raises the silentFor alarms of devices that stopped sending.',
      sizing: FUNCTION_SIZING.offline,
      settings,
      thresholdsFile: props.thresholdsFile,
      environment: handlerEnvironment(OFFLINE_ENV, notifierEnvironment),
    });
    this.grantNotifier(alarms, { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'] });
    // The offline check scans for devices whose lastSeen is old (DynamoDbAlarmStateStore.listSeenBefore).
    this.grantNotifier(offline, { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan'] });
    // Both record the transitions they publish; the check also visits the devices whose wakeAt came.
    this.alarmCommands.grantHistoryWrite(alarms);
    this.alarmCommands.grantHistoryWrite(offline);
    offline.role.addToPolicy(wakeIndexQuery(this.alarmState));
    this.thresholds.grantRead(alarms);
    this.thresholds.grantRead(offline);

    new KinesisConsumer(this, 'AlarmsMapping', {
      stream: this.ingress.stream,
      consumer: alarms,
      settings: pipeline.consumers.alarms,
      onFailure: this.failures,
    });
    new Rule(this, 'OfflineCheckSchedule', {
      description: 'Runs the offline check (silentFor rules).',
      schedule: Schedule.rate(Duration.minutes(pipeline.offlineCheck.everyMinutes)),
      // The next run comes within minutes; a retried stale run would only repeat it.
      targets: [new LambdaFunction(offline.function, { retryAttempts: 0 })],
    });
    offline.function.configureAsyncInvoke({ retryAttempts: 0 });
    return { alarms, offline };
  }

  /** The operational alarms (to the ops topic) and the dashboard, over everything built above. */
  private watch(ingest: IngestConsumer): { operationalAlarms: OperationalAlarms; dashboard: PipelineDashboard } {
    const stream = this.ingress.stream;
    const consumers: StreamConsumerWatch[] = [
      { name: 'ingest', function: ingest.function.function, maxIteratorAge: MAX_ITERATOR_AGE.ingest },
      { name: 'alarms', function: this.alarms.function, maxIteratorAge: MAX_ITERATOR_AGE.alarms },
    ];
    const queues = [
      { name: 'rejects', queue: ingest.rejects },
      { name: 'rule-errors', queue: this.ingress.ruleErrors },
    ];
    const operationalAlarms = new OperationalAlarms(this, 'OperationalAlarms', {
      stream,
      consumers,
      functions: [
        { name: 'offline', function: this.offline.function },
        // An operator's command that keeps failing is answered by nobody: someone must hear of it.
        { name: 'alarm-commands', function: this.alarmCommands.handler.function },
      ],
      queues,
      durations: [{ name: 'offline', function: this.offline.function, maxDuration: OFFLINE_CHECK_MAX_DURATION }],
      failureBucket: this.failures.bucket,
      tables: [{ name: 'alarm-state', table: this.alarmState }],
      topic: this.notifications.opsTopic,
    });
    const staleRules = this.thresholds.addStaleRulesAlarm(
      [this.alarms, this.offline, this.alarmCommands.handler],
      this.notifications.opsTopic,
      OPS_ALARM_NAME_PREFIX,
    );
    const dashboard = new PipelineDashboard(this, 'Dashboard', {
      stream,
      consumers,
      functions: [
        ...consumers,
        { name: 'offline', function: this.offline.function },
        { name: 'alarm-commands', function: this.alarmCommands.handler.function },
      ],
      failureBucket: this.failures.bucket,
      queues,
      alarms: [...operationalAlarms.alarms, staleRules],
    });
    return { operationalAlarms, dashboard };
  }

  /** What a user and the command lines need after deploying (STACK_OUTPUT in stack-outputs.ts). */
  private addOutputs(deviceAccess: DeviceAccess, iotDataEndpointHost: string): void {
    new CfnOutput(this, STACK_OUTPUT.streamName, { value: this.ingress.stream.streamName });
    new CfnOutput(this, STACK_OUTPUT.failureBucketName, {
      value: this.failures.bucket.bucketName,
      description: 'Batches the stream mappings gave up on (aws/lambda/...) and Timestream magnetic-store rejects.',
    });
    new CfnOutput(this, STACK_OUTPUT.alarmStateTableName, { value: this.alarmState.tableName });
    new CfnOutput(this, STACK_OUTPUT.alarmHistoryTableName, {
      value: this.alarmCommands.history.tableName,
      description: 'Every alarm transition and operator command, by device (Query on deviceId).',
    });
    new CfnOutput(this, 'DashboardUrl', { value: this.dashboard.url() });
    new CfnOutput(this, 'DevicePolicyName', {
      value: deviceAccess.devicePolicy.ref,
      description: 'Attach to each device certificate; the thing name must equal the deviceId.',
    });
    new CfnOutput(this, 'OperatorPolicyName', {
      value: deviceAccess.operatorPolicy.ref,
      description: `Attach to an operator certificate: subscribe to ${pipeline.topics.alarmsFilter}, publish commands on ${commandTopic('<deviceId>')}, receive their replies.`,
    });
    new CfnOutput(this, 'ThingTypeName', { value: deviceAccess.thingType.ref });
    new CfnOutput(this, 'IotDataEndpointHost', { value: iotDataEndpointHost, description: 'Devices connect here (port 8883).' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.notifications.alarmTopic.topicArn });
    new CfnOutput(this, 'OpsTopicArn', { value: this.notifications.opsTopic.topicArn });
    new CfnOutput(this, STACK_OUTPUT.thresholdsApplicationId, {
      value: this.thresholds.application.applicationId,
      description: 'The AppConfig application of the threshold rules (npm run thresholds -- deploy FILE --target aws).',
    });
    new CfnOutput(this, STACK_OUTPUT.thresholdsEnvironmentId, { value: this.thresholds.environment.environmentId });
    new CfnOutput(this, STACK_OUTPUT.thresholdsProfileId, { value: this.thresholds.profile.configurationProfileId });
    new CfnOutput(this, STACK_OUTPUT.thresholdsDeploymentStrategyId, { value: this.thresholds.strategy.deploymentStrategyId });
  }

  /** The DynamoDB readings table (the default store, for every account) and its stack output. */
  private dynamoDbTimeSeries(settings: DeploymentSettings): TimeSeriesStoreWiring<'dynamodb'> {
    const readings = new ReadingsTable(this, 'Readings');
    new CfnOutput(this, 'ReadingsTableName', {
      value: readings.table.tableName,
      description: 'The DynamoDB readings table (npm run query -- readings --target aws reads it).',
    });
    return {
      name: 'the DynamoDB readings table',
      readingsTable: readings,
      environment: { READINGS_TABLE: readings.table.tableName, READINGS_RETENTION_DAYS: String(settings.readingsRetentionDays) },
      grantWrite: (fn) =>
        // PutItem: a batch DynamoDB refuses for a data reason is rewritten item by item.
        fn.role.addToPolicy(
          new PolicyStatement({ actions: ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'], resources: [readings.table.tableArn] }),
        ),
    };
  }

  /** The Timestream for LiveAnalytics database and table (accounts that already have the service) and their outputs. */
  private timestreamTimeSeries(settings: DeploymentSettings): TimeSeriesStoreWiring<'timestream'> {
    const timeSeries = new TimeSeriesDatabase(this, 'TimeSeries', {
      memoryRetentionHours: settings.timestreamMemoryRetentionHours,
      magneticRetentionDays: settings.timestreamMagneticRetentionDays,
      rejectedData: { bucket: this.failures.bucket, prefix: TIMESTREAM_REJECTS_PREFIX },
    });
    new CfnOutput(this, 'TimestreamDatabaseName', { value: timeSeries.databaseName });
    new CfnOutput(this, 'TimestreamTableName', { value: timeSeries.tableName });
    return {
      name: 'Timestream',
      environment: { TIMESTREAM_DATABASE: timeSeries.databaseName, TIMESTREAM_TABLE: timeSeries.tableName },
      grantWrite: (fn) => {
        fn.role.addToPolicy(new PolicyStatement({ actions: ['timestream:WriteRecords'], resources: [timeSeries.table.attrArn] }));
        // Timestream clients must discover their endpoint; DescribeEndpoints has no resource scope.
        fn.role.addToPolicy(new PolicyStatement({ actions: ['timestream:DescribeEndpoints'], resources: ['*'] }));
        NagSuppressions.addResourceSuppressions(
          fn.role,
          [
            {
              id: 'AwsSolutions-IAM5',
              reason:
                'timestream:DescribeEndpoints (endpoint discovery, required before WriteRecords) supports no resource-level permissions, so it must name "*"; WriteRecords itself is scoped to the one table.',
              appliesTo: ['Resource::*'],
            },
          ],
          true,
        );
      },
    };
  }

  /** DynamoDB on the alarm-state table, SNS on the alarm topic, IoT Publish on the alarm topics. */
  private grantNotifier(fn: FleetFunction, dynamo: { readonly actions: readonly string[] }): void {
    fn.role.addToPolicy(new PolicyStatement({ actions: [...dynamo.actions], resources: [this.alarmState.tableArn] }));
    fn.role.addToPolicy(
      new PolicyStatement({ actions: ['sns:Publish'], resources: [this.notifications.alarmTopic.topicArn] }),
    );
    // An SSE topic needs the publisher to use its key (docs sns/latest/dg/sns-key-management).
    fn.role.addToPolicy(
      new PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [this.notifications.key.keyArn] }),
    );
    const alarmTopics = this.formatArn({ service: 'iot', resource: 'topic', resourceName: alarmTopic('*') });
    fn.role.addToPolicy(new PolicyStatement({ actions: ['iot:Publish'], resources: [alarmTopics] }));
    NagSuppressions.addResourceSuppressions(
      fn.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            `iot:Publish is limited to the alarm topics ${alarmTopic('<deviceId>')}; the deviceIds are the fleet, unknown at deploy time, so the last topic level is a wildcard. No other topic is allowed.`,
          appliesTo: [`Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:topic/${alarmTopic('*')}`],
        },
      ],
      true,
    );
  }
}
