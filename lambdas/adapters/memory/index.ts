/** In-memory versions of every port, for tests and benchmarks. Never wired into a runtime. */
export { InMemoryTimeSeriesStore } from './time-series-store.js';
export { InMemoryRejectSink } from './reject-sink.js';
export { InMemoryAlarmStateStore } from './alarm-state-store.js';
export { RecordingNotifier } from './notifier.js';
export { FakeClock } from './clock.js';
export { CapturingLog, CountingMetrics } from './observability.js';
export { InMemoryAlarmHistory, InMemoryAlarmReader } from './alarm-history.js';
export { RecordingCommandReplies } from './command-replies.js';
