/**
 * The AWS adapters, one per port. The composition roots (lambdas/{ingest,alarms,offline,alarm-commands}/handler.ts)
 * import the files directly, so each function's bundle holds only the SDK clients it uses.
 */
export { isTransientAwsError, retryableOr } from './aws-errors.js';
export type { TimestreamStoreOptions } from './timestream-store.js';
export { TIMESTREAM_MAX_RECORDS_PER_WRITE, TimestreamStore, UNKNOWN_TYPE, toTimestreamRecord, unwritableMetric } from './timestream-store.js';
export type { DynamoDbAlarmStateStoreOptions } from './dynamodb-alarm-state.js';
export { CorruptAlarmStateError, DynamoDbAlarmStateStore, WAKE_INDEX, alarmStateDocumentClient } from './dynamodb-alarm-state.js';
export type { DynamoDbAlarmHistoryOptions, DynamoDbAlarmReaderOptions } from './dynamodb-alarm-history.js';
export { CorruptAlarmHistoryError, DynamoDbAlarmHistory, DynamoDbAlarmReader, historyNotifier, historySortKey } from './dynamodb-alarm-history.js';
export type { IotCommandRepliesOptions } from './iot-command-replies.js';
export { IotCommandReplies } from './iot-command-replies.js';
export type { IotDataNotifierOptions } from './iot-data-notifier.js';
export { IotDataNotifier, iotDataEndpointUrl } from './iot-data-notifier.js';
export type { SnsNotifierOptions } from './sns-notifier.js';
export { SNS_MAX_BATCH_ENTRIES, SnsNotifier, alarmSubject } from './sns-notifier.js';
export type { SqsRejectSinkOptions } from './sqs-reject-sink.js';
export { NO_FIELD, SQS_MAX_BATCH_BYTES, SQS_MAX_BATCH_ENTRIES, SqsRejectSink, reasonField } from './sqs-reject-sink.js';
export { powertoolsLog, powertoolsMetrics, withPowertools } from './powertools.js';
export type { AwsClientConfig, AwsClientTimeouts } from './client-config.js';
export { AWS_CLIENT_TIMEOUTS, awsClientConfig, worstCaseCallMs } from './client-config.js';
export type { DynamoDbTimeSeriesStoreOptions, UnprocessedRetryPolicy } from './dynamodb-time-series.js';
export { DEFAULT_READINGS_RETENTION_DAYS, DYNAMODB_MAX_ITEMS_PER_BATCH, DynamoDbTimeSeriesStore, toReadingItem } from './dynamodb-time-series.js';
export type { DeviceSource, DynamoDbReadingsReaderOptions } from './dynamodb-readings-reader.js';
export { CorruptReadingItemError, DynamoDbReadingsReader, alarmStateDeviceIds, fromReadingItem } from './dynamodb-readings-reader.js';
export type { TimestreamReadingsReaderOptions } from './timestream-readings-reader.js';
export { TimestreamReadingsReader, UnexpectedTimestreamRowError } from './timestream-readings-reader.js';
export * from './dynamodb-readings-schema.js';
