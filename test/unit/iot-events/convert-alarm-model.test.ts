import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ModelConversion, convertAlarmModel } from '../../../infra/iot-events/convert-alarm-model.js';
import { DEFAULT_SEVERITY_MAP, parseSeverityMap } from '../../../infra/iot-events/severity-map.js';

const FIXTURES = 'test/fixtures/iot-events';
const options = { severityMap: DEFAULT_SEVERITY_MAP };

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(`${FIXTURES}/${name}`, 'utf8'));
}

/** A minimal alarm model as DescribeAlarmModel returns one; `changes` override its fields. */
function model(changes: Record<string, unknown> = {}, simpleRule: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    alarmModelName: 'tank-level',
    alarmModelArn: 'arn:aws:iotevents:us-east-1:123456789012:alarmModel/tank-level',
    alarmModelVersion: '1',
    status: 'ACTIVE',
    key: 'deviceId',
    severity: 2,
    alarmRule: { simpleRule: { inputProperty: '$input.TankInput.level', comparisonOperator: 'GREATER', threshold: '90', ...simpleRule } },
    alarmCapabilities: { acknowledgeFlow: { enabled: false }, initializationConfiguration: { disabledOnInitialization: false } },
    ...changes,
  };
}

function converted(conversion: ModelConversion): Extract<ModelConversion, { status: 'converted' }> {
  if (conversion.status !== 'converted') throw new Error(`expected a conversion, got: ${conversion.reason}`);
  return conversion;
}

function reasonOf(conversion: ModelConversion): string {
  if (conversion.status !== 'not-converted') throw new Error(`expected no conversion, got rule ${JSON.stringify(conversion.rule)}`);
  return conversion.reason;
}

