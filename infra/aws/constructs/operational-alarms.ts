import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Stream } from 'aws-cdk-lib/aws-kinesis';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { pipeline } from '../../pipeline.js';
import { FAILURE_BUCKET_METRICS_FILTER } from './failure-bucket.js';

/** Every alarm of the stack is named with this prefix; the operations topic lets exactly these publish. */
export const OPS_ALARM_NAME_PREFIX = `${pipeline.name}-`;

/** The S3 request metric that counts writes to the failure bucket (its metrics filter must exist). */
export function failureBucketWrites(bucket: IBucket, period: Duration): Metric {
  return new Metric({
    namespace: 'AWS/S3',
    metricName: 'PutRequests',
    dimensionsMap: { BucketName: bucket.bucketName, FilterId: FAILURE_BUCKET_METRICS_FILTER },
    statistic: 'Sum',
    period,
  });
}

export interface StreamConsumerWatch {
  readonly name: string;
  readonly function: IFunction;
  /** Alarm when the oldest record the mapping has not processed is older than this. */
  readonly maxIteratorAge: Duration;
}

export interface OperationalAlarmsProps {
  readonly stream: Stream;
  /** The stream's consumers: iterator age and errors of each. */
  readonly consumers: readonly StreamConsumerWatch[];
  /** Other functions whose errors matter (the offline check). */
  readonly functions: readonly { readonly name: string; readonly function: IFunction }[];
  /** Queues of kept messages: any message waiting there wants a person. */
  readonly queues: readonly { readonly name: string; readonly queue: IQueue }[];
  /** Functions that must finish well within a period (the scheduled offline check). */
  readonly durations: readonly { readonly name: string; readonly function: IFunction; readonly maxDuration: Duration }[];
  /** The failure bucket: any object written there (a batch given up on, a Timestream reject) wants a person. */
  readonly failureBucket: IBucket;
  /** Tables whose throttled requests delay the pipeline (the provisioned alarm-state table). */
  readonly tables: readonly { readonly name: string; readonly table: ITable }[];
  /** Where every alarm (and its recovery) is sent. */
  readonly topic: ITopic;
}

/**
 * The stack's CloudWatch alarms, each sent to the operations topic on ALARM and on OK:
 * - a consumer falling behind: Lambda's IteratorAge (ms) for a stream event source mapping;
 * - a function failing whole invocations: Errors > 0 (record-level problems are reported as batch
 *   item failures or rejects, so a function error is a bug or an outage);
 * - a kept-messages queue that is not empty (rejects, rule errors);
 * - anything written to the failure bucket (S3 request metrics: PutRequests);
 * - the offline check running too long for its schedule (Duration, Maximum);
 * - the stream refusing writes (WriteProvisionedThroughputExceeded): time to add shards.
 * Missing data is not breaching: an idle fleet is not an outage.
 */
export class OperationalAlarms extends Construct {
  public readonly alarms: Alarm[] = [];
  private readonly topic: ITopic;

  constructor(scope: Construct, id: string, props: OperationalAlarmsProps) {
    super(scope, id);
    this.topic = props.topic;
    this.watchIteratorAges(props.consumers);
    this.watchErrors([...props.consumers, ...props.functions]);
    this.watchQueues(props.queues);
    this.watchDurations(props.durations);
    this.watchThrottledTables(props.tables);
    this.addAlarm(
      'failure-bucket-writes',
      'Something was written to the failure bucket: a batch a stream mapping gave up on, or a Timestream magnetic-store reject report. Read it, fix the cause, redrive (npm run redrive).',
      failureBucketWrites(props.failureBucket, Duration.minutes(5)),
      1,
    );
    this.watchStreamWrites(props.stream);
  }

  private addAlarm(alarmId: string, description: string, metric: IMetric, threshold: number, periods = 1): void {
    const alarm = new Alarm(this, alarmId, {
      alarmName: `${OPS_ALARM_NAME_PREFIX}${alarmId}`,
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods: periods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }

  private watchIteratorAges(consumers: readonly StreamConsumerWatch[]): void {
    for (const consumer of consumers) {
      this.addAlarm(
        `${consumer.name}-iterator-age`,
        `The ${consumer.name} consumer is more than ${consumer.maxIteratorAge.toHumanString()} behind the stream.`,
        consumer.function.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
        consumer.maxIteratorAge.toMilliseconds(),
        3,
      );
    }
  }

  private watchErrors(functions: OperationalAlarmsProps['functions']): void {
    for (const fn of functions) {
      this.addAlarm(
        `${fn.name}-errors`,
        `The ${fn.name} function failed whole invocations (see its logs).`,
        fn.function.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) }),
        1,
      );
    }
  }

  private watchQueues(queues: OperationalAlarmsProps['queues']): void {
    for (const { name, queue } of queues) {
      this.addAlarm(
        `${name}-queue-depth`,
        `Messages are waiting in the ${name} queue: read them, fix the cause, replay what should be kept.`,
        queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
        1,
      );
    }
  }

  private watchDurations(durations: OperationalAlarmsProps['durations']): void {
    for (const fn of durations) {
      this.addAlarm(
        `${fn.name}-duration`,
        `The ${fn.name} function ran longer than ${fn.maxDuration.toHumanString()} twice in a row: it is close to overrunning its schedule.`,
        fn.function.metricDuration({ statistic: 'Maximum', period: Duration.minutes(1) }),
        fn.maxDuration.toMilliseconds(),
        2,
      );
    }
  }

  private watchThrottledTables(tables: OperationalAlarmsProps['tables']): void {
    for (const { name, table } of tables) {
      const period = Duration.minutes(5);
      this.addAlarm(
        `${name}-throttled`,
        `The ${name} table throttled requests for 15 minutes: the work is retried, so it is late, not lost. Raise its maximum capacity (alarmStateMaxCapacity) or deploy it on demand (alarmStateCapacity=on-demand).`,
        new MathExpression({
          label: `${name} requests throttled`,
          expression: 'reads + writes',
          usingMetrics: {
            reads: table.metric('ReadThrottleEvents', { statistic: 'Sum', period }),
            writes: table.metric('WriteThrottleEvents', { statistic: 'Sum', period }),
          },
          period,
        }),
        1,
        3,
      );
    }
  }

  private watchStreamWrites(stream: Stream): void {
    this.addAlarm(
      'stream-write-throttles',
      'The stream refused writes (WriteProvisionedThroughputExceeded): add shards (pipeline.stream.shardCount) or use on-demand mode.',
      new Metric({
        namespace: 'AWS/Kinesis',
        metricName: 'WriteProvisionedThroughputExceeded',
        dimensionsMap: { StreamName: stream.streamName },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      1,
    );
  }
}
