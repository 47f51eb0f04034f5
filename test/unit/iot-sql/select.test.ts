import { describe, expect, it } from 'vitest';
import { compileRule, MAX_JSON_DEPTH, ruleOutputBytes } from '../../../infra/local/iot-sql/index.js';
import { message, textMessage } from './helpers.js';

function output(sql: string, payload: unknown): unknown {
  const result = compileRule(sql).evaluate(message(payload, { topic: 'a/b' }));
  if (!result.matched) throw new Error('not matched');
  return result.output;
}

const DOC_PAYLOAD = { color: 'red', temperature: 50 };

describe('SELECT', () => {
  // The examples of docs.aws.amazon.com/iot/latest/developerguide/iot-sql-select.html
  describe.each([
    ["SELECT * FROM 'a/#'", DOC_PAYLOAD, { color: 'red', temperature: 50 }],
    ["SELECT color FROM 'a/#'", DOC_PAYLOAD, { color: 'red' }],
    ["SELECT color AS my_color FROM 'a/#'", DOC_PAYLOAD, { my_color: 'red' }],
    ["SELECT color as my_color, temperature as fahrenheit FROM 'a/#'", DOC_PAYLOAD, { my_color: 'red', fahrenheit: 50 }],
    ["SELECT *, 15 as speed FROM 'a/#'", DOC_PAYLOAD, { color: 'red', temperature: 50, speed: 15 }],
    ["SELECT VALUE color FROM 'a/#'", DOC_PAYLOAD, 'red'],
    ["SELECT color.red as red_value FROM 'a/#'", { color: { red: 255, green: 0, blue: 0 }, temperature: 50 }, { red_value: 255 }],
    ["SELECT (temperature - 32) * 5 / 9 AS celsius FROM 'a/#'", DOC_PAYLOAD, { celsius: 10 }],
  ])('%s', (sql, payload, expected) => {
    it(`outputs ${JSON.stringify(expected)} as in the AWS docs`, () => {
      expect(output(sql, payload)).toEqual(expected);
    });
  });

  it('names an unaliased nested field by its last segment', () => {
    expect(output("SELECT state.reported.temp FROM '#'", { state: { reported: { temp: 21 } } })).toEqual({ temp: 21 });
  });

  it('omits items that are Undefined and keeps items that are Null', () => {
    expect(output("SELECT color, missing, n, missing.deeper AS x FROM '#'", { color: 'red', n: null })).toEqual({ color: 'red', n: null });
  });

  it('reads fields of anything but an object as Undefined', () => {
    expect(output("SELECT color.red AS r, list.length AS l FROM '#'", { color: 'red', list: [1, 2] })).toEqual({});
  });

  it('never exposes inherited properties as fields', () => {
    expect(output("SELECT constructor, toString, o.hasOwnProperty AS h FROM '#'", { o: {} })).toEqual({});
  });

  it('lets a later item overwrite a key set by * or an earlier item', () => {
    expect(output("SELECT *, 'blue' AS color, 1 AS x, 2 AS x FROM '#'", DOC_PAYLOAD)).toEqual({ color: 'blue', temperature: 50, x: 2 });
  });

  it('keeps a payload key named __proto__ as a plain key, without touching the prototype', () => {
    const result = output("SELECT *, 1 AS x FROM '#'", JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')) as Record<string, unknown>;
    expect(Object.keys(result)).toEqual(['__proto__', 'a', 'x']);
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect((result as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('passes a JSON payload that is not an object through SELECT * as it is', () => {
    expect(output("SELECT * FROM '#'", [1, 'two', null])).toEqual([1, 'two', null]);
    expect(output("SELECT * FROM '#'", 42)).toBe(42);
  });

  it('gives Undefined as the output of SELECT VALUE of a missing field, and serializes it as nothing', () => {
    const result = compileRule("SELECT VALUE missing FROM '#'").evaluate(message({}));
    expect(result).toEqual({ matched: true, output: undefined });
    expect(ruleOutputBytes(undefined)).toHaveLength(0);
  });

  it('treats keywords as case-insensitive', () => {
    expect(output("sElEcT vAlUe 1 + 1 FrOm '#' wHeRe TRUE aNd NoT FALSE", {})).toBe(2);
  });

  it('accepts double-quoted string literals in expressions', () => {
    expect(output(`SELECT VALUE "a" + 'b' FROM '#'`, {})).toBe('ab');
  });

  it('unescapes backslash escapes in string literals', () => {
    expect(output(String.raw`SELECT VALUE 'it\'s \u00e9' FROM '#'`, {})).toBe("it's é");
  });
});

describe('SELECT with a payload that is not JSON', () => {
  const bytes = Uint8Array.from([0x00, 0xff, 0x10, 0x80, 0x7b]);

  it('passes the raw bytes through SELECT *', () => {
    const result = compileRule("SELECT * FROM '#'").evaluate(message(bytes));
    expect(result.matched && result.output).toEqual(bytes);
    expect(result.matched && ruleOutputBytes(result.output)).toEqual(bytes);
  });

  it('encodes any payload with encode(*, \'base64\')', () => {
    expect(output("SELECT encode(*, 'base64') AS data FROM '#'", bytes)).toEqual({ data: Buffer.from(bytes).toString('base64') });
  });

  it('reads fields of a non-JSON payload as Undefined', () => {
    const rule = compileRule("SELECT temperature, timestamp() AS ts FROM '#'");
    expect(rule.evaluate(textMessage('temperature=21'))).toEqual({ matched: true, output: { ts: 1_764_028_800_123 } });
  });

  it('adds only the other items when * is combined with them (AWS refuses this combination for binary payloads)', () => {
    expect(output("SELECT *, 1 AS x FROM '#'", bytes)).toEqual({ x: 1 });
  });

  it('treats bytes that are not valid UTF-8 as not JSON, even inside quotes', () => {
    const quoted = Uint8Array.from([0x22, 0xff, 0x22]);
    const result = compileRule("SELECT * FROM '#'").evaluate(message(quoted));
    expect(result.matched && result.output).toEqual(quoted);
  });

  it('treats JSON nested deeper than MAX_JSON_DEPTH as not JSON, so comparing or serializing it cannot overflow the stack', () => {
    const nested = (depth: number): string => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)},"b":"]]"}`;
    const rule = compileRule("SELECT VALUE a = a FROM '#'");

    expect(rule.evaluate(textMessage(nested(MAX_JSON_DEPTH)))).toEqual({ matched: true, output: true });
    expect(rule.evaluate(textMessage(nested(20_000)))).toEqual({ matched: true, output: undefined });
    const star = compileRule("SELECT * FROM '#'").evaluate(textMessage(nested(20_000)));
    expect(star.matched && star.output).toBeInstanceOf(Uint8Array);
  });

  it('does not match a WHERE on a field of a non-JSON payload', () => {
    expect(compileRule("SELECT * FROM '#' WHERE device_type = 'thermostat'").evaluate(textMessage('not json')).matched).toBe(false);
  });
});

describe('WHERE runs before SELECT', () => {
  it('cannot see SELECT aliases', () => {
    const rule = compileRule("SELECT temperature AS t FROM '#' WHERE t > 1");
    expect(rule.evaluate(message({ temperature: 50 })).matched).toBe(false);
  });

  it('matches on payload fields', () => {
    const rule = compileRule("SELECT color AS my_color FROM 'a/b' WHERE temperature > 50 AND color <> 'red'");
    expect(rule.evaluate(message({ color: 'red', temperature: 40 }, { topic: 'a/b' }))).toEqual({ matched: false });
    expect(rule.evaluate(message({ color: 'blue', temperature: 60 }, { topic: 'a/b' }))).toEqual({ matched: true, output: { my_color: 'blue' } });
  });
});

describe('FROM', () => {
  it('does not match a message on another topic', () => {
    const rule = compileRule("SELECT * FROM 'a/b'");
    expect(rule.evaluate(message({}, { topic: 'a/c' }))).toEqual({ matched: false });
    expect(rule.topicFilter).toBe('a/b');
    expect(rule.sql).toBe("SELECT * FROM 'a/b'");
  });
});