describe('convertAlarmModel: the simple rule', () => {
  it.each([
    ['GREATER', 'above'],
    ['GREATER_OR_EQUAL', 'atOrAbove'],
    ['LESS', 'below'],
    ['LESS_OR_EQUAL', 'atOrBelow'],
    ['EQUAL', 'equals'],
    ['NOT_EQUAL', 'notEquals'],
  ])('maps the comparison operator %s to our %s', (operator, kind) => {
    const { rule } = converted(convertAlarmModel(model({}, { comparisonOperator: operator }), 'tank-level', options));

    expect(rule).toEqual({ id: 'tank-level', metric: 'level', when: { [kind]: 90 }, severity: 'major' });
  });

  it.each([
    ['80', 80],
    ["'0'", 0],
    ['-2.5e1', -25],
    [' 3.30 ', 3.3],
    ['.5', 0.5],
  ])('reads the number literal threshold %j as %d', (threshold, bound) => {
    expect(converted(convertAlarmModel(model({}, { threshold }), 'tank-level', options)).rule.when).toEqual({ above: bound });
  });

  it('makes a threshold read from an input the metric form, naming both metrics in the mapping', () => {
    const conversion = converted(convertAlarmModel(fixture('cold-room-too-warm.json'), 'cold-room-too-warm', options));

    expect(conversion.rule).toEqual({
      id: 'cold-room-too-warm',
      metric: 'temperature',
      when: { atOrAbove: { metric: 'maxTemperature' } },
      severity: 'major',
    });
    expect(conversion.metrics).toEqual([
      { inputProperty: '$input.ColdRoomReading.sensorData.temperature', metric: 'temperature' },
      { inputProperty: '$input.ColdRoomReading.sensorData.maxTemperature', metric: 'maxTemperature' },
    ]);
    expect(conversion.notes).toContain(
      '$input.ColdRoomReading.sensorData.temperature -> metric temperature: devices publish it as metrics.temperature (the path sensorData.temperature is flattened)',
    );
    expect(conversion.warnings.some((warning) => warning.includes('from input'))).toBe(false);
  });

  it('warns when the threshold comes from another input than the value, since both must arrive in one reading', () => {
    const conversion = converted(convertAlarmModel(model({}, { threshold: '$input.Limits.`max-level`' }), 'tank-level', options));

    expect(conversion.rule.when).toEqual({ above: { metric: 'max-level' } });
    expect(conversion.warnings).toContain(
      'the threshold comes from input Limits and the value from input TankInput: here both must be metrics of one reading, so devices must send max-level with level',
    );
  });

  it.each([
    ['$variable.setpoint', 'threshold "$variable.setpoint" is not an input reference'],
    ['$input.TankInput.capacity * 0.9', 'threshold "$input.TankInput.capacity * 0.9": only plain path elements'],
    ['1e999', 'threshold "1e999" is not an input reference'],
    ["'OPEN'", "threshold 'OPEN' is a string or Boolean literal: our metrics are numbers"],
    ['true', 'threshold true is a string or Boolean literal: our metrics are numbers'],
    ['$input.TankInput.level', 'names the same metric as the input property (level)'],
  ])('does not convert the threshold %j', (threshold, reason) => {
    expect(reasonOf(convertAlarmModel(model({}, { threshold }), 'tank-level', options))).toContain(reason);
  });

  it.each([
    ['level', 'inputProperty "level" is not an input reference ($input.<InputName>.<path>)'],
    ['$input.TankInput.levels[0]', 'inputProperty "$input.TankInput.levels[0]": only plain path elements'],
    ['$input.TankInput.sensor.`level:raw`', 'inputProperty "$input.TankInput.sensor.`level:raw`": "level:raw" is not a metric name we accept'],
  ])('does not convert the input property %j', (inputProperty, reason) => {
    expect(reasonOf(convertAlarmModel(model({}, { inputProperty }), 'tank-level', options))).toContain(reason);
  });

  it('takes the last element of a backticked path as the metric', () => {
    const { rule } = converted(convertAlarmModel(model({}, { inputProperty: '$input.`Tank-Input`.`_payload`.level_pct' }), 'tank-level', options));

    expect(rule.metric).toBe('level_pct');
  });

  it('does not convert an alarm rule without a simple rule', () => {
    expect(reasonOf(convertAlarmModel(model({ alarmRule: {} }), 'tank-level', options))).toBe('alarmRule has no simpleRule, the only rule an alarm model can have');
  });

  it.each([
    [{ alarmRule: undefined }, 'not a valid alarm model: alarmRule: '],
    [{ severity: -1 }, 'not a valid alarm model: severity: '],
    [{ alarmModelName: 'tank level' }, 'not a valid alarm model: alarmModelName: must be 1 to 128 of [a-zA-Z0-9_-]'],
  ])('names the field of a model whose shape is wrong (%j)', (changes, reason) => {
    expect(reasonOf(convertAlarmModel(model(changes), 'tank-level', options))).toContain(reason);
  });

  it('names the operator it does not know', () => {
    expect(reasonOf(convertAlarmModel(model({}, { comparisonOperator: 'BETWEEN' }), 'tank-level', options))).toBe(
      'not a valid alarm model: alarmRule.simpleRule.comparisonOperator: must be one of GREATER, GREATER_OR_EQUAL, LESS, LESS_OR_EQUAL, EQUAL, NOT_EQUAL',
    );
  });
});

describe('convertAlarmModel: severity', () => {
  it.each([
    [0, 'critical'],
    [1, 'critical'],
    [2, 'major'],
    [3, 'minor'],
    [4, 'warning'],
    [5, 'info'],
    [2_147_483_647, 'info'],
  ])('maps IoT Events severity %d to %s by the default map, and says so', (severity, ours) => {
    const conversion = converted(convertAlarmModel(model({ severity }), 'tank-level', options));

    expect(conversion.rule.severity).toBe(ours);
    expect(conversion.notes).toContain(`severity ${severity} -> ${ours} (severity map 0-1=critical,2=major,3=minor,4=warning,5+=info)`);
  });

  it('uses the severity map given instead of the default', () => {
    const severityMap = parseSeverityMap('0-9=info,10+=critical');

    expect(converted(convertAlarmModel(model({ severity: 12 }), 'tank-level', { severityMap })).rule.severity).toBe('critical');
  });

  it('does not convert a model whose severity the map leaves out', () => {
    const severityMap = parseSeverityMap('1=critical,3=minor');

    expect(reasonOf(convertAlarmModel(model({ severity: 2 }), 'tank-level', { severityMap }))).toBe('severity 2 is not covered by the severity map 1=critical,3=minor');
  });

  it('converts a model without a severity as a warning, and says so', () => {
    const conversion = converted(convertAlarmModel(model({ severity: undefined }), 'tank-level', options));

    expect(conversion.rule.severity).toBe('warning');
    expect(conversion.notes).toContain('no severity in the model: converted as warning');
  });
});

