/**
 * Checks a mapping's settings as the Lambda API would (CreateEventSourceMapping, Kinesis), so a value
 * that would fail at deploy fails at local start too. The ranges are the API's:
 * BatchSize 1..10,000; MaximumBatchingWindowInSeconds 0..300; ParallelizationFactor 1..10;
 * MaximumRetryAttempts -1..10,000; MaximumRecordAgeInSeconds -1 or 60..604,800
 * ("must be either -1 (forever) or between 60 and 604800 (inclusive)").
 */
import type { EventSourceMappingSettings } from '../../pipeline.js';
import { EventSourceMappingSettingsError } from './errors.js';

const KEYS: ReadonlySet<string> = new Set<keyof EventSourceMappingSettings>([
  'batchSize',
  'maximumBatchingWindowInSeconds',
  'parallelizationFactor',
  'startingPosition',
  'bisectBatchOnFunctionError',
  'maximumRetryAttempts',
  'maximumRecordAgeInSeconds',
  'functionResponseTypes',
]);

/** Throws EventSourceMappingSettingsError naming the consumer and the first field out of range. */
export function validateSettings(consumer: string, settings: EventSourceMappingSettings): void {
  const fail = (field: string, rule: string, value: unknown): never => {
    throw new EventSourceMappingSettingsError(
      `event source mapping "${consumer}": ${field} ${rule}, got ${JSON.stringify(value)}`,
    );
  };
  for (const key of Object.keys(settings)) {
    if (!KEYS.has(key)) fail(key, 'is not a setting this emulation knows (a typo?)', (settings as unknown as Record<string, unknown>)[key]);
  }
  const intIn = (field: keyof EventSourceMappingSettings, min: number, max: number): void => {
    const value = settings[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      fail(field, `must be an integer from ${min} to ${max}`, value);
    }
  };
  intIn('batchSize', 1, 10_000);
  intIn('maximumBatchingWindowInSeconds', 0, 300);
  intIn('parallelizationFactor', 1, 10);
  intIn('maximumRetryAttempts', -1, 10_000);
  const age = settings.maximumRecordAgeInSeconds;
  if (!(age === -1 || (Number.isInteger(age) && age >= 60 && age <= 604_800))) {
    fail('maximumRecordAgeInSeconds', 'must be -1 (forever) or an integer from 60 to 604800', age);
  }
  if (settings.startingPosition !== 'TRIM_HORIZON' && settings.startingPosition !== 'LATEST') {
    // AT_TIMESTAMP is not in the shared settings type; the local stream does not offer it either.
    fail('startingPosition', 'must be TRIM_HORIZON or LATEST', settings.startingPosition);
  }
  if (typeof settings.bisectBatchOnFunctionError !== 'boolean') {
    fail('bisectBatchOnFunctionError', 'must be a boolean', settings.bisectBatchOnFunctionError);
  }
  if (!Array.isArray(settings.functionResponseTypes) || settings.functionResponseTypes.some((t) => t !== 'ReportBatchItemFailures')) {
    fail('functionResponseTypes', 'may hold only "ReportBatchItemFailures"', settings.functionResponseTypes);
  }
}
