export type { TimeSeriesStore, WriteOutcome, StoreRejection } from './time-series-store.js';
export type { RejectSink } from './reject-sink.js';
export type { AlarmNotifier } from './alarm-notifier.js';
export type { AlarmStateStore, DeviceAlarmRecord, OutboxEntry } from './alarm-state-store.js';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type { Log, Metrics, MetricName } from './observability.js';
export { METRIC, silentLog, noMetrics } from './observability.js';
