import { describe, expect, it } from 'vitest';
import { importAlarmModels } from '../../../infra/iot-events/import-alarm-models.js';
import { readAlarmModelFiles } from '../../../infra/iot-events/read-model-files.js';
import { formatReport, reportJson } from '../../../infra/iot-events/report.js';
import { DEFAULT_SEVERITY_MAP } from '../../../infra/iot-events/severity-map.js';

const FIXTURES = 'test/fixtures/iot-events';
const severityMap = DEFAULT_SEVERITY_MAP;

function resultOf(...files: string[]) {
  return importAlarmModels(readAlarmModelFiles(files.map((name) => `${FIXTURES}/${name}`)), { severityMap });
}

describe('formatReport', () => {
  it('gives the count, each model with its rule, mapping, notes and actions, and where the rules went', () => {
    const text = formatReport(resultOf('boiler-overheat.json'), { severityMap, out: 'thresholds.json' });
    const lines = text.split('\n');

    expect(lines[0]).toBe('Converted 1 of 1 alarm model (severity map 0-1=critical,2=major,3=minor,4=warning,5+=info).');
    expect(lines).toContain(`converted      boiler-overheat (${FIXTURES}/boiler-overheat.json) -> rule boiler-overheat`);
    expect(lines).toContain('  metric       $input.BoilerTelemetry.temperature -> temperature');
    expect(lines).toContain('  rule         {"id":"boiler-overheat","metric":"temperature","when":{"above":80},"severity":"critical","latch":true}');
    expect(lines).toContain('  action       alarmEventActions: SNS topic arn:aws:sns:eu-west-1:123456789012:plant-alarms (not converted)');
    expect(lines.at(-1)).toBe('Wrote 1 rule to thresholds.json.');
  });

  it('lists the models not converted, with their reasons, and says when nothing was written', () => {
    const text = formatReport(resultOf('not-convertible.json'), { severityMap, out: undefined });

    expect(text).toContain(`NOT converted  pressure-over-setpoint (${FIXTURES}/not-convertible.json [0]): threshold "$variable.pressureSetpoint"`);
    expect(text).toContain('Not converted: pressure-over-setpoint, first-bearing-hot.');
    expect(text.endsWith('Nothing converted: no thresholds file written.')).toBe(true);
  });

  it('says the rules are on stdout when no file was given', () => {
    expect(formatReport(resultOf('low-battery.json'), { severityMap, out: undefined }).endsWith('1 rule on stdout (thresholds file format).')).toBe(true);
  });
});

describe('reportJson', () => {
  it('holds the counts, the rules and every model with its outcome', () => {
    const json = reportJson(resultOf('low-battery.json', 'not-convertible.json'), { severityMap, out: 'out.json' });

    expect(json).toMatchObject({
      converted: 1,
      total: 3,
      severityMap: '0-1=critical,2=major,3=minor,4=warning,5+=info',
      out: 'out.json',
      thresholds: { rules: [{ id: 'LowBattery', metric: 'battery', when: { below: 3.3 }, severity: 'minor' }] },
      warnings: [],
    });
    expect(json.models).toMatchObject([
      { file: `${FIXTURES}/low-battery.json`, alarmModelName: 'LowBattery', status: 'converted', ruleId: 'LowBattery' },
      { file: `${FIXTURES}/not-convertible.json`, index: 0, status: 'not-converted', reason: expect.stringContaining('$variable.pressureSetpoint') },
      { file: `${FIXTURES}/not-convertible.json`, index: 1, status: 'not-converted' },
    ]);
  });
});
