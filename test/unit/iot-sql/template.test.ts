import { describe, expect, it } from 'vitest';
import { compileTemplate, IotSqlError } from '../../../infra/local/iot-sql/index.js';
import { message, textMessage } from './helpers.js';

const DOC_PAYLOAD = { deviceid: 'iot123', temp: 54.98, coords: { latitude: 47.615694 }, flag: true, n: null };

describe('compileTemplate', () => {
  describe.each([
    ['${topic(3)}', 'd1'],
    ['${topic()}/republish', 'dt/fleet/d1/telemetry/republish'],
    ['device/${deviceid}', 'device/iot123'],
    ['${topic(2)}-${clientid()}-${timestamp()}', 'fleet-d1-1764028800123'],
    ['${temp}', '54.98'],
    ['${temp * 100}', '5498'],
    ['${coords}', '{"latitude":47.615694}'],
    ['${coords.latitude}', '47.615694'],
    ['${flag}', 'true'],
    ["${deviceid + '/' + topic(3)}", 'iot123/d1'],
    ["${'}'}", '}'],
    ['plain text', 'plain text'],
    ['', ''],
    ['cost: $5 {not a template} $', 'cost: $5 {not a template} $'],
    ["${encode(deviceid, 'base64')}", Buffer.from('iot123').toString('base64')],
    ['${ topic( 3 ) }', 'd1'],
  ])('%s', (template, expected) => {
    it(`renders ${JSON.stringify(expected)}`, () => {
      expect(compileTemplate(template)(message(DOC_PAYLOAD))).toBe(expected);
    });
  });

  describe.each([
    ['${missing}', 'an Undefined field'],
    ['${n}', 'a Null field (Null converts to Undefined)'],
    ['${topic(9)}', 'a topic level that does not exist'],
  ])('%s', (template, why) => {
    it(`renders the empty string for ${why}`, () => {
      expect(compileTemplate(template)(message(DOC_PAYLOAD))).toBe('');
    });
  });

  it('reads the original payload, never the SELECT output (aliases are not visible)', () => {
    // With a rule "SELECT deviceid AS id ...", ${id} would still read the payload, which has no `id`.
    expect(compileTemplate('${id}|${deviceid}')(message(DOC_PAYLOAD))).toBe('|iot123');
  });

  it('evaluates functions on a payload that is not JSON, and its fields as empty', () => {
    expect(compileTemplate('${topic(3)}:${deviceid}')(textMessage('\u0000 binary'))).toBe('d1:');
  });

  describe.each([
    ['${topic(3)', 'unclosed ${ at 0'],
    ['a/${}', 'empty ${} at 2'],
    ['x${principal()}', 'unsupported function principal() at 3'],
    ['${topic(3) topic(2)}', "expected '}', found topic at 11"],
    ['${a = }', 'expected an expression, found \'}\' at 6'],
  ])('%s', (template, expected) => {
    it(`fails to compile: ${expected}`, () => {
      expect(() => compileTemplate(template)).toThrow(IotSqlError);
      expect(() => compileTemplate(template)).toThrow(expected);
    });
  });
});
