/** In-memory versions of every port, for tests and benchmarks. Never wired into a runtime. */
export type { InMemoryTimeSeriesStoreOptions } from './time-series-store.js';
export { InMemoryTimeSeriesStore } from './time-series-store.js';
export { InMemoryRejectSink } from './reject-sink.js';
export type { BeforeSaveHook } from './alarm-state-store.js';
export { InMemoryAlarmStateStore } from './alarm-state-store.js';
export type { RecordingNotifierOptions } from './notifier.js';
export { RecordingNotifier } from './notifier.js';
export { FakeClock } from './clock.js';
export type { CountedMetric, LogEntry, LogLevel } from './observability.js';
export { CapturingLog, CountingMetrics } from './observability.js';
export { InMemoryAlarmHistory, InMemoryAlarmReader, historyKey } from './alarm-history.js';
export type { RecordedReply } from './command-replies.js';
export { RecordingCommandReplies } from './command-replies.js';
