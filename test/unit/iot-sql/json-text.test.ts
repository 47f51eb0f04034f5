import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRule, ruleOutputBytes, type RuleMessage } from '../../../infra/local/iot-sql/index.js';
import { compileJsonBytesWriter, jsonPropertyValue } from '../../../infra/local/iot-sql/json-text.js';
import { EvalContext } from '../../../infra/local/iot-sql/context.js';
import type { SelectItem } from '../../../infra/local/iot-sql/ast.js';
import { pipeline } from '../../../infra/pipeline.js';

/** What the general path gives: the output value built, then serialized. */
function generalBytes(sql: string, message: RuleMessage): Uint8Array | undefined {
  const result = compileRule(sql).evaluate(message);
  return result.matched ? ruleOutputBytes(result.output) : undefined;
}

function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes).toString('latin1');
}

/** Strings JSON.stringify escapes or copies in ways worth checking: quotes, controls, lone and paired surrogates. */
const trickyString = fc.oneof(
  fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', 'a\udc00b', '😀', 'é', '</script>', ''),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ maxLength: 12 }),
);

const anyMessage: fc.Arbitrary<RuleMessage> = fc.record({
  topic: fc.oneof(
    fc.constant('dt/fleet/d1/telemetry'),
    trickyString.map((id) => `dt/fleet/${id.replaceAll('/', '_')}/telemetry`),
    trickyString.filter((t) => t.length > 0),
  ),
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.record({ x: fc.jsonValue(), a: fc.jsonValue() }, { requiredKeys: [] }).map((value) => new TextEncoder().encode(JSON.stringify(value))),
    fc.jsonValue().map((value) => new TextEncoder().encode(JSON.stringify(value) ?? 'null')),
    trickyString.map((s) => new TextEncoder().encode(s)),
  ),
  clientId: trickyString,
  timestamp: fc.oneof(fc.nat(), fc.double(), fc.constant(-0)),
});

/** SELECT items the direct writer must reproduce, each with its own alias (none reads a random value). */
const ITEMS = [
  "encode(*, 'base64') AS payload",
  'topic() AS topic',
  'clientid() AS clientId',
  'timestamp() AS receivedAt',
  'topic(3) AS device',
  'topic(9) AS missing',
  'x',
  'a.b',
  'get(*, 0) AS first',
  "encode(x, 'base64') AS ex",
  'x + 1 AS inc',
  "'q\"uote\\\\' AS lit",
  'null AS nothing',
  'true AS yes',
  '1.5 AS half',
  'x / 0 AS undefinedByZero',
  'a AS __proto__',
];
const WHERES = ['', " WHERE topic(1) = 'dt'", ' WHERE x > 0'];

const anySelect = fc
  .record({ items: fc.shuffledSubarray(ITEMS, { minLength: 1 }), where: fc.constantFrom(...WHERES), from: fc.constantFrom("'#'", "'dt/fleet/+/telemetry'") })
  .map(({ items, where, from }) => `SELECT ${items.join(', ')} FROM ${from}${where}`);