describe('convertAlarmModel: capabilities, key and status', () => {
  it('latches when the acknowledge flow is on', () => {
    const conversion = converted(convertAlarmModel(fixture('boiler-overheat.json'), 'boiler-overheat', options));

    expect(conversion.rule).toEqual({ id: 'boiler-overheat', metric: 'temperature', when: { above: 80 }, severity: 'critical', latch: true });
    expect(conversion.notes).toContain('acknowledge flow on -> "latch": true (an alarm that returns to range unacknowledged stays LATCHED until acknowledged)');
  });

  it('does not latch when the acknowledge flow is off or not given, and says which', () => {
    const off = converted(convertAlarmModel(model(), 'tank-level', options));
    const absent = converted(convertAlarmModel(model({ alarmCapabilities: undefined }), 'tank-level', options));

    expect('latch' in off.rule || 'latch' in absent.rule).toBe(false);
    expect(off.notes).toContain('acknowledge flow off -> no latch (the alarm returns to OK by itself when the value is back in range)');
    expect(absent.notes).toContain('no acknowledge flow setting in the model -> no latch; add "latch": true if its alarms waited for an acknowledgement');
  });

  it('notes alarms that IoT Events created disabled, explicitly or by its documented default', () => {
    const explicit = converted(convertAlarmModel(model({ alarmCapabilities: { initializationConfiguration: { disabledOnInitialization: true } } }), 'tank-level', options));
    const byDefault = converted(convertAlarmModel(model({ alarmCapabilities: undefined }), 'tank-level', options));
    const enabled = converted(convertAlarmModel(model(), 'tank-level', options));

    expect(explicit.notes.some((note) => note.startsWith('disabledOnInitialization is true: IoT Events created its alarms DISABLED until enabled'))).toBe(true);
    expect(byDefault.notes.some((note) => note.startsWith('no initialization setting, and AWS documents true as the default'))).toBe(true);
    expect(enabled.notes.some((note) => note.includes('DISABLED'))).toBe(false);
  });

  it.each(['deviceId', 'device_id', 'thingName', 'ClientId', '$input.TankInput.meta.deviceId', 'payload.`thing-name`'])(
    'takes the key %j for the device id (one alarm per device), with a note',
    (key) => {
      const conversion = converted(convertAlarmModel(model({ key }), 'tank-level', options));

      expect(conversion.warnings).toEqual([]);
      expect(conversion.notes.some((note) => note.startsWith(`key ${key} -> one alarm per device`))).toBe(true);
    },
  );

  it('warns when the key is not the device id, since alarms are per device here', () => {
    const conversion = converted(convertAlarmModel(model({ key: 'sensorData.tankId' }), 'tank-level', options));

    expect(conversion.warnings).toEqual([
      'key sensorData.tankId is not the device id: IoT Events kept one alarm per tankId value, here there is one per device (two tankId values from one device share an alarm)',
    ]);
  });

  it('warns when there is no key, since IoT Events then kept one alarm for the whole model', () => {
    expect(converted(convertAlarmModel(model({ key: undefined }), 'tank-level', options)).warnings).toEqual([
      'no key: IoT Events kept one alarm for every input of the model; here each device has its own alarm',
    ]);
  });

  it('converts a model that was not active, and notes its status', () => {
    expect(converted(convertAlarmModel(model({ status: 'INACTIVE' }), 'tank-level', options)).notes).toContain(
      'status INACTIVE in IoT Events: the model was not evaluating data (converted anyway)',
    );
  });
});

