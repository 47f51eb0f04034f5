/**
 * AWS composition root of the ingest function: reads the environment once at cold start (failing
 * there, naming the variable), builds the SDK clients and adapters once, and hands them to the
 * handler factory. TIME_SERIES_STORE picks the store (`-c timeSeriesStore` at deploy). Powertools
 * reads POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_LOG_LEVEL itself.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import { awsClientConfig } from '../adapters/aws/client-config.js';
import { DynamoDbTimeSeriesStore } from '../adapters/aws/dynamodb-time-series.js';
import { powertoolsLog, powertoolsMetrics, withPowertools } from '../adapters/aws/powertools.js';
import { SqsRejectSink } from '../adapters/aws/sqs-reject-sink.js';
import { TimestreamStore } from '../adapters/aws/timestream-store.js';
import { systemClock } from '../ports/clock.js';
import type { TimeSeriesStore } from '../ports/time-series-store.js';
import { readEnv } from '../common/env.js';
import { INGEST_ENV, INGEST_STORE_ENV, ingestStoreOf, retentionDaysOf, type IngestStore } from './env.js';
import { makeIngestHandler } from './ingest-handler.js';

const env = readEnv(INGEST_ENV);
const storeKind = ingestStoreOf(env.TIME_SERIES_STORE);
const logger = new Logger();
const metrics = new Metrics();

/**
 * Store writes in flight per invocation. DynamoDB takes 25 readings per request: 10 side by side
 * keep a 500-record batch to two request latencies. Timestream takes 100: 4 cover a batch.
 */
const CONCURRENT_WRITES: Record<IngestStore, number> = { dynamodb: 10, timestream: 4, none: 1 };

/** The store TIME_SERIES_STORE names; none for `none` (the function then only keeps rejects). */
function timeSeriesStore(kind: IngestStore): TimeSeriesStore | undefined {
  if (kind === 'none') return undefined;
  if (kind === 'dynamodb') {
    const store = readEnv(INGEST_STORE_ENV.dynamodb);
    return new DynamoDbTimeSeriesStore({
      client: new DynamoDBClient({ ...awsClientConfig() }),
      tableName: store.READINGS_TABLE,
      retentionDays: retentionDaysOf(store.READINGS_RETENTION_DAYS),
    });
  }
  const store = readEnv(INGEST_STORE_ENV.timestream);
  return new TimestreamStore({
    client: new TimestreamWriteClient({ ...awsClientConfig() }),
    databaseName: store.TIMESTREAM_DATABASE,
    tableName: store.TIMESTREAM_TABLE,
  });
}

/** The function's handler (ReportBatchItemFailures response). */
export const handler = withPowertools(
  makeIngestHandler({
    store: timeSeriesStore(storeKind),
    rejects: new SqsRejectSink({ client: new SQSClient({ ...awsClientConfig() }), queueUrl: env.REJECT_QUEUE_URL }),
    clock: systemClock,
    metrics: powertoolsMetrics(metrics),
    log: powertoolsLog(logger),
    maxConcurrentWrites: CONCURRENT_WRITES[storeKind],
  }),
  { logger, metrics },
);
