/**
 * The environment the ingest function reads at cold start: the contract between its handler.ts and
 * the CDK stack (a test checks both sides). Powertools also reads POWERTOOLS_SERVICE_NAME,
 * POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_LOG_LEVEL.
 */
export const INGEST_ENV = ['TIMESTREAM_DATABASE', 'TIMESTREAM_TABLE', 'REJECT_QUEUE_URL'] as const;