describe('convertAlarmModel: notifications and alarm actions are reported, not converted', () => {
  it('says what each notification targeted and how to get it from our alarm topic', () => {
    const { actions } = converted(convertAlarmModel(fixture('boiler-overheat.json'), 'boiler-overheat', options));

    expect(actions.map(({ from, target }) => [from, target])).toEqual([
      ['alarmNotification', 'e-mail from alarms@plant.example.com to IAM Identity Center users 94482488-3041-7026-18f3-be45837cd0e4'],
      ['alarmNotification', 'SMS to IAM Identity Center users c4b8e4a8-d0b1-70b3-5f2e-1c9a3e27d6a1'],
      ['alarmNotification', 'notification Lambda function arn:aws:lambda:eu-west-1:123456789012:function:iotevents-notification-function'],
      ['alarmEventActions', 'SNS topic arn:aws:sns:eu-west-1:123456789012:plant-alarms'],
    ]);
    const policy = 'the filter policy {"ruleId":["boiler-overheat"]}';
    expect(actions[0]?.howHere).toContain(`subscribe their addresses (protocol email) to our alarm topic (stack output AlarmTopicArn) with ${policy}`);
    expect(actions[1]?.howHere).toContain('subscribe their phone numbers (protocol sms)');
    expect(actions[2]?.howHere).toBe('not needed: SNS delivers e-mail and SMS itself');
    expect(actions[3]?.howHere).toContain(`move its subscriptions to our alarm topic (stack output AlarmTopicArn), each with ${policy}`);
  });

  it('covers every kind of alarm action, each with its target named', () => {
    const models = fixture('vehicle-models.json') as unknown[];
    const targets = [
      ...converted(convertAlarmModel(fixture('cold-room-too-warm.json'), 'cold', options)).actions,
      ...converted(convertAlarmModel(fixture('low-battery.json'), 'battery', options)).actions,
      ...converted(convertAlarmModel(models[0], 'fuel', options)).actions,
      ...converted(convertAlarmModel(models[1], 'door', options)).actions,
    ].map((action) => action.target);

    expect(targets).toEqual([
      'MQTT topic plant/alarms/cold-room',
      'Lambda function arn:aws:lambda:eu-west-1:123456789012:function:open-maintenance-ticket',
      'SQS queue https://sqs.us-east-1.amazonaws.com/123456789012/battery-replacements',
      'Firehose stream vehicle-alarm-archive',
      'DynamoDB table VehicleAlarmLog',
      'IoT Events input DispatchEscalation',
      'IoT SiteWise property /fleet/vehicle/door-alarm',
    ]);
  });

  it('tells how to keep an MQTT topic on AWS with a republishing IoT rule', () => {
    const { actions } = converted(convertAlarmModel(fixture('cold-room-too-warm.json'), 'cold-room-too-warm', options));

    expect(actions[0]?.howHere).toContain("SELECT * FROM 'alarms/fleet/+' WHERE ruleId = 'cold-room-too-warm' with a republish action");
  });

  it('still reports the actions of a model it cannot convert', () => {
    const [pressure] = fixture('not-convertible.json') as unknown[];
    const conversion = convertAlarmModel(pressure, 'pressure-over-setpoint', options);

    expect(conversion.status).toBe('not-converted');
    expect(conversion.actions.map((action) => action.target)).toEqual(['SNS topic arn:aws:sns:us-east-1:123456789012:pump-alarms']);
  });

  it('names the keys of an action it does not know', () => {
    const conversion = converted(convertAlarmModel(model({ alarmEventActions: { alarmActions: [{ pagerDuty: { service: 'x' } }] } }), 'tank-level', options));

    expect(conversion.actions).toEqual([
      {
        from: 'alarmEventActions',
        target: 'an action this converter does not know (keys: pagerDuty)',
        howHere: 'subscribe its target to our alarm topic (stack output AlarmTopicArn) with the filter policy {"ruleId":["tank-level"]}',
      },
    ]);
  });
});
