import { Annotations, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-timestream';
import { NagSuppressions } from 'cdk-nag';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface TimeSeriesDatabaseProps {
  /** Memory-store retention, hours (Timestream allows 1 to 8766). */
  readonly memoryRetentionHours: number;
  /** Magnetic-store retention, days (Timestream allows 1 to 73000). */
  readonly magneticRetentionDays: number;
  /** Where Timestream writes its reports of records the magnetic store rejected. */
  readonly rejectedData: { readonly bucket: IBucket; readonly prefix: string };
}

/** Printed at synth: the service's availability decides whether this construct can deploy at all. */
export const TIMESTREAM_AVAILABILITY_NOTE =
  'Amazon Timestream for LiveAnalytics has been closed to new AWS customers since 2025-06-20 (accounts that already use it keep it). If CloudFormation cannot create the Timestream database, deploy with -c timeSeriesStore=none: the alarms pipeline runs without the time-series store and its ingest function.';

/**
 * The time series: a Timestream for LiveAnalytics database and table. Readings land in the memory
 * store; magnetic-store writes are on, so a reading older than the memory retention (a device that
 * buffered while offline) is stored rather than rejected (docs timestream "magnetic store writes").
 * Magnetic-store writes are asynchronous: WriteRecords succeeds and a record rejected later (a
 * newer version already stored, say) is reported only to MagneticStoreRejectedDataLocation, so the
 * table names an S3 location for those reports instead of letting them vanish
 * (https://docs.aws.amazon.com/timestream/latest/developerguide/API_MagneticStoreRejectedDataLocation.html).
 *
 * Both are retained when the stack is deleted (they hold the data) and have no fixed names, so a
 * deploy after a destroy creates new ones instead of failing on the names still taken; the ingest
 * function gets the names in its environment and people from the stack outputs.
 */
export class TimeSeriesDatabase extends Construct {
  public readonly database: CfnDatabase;
  public readonly table: CfnTable;
  /** The generated names, resolved at deploy time. */
  public readonly databaseName: string;
  public readonly tableName: string;

  constructor(scope: Construct, id: string, props: TimeSeriesDatabaseProps) {
    super(scope, id);
    this.database = new CfnDatabase(this, 'Database', {});
    this.database.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.table = new CfnTable(this, 'Table', {
      databaseName: this.database.ref,
      retentionProperties: {
        MemoryStoreRetentionPeriodInHours: String(props.memoryRetentionHours),
        MagneticStoreRetentionPeriodInDays: String(props.magneticRetentionDays),
      },
      magneticStoreWriteProperties: {
        EnableMagneticStoreWrites: true,
        MagneticStoreRejectedDataLocation: {
          S3Configuration: {
            BucketName: props.rejectedData.bucket.bucketName,
            ObjectKeyPrefix: props.rejectedData.prefix,
            // The bucket's own default encryption (S3-managed keys): Timestream needs no KMS grant.
            EncryptionOption: 'SSE_S3',
          },
        },
      },
    });
    this.table.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.databaseName = this.database.ref;
    this.tableName = this.table.attrName;

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
