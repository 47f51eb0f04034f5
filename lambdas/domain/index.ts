/** The pure domain: vocabulary, decoding, threshold rules and the alarm state machine. No I/O. */
export type {
  AlarmEvent,
  AlarmStatus,
  BatchOutcome,
  Reading,
  RecordRef,
  RejectedMessage,
  Severity,
  StreamEnvelope,
  StreamRecord,
} from './model.js';
export { ALARM_STATES, SEVERITIES, TELEMETRY_LIMITS } from './model.js';
export { ConfigError, FleetTelemetryError, RetryableError } from './errors.js';

export type { DecodeResult, TelemetryRejection } from './telemetry.js';
export {
  decodeStreamRecord,
  decodeTelemetry,
  MAX_FUTURE_SKEW_MS,
  originalPayload,
  parseTelemetryTopic,
} from './telemetry.js';

export type {
  AboveRule,
  BelowRule,
  Debounce,
  MetricRule,
  RuleMatch,
  SafeParseThresholdsResult,
  SilenceRule,
  ThresholdRule,
  ThresholdRules,
} from './thresholds.js';
export { parseThresholds, safeParseThresholds, silenceRules, ThresholdsError } from './thresholds.js';

export type {
  ApplyReadingsInput,
  ApplyReadingsResult,
  ApplySilenceInput,
  ApplySilenceResult,
  DeviceAlarmState,
  RuleState,
} from './alarm-engine.js';
export { ALARM_STATE_VERSION, applyReadings, applySilence, emptyAlarmState, shortestSilenceMs } from './alarm-engine.js';
