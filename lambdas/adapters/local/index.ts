/** The local adapters of the ports: SQLite store, broker and webhook notifiers, stderr log and counters. */
export { SqliteStore, StoreNotFoundError } from './sqlite-store.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export type {
  ReadingRow,
  ReadingQuery,
  SortOrder,
  RecordedAlarmEvent,
  AlarmStateQuery,
  LogQuery,
  RejectRow,
  DeviceLastSeen,
} from './sqlite-queries.js';
export { SqliteTimeSeriesStore, NO_SEQ } from './sqlite-time-series.js';
export { SqliteRejectSink } from './sqlite-reject-sink.js';
export { SqliteAlarmStateStore } from './sqlite-alarm-state.js';
export { SqliteAlarmLog } from './sqlite-alarm-log.js';
export { SqliteAlarmHistory, SqliteAlarmReader, queryCommands } from './sqlite-alarm-history.js';
export type { CommandQuery, RecordedAlarmCommand } from './sqlite-alarm-history.js';
export { SCHEMA_VERSION } from './sqlite-schema.js';
export { GroupedWritesLostError } from './write-group.js';
export { LocalAdapterError, StoreSchemaError, isTransientSqliteError } from './errors.js';
export { BrokerNotifier } from './broker-notifier.js';
export { BrokerCommandReplies } from './broker-command-replies.js';
export type { PublishFn } from './broker-notifier.js';
export { WebhookNotifier } from './webhook-notifier.js';
export type { WebhookNotifierOptions } from './webhook-notifier.js';
export { stderrLog, CounterMetrics, LOG_LEVELS } from './observability.js';
export type { StderrLogOptions, LogLevel } from './observability.js';
