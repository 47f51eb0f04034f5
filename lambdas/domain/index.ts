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
export type { AlarmCommandAction, AlarmEventAction } from './model.js';
export { ALARM_COMMAND_ACTIONS, ALARM_STATES, ALARM_STATUSES, SEVERITIES, TELEMETRY_LIMITS } from './model.js';
export type { AlarmCommand, AlarmCommandRefusal, ParseAlarmCommandResult } from './alarm-command.js';
export { ALARM_COMMAND_LIMITS, parseAlarmCommand } from './alarm-command.js';
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
  AtOrAboveRule,
  AtOrBelowRule,
  BelowRule,
  Bound,
  ComparisonKind,
  ComparisonRule,
  Debounce,
  EqualsRule,
  MetricRule,
  NotEqualsRule,
  RuleKind,
  RuleMatch,
  SafeParseThresholdsResult,
  SilenceRule,
  ThresholdRule,
  ThresholdRules,
} from './thresholds.js';
export {
  COMPARISON_KINDS,
  comparisonBound,
  parseThresholds,
  RULE_KINDS,
  safeParseThresholds,
  silenceRules,
  thresholdsJsonSchema,
  ThresholdsError,
} from './thresholds.js';

export type {
  ApplyReadingsInput,
  ApplyReadingsResult,
  ApplySilenceInput,
  ApplySilenceResult,
  ApplyCommandInput,
  ApplyCommandResult,
  AlarmView,
  AppliedCommand,
  DeviceAlarmState,
  RuleState,
} from './alarm-engine.js';
export {
  ALARM_STATE_VERSION,
  alarmStateChanged,
  applyCommand,
  applyReadings,
  applySilence,
  describeAlarms,
  emptyAlarmState,
  lastSeenWriteBoundMs,
  nextWakeAt,
  shortestSilenceMs,
} from './alarm-engine.js';
