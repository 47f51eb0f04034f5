import { describe, it, expect } from 'vitest';
import * as domain from '../../../lambdas/domain/index.js';

describe('the domain index', () => {
  it('exposes the decoder, the rules, the engine and the errors', () => {
    expect(Object.keys(domain).sort()).toEqual([
      'ALARM_STATES',
      'ALARM_STATE_VERSION',
      'ConfigError',
      'FleetTelemetryError',
      'MAX_FUTURE_SKEW_MS',
      'RetryableError',
      'SEVERITIES',
      'TELEMETRY_LIMITS',
      'ThresholdsError',
      'applyReadings',
      'applySilence',
      'decodeStreamRecord',
      'decodeTelemetry',
      'emptyAlarmState',
      'originalPayload',
      'parseTelemetryTopic',
      'parseThresholds',
      'safeParseThresholds',
      'shortestSilenceMs',
      'silenceRules',
    ]);
  });
});
