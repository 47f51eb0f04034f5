import { describe, it, expect } from 'vitest';
import { pipeline } from '../../../infra/pipeline.js';
import type { EventSourceMappingSettings } from '../../../infra/pipeline.js';
import { EventSourceMappingSettingsError, validateSettings } from '../../../infra/local/event-source/index.js';

const base: EventSourceMappingSettings = pipeline.consumers.alarms;

describe('validateSettings', () => {
  it.each(Object.entries(pipeline.consumers))('accepts the pipeline’s %s mapping', (name, settings) => {
    expect(() => validateSettings(name, settings)).not.toThrow();
  });

  it.each([
    ['batchSize', 0],
    ['batchSize', 10_001],
    ['maximumBatchingWindowInSeconds', 301],
    ['parallelizationFactor', 11],
    ['maximumRetryAttempts', -2],
    ['maximumRecordAgeInSeconds', 59],
    ['maximumRecordAgeInSeconds', 604_801],
    ['startingPosition', 'AT_TIMESTAMP'],
    ['functionResponseTypes', ['ReportBatchItemFailure']],
    ['bisectBatchOnFunction', true],
  ])('refuses %s = %j, naming the consumer and the field', (field, value) => {
    const settings = { ...base, [field]: value } as EventSourceMappingSettings;
    expect(() => validateSettings('alarms', settings)).toThrow(EventSourceMappingSettingsError);
    expect(() => validateSettings('alarms', settings)).toThrow(new RegExp(`"alarms": ${field}`));
  });

  it('accepts -1 (forever) for the record age and the retries', () => {
    expect(() => validateSettings('x', { ...base, maximumRecordAgeInSeconds: -1, maximumRetryAttempts: -1 })).not.toThrow();
  });
});
