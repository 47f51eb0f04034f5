import { describe, expect, it } from 'vitest';
import { evaluateExpression } from './helpers.js';

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const PAYLOAD = { level: 3, color: 'red', n: null, arr: ['a', 'b', 'c'], obj: { 'a-b': 1, nested: { x: [10, 20] } }, from: 'kw' };

describe('topic()', () => {
  const topic = 'dt/fleet/sensor-0001/telemetry';
  describe.each([
    ['topic()', topic],
    ['topic(1)', 'dt'],
    ['topic(2)', 'fleet'],
    ['topic(3)', 'sensor-0001'],
    ['topic(4)', 'telemetry'],
    ["topic('3')", 'sensor-0001'],
    ['topic(2.6)', 'sensor-0001'],
    ['topic(level)', 'sensor-0001'],
    ['topic(level - 1)', 'fleet'],
    ['TOPIC(3)', 'sensor-0001'],
  ])('%s', (expression, expected) => {
    it(`gives ${expected} (1-based levels)`, () => {
      expect(evaluateExpression(expression, PAYLOAD, { topic })).toBe(expected);
    });
  });

  describe.each(['topic(0)', 'topic(5)', 'topic(-1)', 'topic(true)', "topic('x')", 'topic(missing)', 'topic(n)'])('%s', (expression) => {
    it('is Undefined', () => {
      expect(evaluateExpression(expression, PAYLOAD, { topic })).toBeUndefined();
    });
  });

  it('gives an empty level as an empty string', () => {
    expect(evaluateExpression('topic(2)', {}, { topic: 'a//b' })).toBe('');
  });
});

describe('timestamp(), clientid(), newuuid()', () => {
  it('gives the rules engine receive time in epoch ms', () => {
    expect(evaluateExpression('timestamp()', {}, { timestamp: 1_700_000_000_456 })).toBe(1_700_000_000_456);
  });

  it('gives the MQTT client id', () => {
    expect(evaluateExpression('clientid()', {}, { clientId: 'sensor-0001' })).toBe('sensor-0001');
  });

  it('gives "n/a" when the message did not come over MQTT (no client id)', () => {
    expect(evaluateExpression('clientid()', {}, { clientId: '' })).toBe('n/a');
  });

  it('gives a new random UUID on every call', () => {
    const first = evaluateExpression('newuuid()');
    const second = evaluateExpression('newuuid()');
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second).not.toBe(first);
  });
});

describe('encode()', () => {
  describe.each([
    ["encode(*, 'base64')", base64(JSON.stringify(PAYLOAD))],
    ["encode(color, 'base64')", base64('red')],
    ["encode('héllo', 'base64')", base64('héllo')],
    ["encode(level, 'base64')", base64('3')],
    ["encode(true, 'base64')", base64('true')],
    ["encode(arr, 'base64')", base64('["a","b","c"]')],
    ["ENCODE(*, 'base64')", base64(JSON.stringify(PAYLOAD))],
  ])('%s', (expression, expected) => {
    it(`gives ${expected}`, () => {
      expect(evaluateExpression(expression, PAYLOAD)).toBe(expected);
    });
  });

  describe.each(["encode(missing, 'base64')", "encode(n, 'base64')"])('%s', (expression) => {
    it('is Undefined (Undefined and Null have no String conversion)', () => {
      expect(evaluateExpression(expression, PAYLOAD)).toBeUndefined();
    });
  });
});

describe('get()', () => {
  describe.each([
    ['get(arr, 1)', 'b'],
    ["get(arr, '2')", 'c'],
    ['get(arr, 0.6)', 'b'],
    ["get(obj, 'a-b')", 1],
    ["get(get(obj, 'nested'), 'x')", [10, 20]],
    ["get(obj.nested.x, 1)", 20],
    ["get(get(obj, 'nested').x, 0)", 10],
    ["get(*, 'from')", 'kw'],
    ["get(color, 1)", 'e'],
    ["get('héllo', 1)", 'é'],
  ])('%s', (expression, expected) => {
    it(`gives ${JSON.stringify(expected)}`, () => {
      expect(evaluateExpression(expression, PAYLOAD)).toEqual(expected);
    });
  });

  describe.each([
    ['get(arr, 3)', 'an index past the end'],
    ['get(arr, -1)', 'a negative index'],
    ["get(arr, 'x')", 'an index that does not convert to Int'],
    ['get(obj, 1)', 'an object key that is not a String (no conversion)'],
    ["get(obj, 'toString')", 'an inherited property'],
    ['get(level, 0)', 'a number container'],
    ['get(missing, 0)', 'an Undefined container'],
    ["get(color, 9)", 'a string index past the end'],
  ])('%s', (expression, why) => {
    it(`is Undefined (${why})`, () => {
      expect(evaluateExpression(expression, PAYLOAD)).toBeUndefined();
    });
  });
});
