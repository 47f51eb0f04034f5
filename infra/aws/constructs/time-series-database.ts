import { Annotations, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-timestream';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { pipeline } from '../../pipeline.js';

export interface TimeSeriesDatabaseProps {
  /** Memory-store retention, hours (Timestream allows 1 to 8766). */
  readonly memoryRetentionHours: number;
  /** Magnetic-store retention, days (Timestream allows 1 to 73000). */
  readonly magneticRetentionDays: number;
}

/** Printed at synth: the service's availability decides whether this construct can deploy at all. */
export const TIMESTREAM_AVAILABILITY_NOTE =
  'Amazon Timestream for LiveAnalytics has been closed to new AWS customers since 2025-06-20 (accounts that already use it keep it). If CloudFormation cannot create the Timestream database, deploy with -c timeSeriesStore=none: the alarms pipeline runs without the time-series store and its ingest function.';

/**
 * The time series: a Timestream for LiveAnalytics database and table named by the pipeline
 * definition. Readings land in the memory store; magnetic-store writes are on, so a reading older
 * than the memory retention (a device that buffered while offline) is stored rather than rejected
 * (docs timestream "magnetic store writes"). Both are retained when the stack is deleted: they hold
 * the data.
 */
export class TimeSeriesDatabase extends Construct {
  public readonly database: CfnDatabase;
  public readonly table: CfnTable;

  constructor(scope: Construct, id: string, props: TimeSeriesDatabaseProps) {
    super(scope, id);
    this.database = new CfnDatabase(this, 'Database', { databaseName: pipeline.tables.timestreamDatabase });
    this.database.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.table = new CfnTable(this, 'Table', {
      databaseName: pipeline.tables.timestreamDatabase,
      tableName: pipeline.tables.timestreamTable,
      retentionProperties: {
        MemoryStoreRetentionPeriodInHours: String(props.memoryRetentionHours),
        MagneticStoreRetentionPeriodInDays: String(props.magneticRetentionDays),
      },
      magneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
    });
    this.table.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.table.node.addDependency(this.database);

    Annotations.of(this).addInfo(TIMESTREAM_AVAILABILITY_NOTE);
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W3697',
      reason:
        'Timestream for LiveAnalytics is in maintenance mode: chosen on purpose for accounts that have it; the note above and -c timeSeriesStore=none cover the others.',
    });
    NagSuppressions.addResourceSuppressions(this.database, [
      {
        id: 'AwsSolutions-TS3',
        reason:
          'Encrypted at rest with the AWS managed Timestream key. A customer managed key would add a key policy the functions and Timestream must agree on, for no access-control gain: only the ingest role may write, and nothing else is granted.',
      },
    ]);
  }
}
