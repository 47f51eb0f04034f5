import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/domain/errors.js';
import { AlarmModelFileError, readAlarmModelFiles } from '../../../infra/iot-events/read-model-files.js';

const FIXTURES = 'test/fixtures/iot-events';

describe('readAlarmModelFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'iot-events-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('reads one model per file and arrays of models, naming each by file and index', () => {
    const models = readAlarmModelFiles([`${FIXTURES}/low-battery.json`, `${FIXTURES}/vehicle-models.json`]);

    expect(models.map(({ source, model }) => [source, (model as { alarmModelName: string }).alarmModelName])).toEqual([
      [{ file: `${FIXTURES}/low-battery.json` }, 'LowBattery'],
      [{ file: `${FIXTURES}/vehicle-models.json`, index: 0 }, 'fuel-reserve'],
      [{ file: `${FIXTURES}/vehicle-models.json`, index: 1 }, 'door-open-in-transit'],
      [{ file: `${FIXTURES}/vehicle-models.json`, index: 2 }, 'engine-mode-not-normal'],
    ]);
  });

  it('refuses a detector model with one line pointing to the migration guide', () => {
    expect(() => readAlarmModelFiles([`${FIXTURES}/detector-model.json`])).toThrow(
      new AlarmModelFileError(
        `${FIXTURES}/detector-model.json: a detector model, not an alarm model; detector models are not converted (see docs/migrating-from-iot-events.md, "Detector models")`,
      ),
    );
  });

  it('recognises a detector model definition inside an array, by its index', () => {
    const path = file('mixed.json', JSON.stringify([{ alarmModelName: 'a', alarmRule: {} }, { detectorModelDefinition: { states: [], initialStateName: 'x' } }]));

    expect(() => readAlarmModelFiles([path])).toThrow(`${path} [1]: a detector model, not an alarm model`);
  });

  it.each([
    ['not JSON', '{"alarmModelName": ', 'not valid JSON'],
    ['an empty array', '[]', 'an empty array, no alarm model'],
    ['a list of models', '{"alarmModelSummaries": [{"alarmModelName": "boiler-overheat"}]}', 'the output of list-alarm-models, which names the models without their rules'],
    ['something else', '{"rules": []}', 'not an alarm model (expected the output of aws iotevents describe-alarm-model, with alarmModelName and alarmRule)'],
  ])('refuses a file holding %s as bad input (a ConfigError, exit code 2)', (_what, text, message) => {
    const path = file('input.json', text);

    expect(() => readAlarmModelFiles([path])).toThrow(ConfigError);
    expect(() => readAlarmModelFiles([path])).toThrow(message);
  });

  it('names a file that is not there', () => {
    expect(() => readAlarmModelFiles([join(dir, 'missing.json')])).toThrow(new AlarmModelFileError(`${join(dir, 'missing.json')}: not found`));
  });
});
