/**
 * Checks of the pipeline definition that both runtimes run before they start: the local event
 * source mapping emulation when it starts a mapping, the CDK app at synth. One implementation, so a
 * setting that one runtime accepts cannot fail the other. Plain data checks: no CDK or Node imports.
 *
 * The ranges are the Lambda API's (CreateEventSourceMapping, Kinesis source,
 * https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html):
 * BatchSize 1..10,000; MaximumBatchingWindowInSeconds 0..300; ParallelizationFactor 1..10;
 * MaximumRetryAttempts -1..10,000; MaximumRecordAgeInSeconds -1 or 60..604,800.
 */
import { ConfigError } from '../lambdas/domain/errors.js';
import type { EventSourceMappingSettings } from './pipeline.js';

/** A settings object the Lambda API would refuse, naming the consumer and the field. */
export class EventSourceMappingSettingsError extends ConfigError {}

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

/**
 * The mapping must give up on a record while the stream still holds it, with room to spare: what
 * it discards can then still be read back from the stream (a redrive, or a look at what failed)
 * for at least a quarter of the retention. A record age of -1 (until the record expires) or one
 * too close to the retention would discard records at the moment the stream forgets them.
 * @throws EventSourceMappingSettingsError naming the consumer, its record age and the retention.
 */
export function validateRecordAgeWithinRetention(
  consumer: string,
  settings: EventSourceMappingSettings,
  retentionHours: number,
): void {
  const age = settings.maximumRecordAgeInSeconds;
  const limit = Math.floor(retentionHours * 3_600 * MAX_RECORD_AGE_SHARE_OF_RETENTION);
  if (age === -1 || age > limit) {
    throw new EventSourceMappingSettingsError(
      `event source mapping "${consumer}": maximumRecordAgeInSeconds ${age} must be at most ${limit} (3/4 of the stream retention of ${retentionHours} h), so that what it discards can still be read from the stream`,
    );
  }
}

/** The largest share of the stream retention a mapping's maximum record age may take. */
export const MAX_RECORD_AGE_SHARE_OF_RETENTION = 0.75;
