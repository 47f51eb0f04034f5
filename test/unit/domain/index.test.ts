import { describe, it, expect } from 'vitest';
import * as domain from '../../../lambdas/domain/index.js';

describe('the domain index', () => {
  it('exposes the decoder, the rules, the engine and the errors', () => {
    expect(Object.keys(domain).sort()).toEqual([
      'ALARM_COMMAND_ACTIONS',
      'ALARM_COMMAND_LIMITS',
      'ALARM_STATES',
      'ALARM_STATE_VERSION',
      'ALARM_STATUSES',
      'COMPARISON_KINDS',
      'ConfigError',
      'FleetTelemetryError',
      'MAX_FUTURE_SKEW_MS',
      'RULE_KINDS',
      'RetryableError',
      'SEVERITIES',
      'TELEMETRY_LIMITS',
      'ThresholdsError',
      'alarmStateChanged',
      'applyCommand',
      'applyReadings',
      'applySilence',
      'comparisonBound',
      'decodeStreamRecord',
      'decodeTelemetry',
      'describeAlarms',
      'emptyAlarmState',
      'lastSeenWriteBoundMs',
      'nextWakeAt',
      'originalPayload',
      'parseAlarmCommand',
      'parseTelemetryTopic',
      'parseThresholds',
      'safeParseThresholds',
      'shortestSilenceMs',
      'silenceRules',
      'thresholdsJsonSchema',
    ]);
  });
});
