import { describe, expect, it } from 'vitest';
import { importAlarmModels } from '../../../infra/iot-events/import-alarm-models.js';
import { DEFAULT_SEVERITY_MAP } from '../../../infra/iot-events/severity-map.js';

const options = { severityMap: DEFAULT_SEVERITY_MAP };

function alarmModel(alarmModelName: string, inputProperty = '$input.PumpInput.pressure', threshold = '6'): Record<string, unknown> {
  return {
    alarmModelName,
    key: 'deviceId',
    severity: 2,
    alarmRule: { simpleRule: { inputProperty, comparisonOperator: 'GREATER', threshold } },
    alarmCapabilities: { acknowledgeFlow: { enabled: true }, initializationConfiguration: { disabledOnInitialization: false } },
  };
}

function sourced(...models: unknown[]) {
  return models.map((model, index) => ({ source: { file: 'models.json', index }, model }));
}

describe('importAlarmModels', () => {
  it('converts every model into one thresholds file, in input order, with its source', () => {
    const result = importAlarmModels(sourced(alarmModel('pump-a'), alarmModel('pump-b', '$input.PumpInput.flow', '40')), options);

    expect(result.thresholds).toEqual({
      rules: [
        { id: 'pump-a', metric: 'pressure', when: { above: 6 }, severity: 'major', latch: true },
        { id: 'pump-b', metric: 'flow', when: { above: 40 }, severity: 'major', latch: true },
      ],
    });
    expect(result.models.map((report) => [report.alarmModelName, report.source, report.status])).toEqual([
      ['pump-a', { file: 'models.json', index: 0 }, 'converted'],
      ['pump-b', { file: 'models.json', index: 1 }, 'converted'],
    ]);
    expect(result.warnings).toEqual([]);
  });

  it('makes rule ids unique and at most 64 characters, from names IoT Events allows up to 128', () => {
    const long = 'a'.repeat(128);
    const result = importAlarmModels(sourced(alarmModel('pump'), alarmModel('pump'), alarmModel(long), alarmModel(long)), options);

    expect(result.thresholds.rules.map((rule) => rule.id)).toEqual(['pump', 'pump-2', 'a'.repeat(64), `${'a'.repeat(62)}-2`]);
  });

  it('keeps the others when one model cannot be converted, and reports it with the reason', () => {
    const result = importAlarmModels(sourced(alarmModel('pump-a'), alarmModel('pump-b', '$input.PumpInput.pressure', '$variable.limit')), options);

    expect(result.thresholds.rules.map((rule) => rule.id)).toEqual(['pump-a']);
    expect(result.models[1]).toMatchObject({ status: 'not-converted', alarmModelName: 'pump-b' });
  });

  it('names a model without a usable name by its position', () => {
    const result = importAlarmModels(sourced(42), options);

    expect(result.models[0]).toMatchObject({ status: 'not-converted', alarmModelName: undefined, reason: expect.stringContaining('not a valid alarm model') });
    expect(result.thresholds.rules).toEqual([]);
  });

  it('warns when two models read one metric from different input paths', () => {
    const result = importAlarmModels(
      sourced(alarmModel('pump-a', '$input.PumpInput.pressure'), alarmModel('pump-b', '$input.TankInput.outlet.pressure')),
      options,
    );

    expect(result.warnings).toEqual([
      'metric pressure is read from $input.PumpInput.pressure and $input.TankInput.outlet.pressure: here they are one metrics.pressure, checked by every rule on it (scope rules meant for different devices with match.type)',
    ]);
  });
});
