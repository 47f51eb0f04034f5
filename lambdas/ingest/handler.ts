/**
 * AWS composition root of the ingest function: reads the environment once at cold start (failing
 * there, naming the variable), builds the SDK clients and adapters once, and hands them to the
 * handler factory. Powertools reads POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and
 * POWERTOOLS_LOG_LEVEL itself.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import { awsClientConfig } from '../adapters/aws/client-config.js';
import { powertoolsLog, powertoolsMetrics, withPowertools } from '../adapters/aws/powertools.js';
import { SqsRejectSink } from '../adapters/aws/sqs-reject-sink.js';
import { TimestreamStore } from '../adapters/aws/timestream-store.js';
import { systemClock } from '../ports/clock.js';
import { readEnv } from '../shared/env.js';
import { INGEST_ENV } from './env.js';
import { makeIngestHandler } from './ingest-handler.js';

const env = readEnv(INGEST_ENV);
const logger = new Logger();
const metrics = new Metrics();

/** The function's handler (ReportBatchItemFailures response). */
export const handler = withPowertools(
  makeIngestHandler({
    store: new TimestreamStore({
      client: new TimestreamWriteClient({ ...awsClientConfig() }),
      databaseName: env.TIMESTREAM_DATABASE,
      tableName: env.TIMESTREAM_TABLE,
    }),
    rejects: new SqsRejectSink({ client: new SQSClient({ ...awsClientConfig() }), queueUrl: env.REJECT_QUEUE_URL }),
    clock: systemClock,
    metrics: powertoolsMetrics(metrics),
    log: powertoolsLog(logger),
  }),
  { logger, metrics },
);
