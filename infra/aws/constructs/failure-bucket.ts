import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

/** How long a kept failure stays: time for someone to notice, fix the cause and redrive. */
export const FAILURE_RETENTION_DAYS = 90;

/** Where Lambda writes the invocation records of the batches a stream mapping gave up on (set by Lambda). */
export const CONSUMER_FAILURES_PREFIX = 'aws/lambda/';

/** Where Timestream writes the error reports of records its magnetic store rejected. */
export const TIMESTREAM_REJECTS_PREFIX = 'timestream-magnetic-rejects/';

/** The S3 request-metrics filter covering the whole bucket: every write is something to look at. */
export const FAILURE_BUCKET_METRICS_FILTER = 'EntireBucket';

/**
 * What the pipeline could not deliver, kept whole: the stream mappings' on-failure destination and
 * Timestream's magnetic-store reject reports.
 *
 * S3 rather than SQS because, for an S3 on-failure destination, Lambda writes the whole invocation
 * record (the batch's records themselves) beside the metadata, where an SQS or SNS destination gets
 * only the metadata pointing into the stream
 * (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html).
 *
 * Encrypted with S3-managed keys (the writers need no KMS grant), TLS only, no public access,
 * objects expire after FAILURE_RETENTION_DAYS. Retained when the stack is deleted (it may hold the
 * only copy of failed readings) and, so that the next deploy is not blocked by it, without a fixed
 * name: people find it through the stack output FailureBucketName.
 */
export class FailureBucket extends Construct {
  public readonly bucket: Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-kept-failures',
          expiration: Duration.days(FAILURE_RETENTION_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // Request metrics (PutRequests per minute) so that an alarm can fire on the first write.
      metrics: [{ id: FAILURE_BUCKET_METRICS_FILTER }],
    });
    NagSuppressions.addResourceSuppressions(this.bucket, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'Written only by the two stream mappings (with the consumers\' roles) and by Timestream, read by operators redriving failures; every write raises an alarm through the bucket\'s request metrics. A second bucket for access logs would hold nothing those alarms and CloudTrail do not already say.',
      },
    ]);
  }

  /**
   * What a stream mapping needs to write its on-failure records with the function's execution
   * role: s3:PutObject on the objects and s3:ListBucket on the bucket (Lambda developer guide,
   * "Retain discarded batch records for a Kinesis Data Streams event source").
   */
  public grantFailureWrites(role: IRole): void {
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('*')] }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
  }
}
