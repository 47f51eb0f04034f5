import { Duration, Stack } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IAlarm, IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { Stream } from 'aws-cdk-lib/aws-kinesis';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { METRICS_NAMESPACE } from './fleet-function.js';
import { failureBucketWrites } from './operational-alarms.js';

export interface PipelineDashboardProps {
  readonly stream: Stream;
  /** The stream's consumers (iterator age per mapping). */
  readonly consumers: readonly { readonly name: string; readonly function: IFunction }[];
  /** Every function (errors and duration). */
  readonly functions: readonly { readonly name: string; readonly function: IFunction }[];
  readonly failureBucket: IBucket;
  /** Queues of kept messages (rejects, rule errors). */
  readonly queues: readonly { readonly name: string; readonly queue: IQueue }[];
  /** The operational alarms, shown with their state. */
  readonly alarms: readonly IAlarm[];
}

const PERIOD = Duration.minutes(1);

/**
 * One page for the pipeline, top to bottom in the order a reading travels: what comes in, how far
 * behind each consumer is, whether the functions fail or slow down, what is rejected or given up
 * on, and the alarms (the operational ones with their state, the devices' raised and cleared).
 */
export class PipelineDashboard extends Construct {
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${stack.stackName}-pipeline`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# Fleet telemetry pipeline\nDevices → IoT rule → Kinesis → ingest / alarms consumers. Iterator age is how far a consumer is behind; anything in the failure bucket was given up on and can be redriven (`npm run redrive`).',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(...intakeRow(props));
    this.dashboard.addWidgets(...functionsRow(props));
    this.dashboard.addWidgets(...rejectsRow(props));
    this.dashboard.addWidgets(
      graph('Device alarm transitions', [
        ownMetric(METRIC.alarmsRaised, 'raised'),
        ownMetric(METRIC.alarmsCleared, 'cleared'),
      ]),
      new AlarmStatusWidget({ title: 'Operational alarms', alarms: [...props.alarms], width: 12, height: 6 }),
    );
  }

  /** The console address of the dashboard, for the stack output. */
  public url(): string {
    const region = Stack.of(this).region;
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;
  }
}

function graph(title: string, left: IMetric[], options: { right?: IMetric[]; leftLabel?: string } = {}): GraphWidget {
  return new GraphWidget({
    title,
    left,
    ...(options.right === undefined ? {} : { right: options.right }),
    ...(options.leftLabel === undefined ? {} : { leftYAxis: { label: options.leftLabel, showUnits: false } }),
    width: 12,
    height: 6,
  });
}

/** Our own EMF metrics carry Powertools' service dimension: a search finds them whatever it is. */
function ownMetric(metricName: string, label: string): MathExpression {
  return new MathExpression({
    expression: `SUM(SEARCH('{${METRICS_NAMESPACE}} MetricName="${metricName}"', 'Sum', ${PERIOD.toSeconds()}))`,
    label,
    period: PERIOD,
  });
}

/** What comes in (and what the stream refuses), and how far behind each consumer is. */
function intakeRow(props: PipelineDashboardProps): GraphWidget[] {
  const streamMetric = (metricName: string, label: string): Metric =>
    new Metric({
      namespace: 'AWS/Kinesis',
      metricName,
      dimensionsMap: { StreamName: props.stream.streamName },
      statistic: 'Sum',
      period: PERIOD,
      label,
    });
  return [
    graph('Ingest rate (records put on the stream per minute)', [streamMetric('IncomingRecords', 'incoming records')], {
      right: [streamMetric('WriteProvisionedThroughputExceeded', 'write throttles')],
    }),
    graph(
      'Iterator age per mapping (ms, maximum)',
      props.consumers.map((c) => c.function.metric('IteratorAge', { statistic: 'Maximum', period: PERIOD, label: c.name })),
    ),
  ];
}

function functionsRow(props: PipelineDashboardProps): GraphWidget[] {
  return [
    graph(
      'Function errors (whole invocations)',
      props.functions.map((f) => f.function.metricErrors({ statistic: 'Sum', period: PERIOD, label: f.name })),
    ),
    graph(
      'Function duration (ms, maximum)',
      props.functions.map((f) => f.function.metricDuration({ statistic: 'Maximum', period: PERIOD, label: f.name })),
    ),
  ];
}

/** What is rejected or retried, and what was given up on. */
function rejectsRow(props: PipelineDashboardProps): GraphWidget[] {
  return [
    graph(
      'Rejects and retries',
      [ownMetric(METRIC.readingsRejected, 'readings rejected'), ownMetric(METRIC.recordsRetried, 'records retried')],
      {
        right: props.queues.map(({ name, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: PERIOD, label: `${name} queue depth` }),
        ),
      },
    ),
    graph(
      'Failure destination (objects written; objects kept, daily)',
      [failureBucketWrites(props.failureBucket, PERIOD).with({ label: 'objects written' })],
      {
        right: [
          new Metric({
            namespace: 'AWS/S3',
            metricName: 'NumberOfObjects',
            dimensionsMap: { BucketName: props.failureBucket.bucketName, StorageType: 'AllStorageTypes' },
            statistic: 'Average',
            period: Duration.days(1),
            label: 'objects kept',
          }),
        ],
      },
    ),
  ];
}