describe('evaluateToBytes (the rule output written directly as JSON text)', () => {
  it("gives the pipeline rule's output byte for byte as building and serializing the object does", () => {
    const rule = compileRule(pipeline.rule.sql);
    fc.assert(
      fc.property(anyMessage, (message) => {
        expect(text(rule.evaluateToBytes(message))).toBe(text(generalBytes(pipeline.rule.sql, message)));
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([0, 1, 2, 3, 4, 5, 128 * 1024])('writes the base64 of a %i-byte payload as the general path does (padding included)', (size) => {
    const payload = Uint8Array.from({ length: size }, (_, i) => (i * 131 + 7) & 0xff);
    const message: RuleMessage = { topic: 'dt/fleet/d1/telemetry', payload, clientId: 'd1', timestamp: 1 };
    expect(text(compileRule(pipeline.rule.sql).evaluateToBytes(message))).toBe(text(generalBytes(pipeline.rule.sql, message)));
  });

  it('writes long strings, plain or needing escapes, and long JSON values as the general path does', () => {
    const sql = "SELECT topic() AS topic, clientid() AS clientId, x AS x FROM '#'";
    const payload = new TextEncoder().encode(JSON.stringify({ x: { list: Array.from({ length: 50 }, (_, i) => `item-${i}`), text: 'é"\\'.repeat(30) } }));
    for (const clientId of ['c'.repeat(5_000), 'quote"'.repeat(20), 'é'.repeat(100)]) {
      const message: RuleMessage = { topic: `dt/fleet/${'a'.repeat(300)}/telemetry`, payload, clientId, timestamp: 1 };
      expect(text(compileRule(sql).evaluateToBytes(message))).toBe(text(generalBytes(sql, message)));
    }
  });

  it('gives the same bytes as the general path for any SELECT of expressions, WHERE or not', () => {
    fc.assert(
      fc.property(anySelect, anyMessage, (sql, message) => {
        expect(text(compileRule(sql).evaluateToBytes(message))).toBe(text(generalBytes(sql, message)));
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    "SELECT * FROM '#'",
    "SELECT *, topic() AS topic FROM '#'",
    "SELECT VALUE x FROM '#'",
    "SELECT VALUE encode(*, 'base64') FROM '#'",
    "SELECT x, topic() AS x FROM '#'",
    "SELECT topic(9) AS k, topic() AS k FROM '#'",
  ])('keeps the general path for %s (raw bytes, whole payloads, values, a key given twice)', (sql) => {
    fc.assert(
      fc.property(anyMessage, (message) => {
        expect(text(compileRule(sql).evaluateToBytes(message))).toBe(text(generalBytes(sql, message)));
      }),
      { numRuns: 300 },
    );
  });

  it('is undefined when the topic does not match or WHERE is not true, as evaluate is not matched', () => {
    const rule = compileRule("SELECT topic() AS t FROM 'dt/fleet/+/telemetry' WHERE x = 1");
    const payload = new TextEncoder().encode('{"x":2}');
    expect(rule.evaluateToBytes({ topic: 'alarms/fleet/d1', payload, clientId: 'd1', timestamp: 0 })).toBeUndefined();
    expect(rule.evaluateToBytes({ topic: 'dt/fleet/d1/telemetry', payload, clientId: 'd1', timestamp: 0 })).toBeUndefined();
  });

  it('writes a newuuid() item as a quoted UUID', () => {
    const bytes = compileRule("SELECT newuuid() AS id, topic() AS t FROM '#'").evaluateToBytes({ topic: 'a', payload: new Uint8Array(), clientId: '', timestamp: 0 });
    const parsed = JSON.parse(text(bytes) ?? '') as { id: string; t: string };
    expect(parsed.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parsed.t).toBe('a');
  });
});

describe('compileJsonBytesWriter', () => {
  const message: RuleMessage = { topic: 't', payload: new Uint8Array(), clientId: 'c', timestamp: 0 };
  const item = (key: string): SelectItem => ({ kind: 'expr', key, offset: 0, expr: { kind: 'literal', value: key, offset: 0 } });

  it('lists integer-like keys first, ascending, as a JavaScript object (and so JSON.stringify) does', () => {
    const keys = ['b', '10', 'a', '2', '01', '__proto__'];
    const write = compileJsonBytesWriter(
      keys.map(item),
      keys.map((key) => () => key),
    );
    const expected = JSON.stringify(Object.fromEntries(keys.map((key) => [key, key])));
    expect(text(write?.(new EvalContext(message)))).toBe(expected);
  });

  it('leaves out the keys whose value is Undefined, keeping the order of the rest', () => {
    const write = compileJsonBytesWriter([item('a'), item('b'), item('c')], [() => undefined, () => 1, () => undefined]);
    expect(text(write?.(new EvalContext(message)))).toBe('{"b":1}');
    const none = compileJsonBytesWriter([item('a')], [() => undefined]);
    expect(text(none?.(new EvalContext(message)))).toBe('{}');
  });
});

describe('jsonPropertyValue', () => {
  it('writes any JSON value (and Undefined, non-finite and negative zero numbers) as JSON.stringify writes a property', () => {
    const value = fc.oneof(fc.jsonValue(), trickyString, fc.double(), fc.constant(undefined), fc.constant(-0));
    fc.assert(
      fc.property(value, (v) => {
        expect(jsonPropertyValue(v)).toBe(JSON.stringify({ v }).match(/^\{"v":(.*)\}$/s)?.[1]);
      }),
      { numRuns: 2_000 },
    );
  });
});
