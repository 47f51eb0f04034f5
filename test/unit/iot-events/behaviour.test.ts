/**
 * Converted rules behave as the IoT Events alarm models they came from: each fixture model is
 * converted, then driven by readings (and acknowledgements) through our alarm engine, and after every
 * step our alarm state is compared with the state IoT Events would be in.
 *
 * The IoT Events side is written here from AWS's documentation, independently of the converter: an
 * alarm is ACTIVE while `inputProperty <operator> threshold` holds; when it stops holding the alarm goes
 * to NORMAL, or with the acknowledge flow on to LATCHED if nobody acknowledged it (ACKNOWLEDGED goes to
 * NORMAL); acknowledging ACTIVE gives ACKNOWLEDGED, acknowledging LATCHED gives NORMAL
 * (https://docs.aws.amazon.com/iotevents/latest/apireference/API_AcknowledgeFlow.html,
 * https://docs.aws.amazon.com/iotevents-data/latest/apireference/API_AlarmState.html). A LATCHED
 * alarm whose value leaves the range again is ACTIVE again (it is invoked anew).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DeviceAlarmState, applyCommand, applyReadings, describeAlarms } from '../../../lambdas/domain/alarm-engine.js';
import type { AlarmEvent, AlarmStatus, Reading } from '../../../lambdas/domain/model.js';
import { type ThresholdRules, parseThresholds } from '../../../lambdas/domain/thresholds.js';
import type { AlarmModel } from '../../../infra/iot-events/alarm-model.js';
import { type ModelReport, importAlarmModels } from '../../../infra/iot-events/import-alarm-models.js';
import { readAlarmModelFiles } from '../../../infra/iot-events/read-model-files.js';
import { DEFAULT_SEVERITY_MAP } from '../../../infra/iot-events/severity-map.js';

const FIXTURES = 'test/fixtures/iot-events';
const FIXTURE_FILES = ['boiler-overheat.json', 'cold-room-too-warm.json', 'low-battery.json', 'vehicle-models.json'].map((name) => `${FIXTURES}/${name}`);
const DEVICE = 'device-0001';

type IoTEventsState = 'NORMAL' | 'ACTIVE' | 'ACKNOWLEDGED' | 'LATCHED';
const OURS: Record<IoTEventsState, AlarmStatus> = { NORMAL: 'OK', ACTIVE: 'ALARM', ACKNOWLEDGED: 'ACKNOWLEDGED', LATCHED: 'LATCHED' };

type Step = { readonly kind: 'reading'; readonly metrics: Readonly<Record<string, number>> } | { readonly kind: 'acknowledge' };

/** An input path's last element, written independently of the converter's parser. */
function lastElement(path: string): string {
  return (path.split('.').at(-1) ?? '').replace(/`/g, '');
}

/** What IoT Events compares: the value, and the threshold (a number, or the other input attribute). */
function ioTEventsOperands(model: AlarmModel, metrics: Readonly<Record<string, number>>): [number, number] {
  const rule = model.alarmRule.simpleRule!;
  const value = metrics[lastElement(rule.inputProperty)]!;
  const literal = Number(rule.threshold.replace(/'/g, ''));
  return [value, Number.isNaN(literal) ? metrics[lastElement(rule.threshold)]! : literal];
}

function ioTEventsInvoked(model: AlarmModel, metrics: Readonly<Record<string, number>>): boolean {
  const [value, threshold] = ioTEventsOperands(model, metrics);
  switch (model.alarmRule.simpleRule!.comparisonOperator) {
    case 'GREATER':
      return value > threshold;
    case 'GREATER_OR_EQUAL':
      return value >= threshold;
    case 'LESS':
      return value < threshold;
    case 'LESS_OR_EQUAL':
      return value <= threshold;
    case 'EQUAL':
      return value === threshold;
    case 'NOT_EQUAL':
      return value !== threshold;
  }
}

/** IoT Events' alarm state after one step. */
function ioTEventsNext(model: AlarmModel, state: IoTEventsState, step: Step): IoTEventsState {
  const acknowledgeFlow = model.alarmCapabilities?.acknowledgeFlow?.enabled === true;
  if (step.kind === 'acknowledge') return state === 'ACTIVE' ? 'ACKNOWLEDGED' : state === 'LATCHED' ? 'NORMAL' : state;
  const invoked = ioTEventsInvoked(model, step.metrics);
  if (invoked) return state === 'ACKNOWLEDGED' ? 'ACKNOWLEDGED' : 'ACTIVE';
  if (state === 'ACTIVE') return acknowledgeFlow ? 'LATCHED' : 'NORMAL';
  return state === 'ACKNOWLEDGED' ? 'NORMAL' : state;
}

/** Our engine, one device and one rule, one step at a time. */
class OurAlarm {
  private state: DeviceAlarmState | undefined;
  private clock = 1_764_028_800_000;

  constructor(
    private readonly rules: ThresholdRules,
    private readonly ruleId: string,
  ) {}

  step(step: Step): AlarmEvent[] {
    this.clock += 1000;
    if (step.kind === 'acknowledge') {
      const result = applyCommand({
        deviceId: DEVICE,
        state: this.state,
        rules: this.rules,
        command: { action: 'acknowledge', ruleId: this.ruleId },
        by: 'operator',
        at: this.clock,
      });
      if (result.outcome !== 'accepted') return [];
      this.state = result.state;
      return result.events;
    }
    const reading: Reading = { deviceId: DEVICE, ts: this.clock, metrics: step.metrics, receivedAt: this.clock };
    const result = applyReadings({ deviceId: DEVICE, state: this.state, readings: [reading], rules: this.rules });
    this.state = result.state;
    return result.events;
  }

  status(): AlarmStatus {
    return describeAlarms(DEVICE, this.state, this.rules).find((view) => view.ruleId === this.ruleId)?.state ?? 'OK';
  }
}

const reports = importAlarmModels(readAlarmModelFiles(FIXTURE_FILES), { severityMap: DEFAULT_SEVERITY_MAP }).models;
const converted = reports.filter((report): report is Extract<ModelReport, { status: 'converted' }> => report.status === 'converted');
const sourceModels = new Map(readAlarmModelFiles(FIXTURE_FILES).map(({ model }) => [(model as AlarmModel).alarmModelName, model as AlarmModel]));

function sourceOf(report: Extract<ModelReport, { status: 'converted' }>): AlarmModel {
  return sourceModels.get(report.alarmModelName!)!;
}

/** Runs the steps on both sides; returns, per step, IoT Events' state and ours and our events. */
function drive(report: Extract<ModelReport, { status: 'converted' }>, steps: readonly Step[]) {
  const model = sourceOf(report);
  const ours = new OurAlarm(parseThresholds({ rules: [report.rule] }), report.rule.id);
  let expected: IoTEventsState = 'NORMAL';
  return steps.map((step) => {
    const before = expected;
    expected = ioTEventsNext(model, expected, step);
    const events = ours.step(step);
    return { before: OURS[before], expected: OURS[expected], actual: ours.status(), events: events.map((event) => [event.previousState, event.state]) };
  });
}

describe('converted rules raise and clear where IoT Events would', () => {
  it('raises boiler-overheat above 80, latches it when it cools unacknowledged, and clears it on acknowledge', () => {
    const report = converted.find((candidate) => candidate.rule.id === 'boiler-overheat')!;
    const steps: Step[] = [70, 80, 80.1, 95, 79].map((temperature) => ({ kind: 'reading', metrics: { temperature } }));

    const run = drive(report, [...steps, { kind: 'acknowledge' }]);

    expect(run.map((step) => step.actual)).toEqual(['OK', 'OK', 'ALARM', 'ALARM', 'LATCHED', 'OK']);
    expect(run.map((step) => step.actual)).toEqual(run.map((step) => step.expected));
    expect(run.flatMap((step) => step.events)).toEqual([
      ['OK', 'ALARM'],
      ['ALARM', 'LATCHED'],
      ['LATCHED', 'OK'],
    ]);
  });

  it('raises LowBattery below 3.3 and clears it by itself at 3.3 (the acknowledge flow is off)', () => {
    const report = converted.find((candidate) => candidate.rule.id === 'LowBattery')!;
    const run = drive(report, [3.6, 3.29, 3.1, 3.3, 3.5].map((battery) => ({ kind: 'reading', metrics: { battery } })));

    expect(run.map((step) => step.actual)).toEqual(['OK', 'ALARM', 'ALARM', 'OK', 'OK']);
    expect(run.map((step) => step.actual)).toEqual(run.map((step) => step.expected));
  });

  it('raises cold-room-too-warm when the temperature reaches the limit the same reading carries', () => {
    const report = converted.find((candidate) => candidate.rule.id === 'cold-room-too-warm')!;
    const readings = [
      { temperature: 3, maxTemperature: 5 },
      { temperature: 5, maxTemperature: 5 },
      { temperature: 5, maxTemperature: 8 },
    ];
    const run = drive(report, readings.map((metrics) => ({ kind: 'reading', metrics })));

    expect(run.map((step) => step.actual)).toEqual(['OK', 'ALARM', 'OK']);
    expect(run.map((step) => step.actual)).toEqual(run.map((step) => step.expected));
  });

  it('raises door-open-in-transit on exactly 1 and engine-mode-not-normal on anything but 0', () => {
    const door = converted.find((candidate) => candidate.rule.id === 'door-open-in-transit')!;
    const engine = converted.find((candidate) => candidate.rule.id === 'engine-mode-not-normal')!;

    const doorRun = drive(door, [0, 1, 0.5, { kind: 'acknowledge' as const }].map((v) => (typeof v === 'number' ? { kind: 'reading' as const, metrics: { doorOpen: v } } : v)));
    const engineRun = drive(engine, [0, 2, 0, -1].map((engineMode) => ({ kind: 'reading' as const, metrics: { engineMode } })));

    expect(doorRun.map((step) => step.actual)).toEqual(['OK', 'ALARM', 'LATCHED', 'OK']);
    expect(engineRun.map((step) => step.actual)).toEqual(['OK', 'ALARM', 'OK', 'ALARM']);
    expect([...doorRun, ...engineRun].map((step) => step.actual)).toEqual([...doorRun, ...engineRun].map((step) => step.expected));
  });

  it('covers every comparison, a threshold from an input, the acknowledge flow on and off and several severities', () => {
    expect(reports.every((report) => report.status === 'converted')).toBe(true);
    expect(new Set(converted.flatMap((report) => Object.keys(report.rule.when)))).toEqual(
      new Set(['above', 'atOrAbove', 'below', 'atOrBelow', 'equals', 'notEquals']),
    );
    expect(converted.some((report) => Object.values(report.rule.when).some((bound) => typeof bound === 'object'))).toBe(true);
    expect(new Set(converted.map((report) => report.rule.latch === true))).toEqual(new Set([true, false]));
    expect(new Set(converted.map((report) => report.rule.severity))).toEqual(new Set(['critical', 'major', 'minor', 'warning', 'info']));
  });

  it.each(converted.map((report) => [report.rule.id, report] as const))(
    'agrees with IoT Events after every step of any run of readings and acknowledgements (%s)',
    (_id, report) => {
      const model = sourceOf(report);
      const [metric, boundMetric] = [lastElement(model.alarmRule.simpleRule!.inputProperty), lastElement(model.alarmRule.simpleRule!.threshold)];
      const literal = Number(model.alarmRule.simpleRule!.threshold.replace(/'/g, ''));
      const around = Number.isNaN(literal) ? 5 : literal;
      // Values on, just off and away from the threshold, so every comparison is both true and false.
      const value = fc.constantFrom(around - 1, around - 0.5, around, around + 0.5, around + 1, around - 10, around + 10);
      const reading = Number.isNaN(literal)
        ? fc.record({ kind: fc.constant('reading' as const), metrics: fc.tuple(value, value).map(([v, b]) => ({ [metric]: v, [boundMetric]: b })) })
        : fc.record({ kind: fc.constant('reading' as const), metrics: value.map((v) => ({ [metric]: v })) });
      const acknowledgeFlow = model.alarmCapabilities?.acknowledgeFlow?.enabled === true;
      const step: fc.Arbitrary<Step> = acknowledgeFlow ? fc.oneof({ arbitrary: reading, weight: 4 }, { arbitrary: fc.constant({ kind: 'acknowledge' as const }), weight: 1 }) : reading;

      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
          for (const { before, expected, actual, events } of drive(report, steps)) {
            expect(actual).toBe(expected);
            expect(events).toEqual(expected === before ? [] : [[before, expected]]);
          }
        }),
        { seed: 14, numRuns: 200 },
      );
    },
  );
});
