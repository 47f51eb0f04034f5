import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRule, compileTemplate, type RuleMessage } from '../../../infra/local/iot-sql/index.js';
import { pipeline } from '../../../infra/pipeline.js';
import { evaluateExpression, message } from './helpers.js';

/** Rules that between them use every operator and function of the subset. */
const RULES = [
  pipeline.rule.sql,
  "SELECT * FROM '#'",
  "SELECT VALUE get(*, 'a') FROM '#'",
  "SELECT *, a.b.c AS abc, get(a, 0) AS first, -x AS neg, x % 3 AS mod, 'k' + x AS s FROM '#' WHERE NOT (x < 0) OR x = 'y' AND a <> b",
  "SELECT encode(x, 'base64') AS e, topic(2) AS t, newuuid() AS id FROM '+/#' WHERE x / 2 >= '1' OR get(*, 1) = x",
].map((sql) => compileRule(sql));
const TEMPLATES = ['${topic(3)}', '${x}-${a.b}-${get(*, 0)}', "${encode(*, 'base64')}${x * 2}"].map((t) => compileTemplate(t));

const anyMessage: fc.Arbitrary<RuleMessage> = fc.record({
  topic: fc.oneof(fc.constant('dt/fleet/d1/telemetry'), fc.string({ minLength: 1 })),
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 256 }),
    fc.jsonValue().map((value) => new TextEncoder().encode(JSON.stringify(value) ?? 'null')),
    fc.integer({ min: 1, max: 30_000 }).map((depth) => new TextEncoder().encode(`{"x":${'['.repeat(depth)}${']'.repeat(depth)}}`)),
  ),
  clientId: fc.string(),
  timestamp: fc.nat(),
});

/** A JSON scalar that the comparison operators may or may not convert to Decimal. */
const scalar = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.constant(null),
);

describe('IoT SQL evaluator properties', () => {
  it('never throws while evaluating any payload bytes on any topic', () => {
    fc.assert(
      fc.property(anyMessage, (msg) => {
        for (const rule of RULES) rule.evaluate(msg);
        for (const template of TEMPLATES) expect(typeof template(msg)).toBe('string');
      }),
      { numRuns: 500 },
    );
  });

  it('returns every JSON object published unchanged through SELECT *', () => {
    const rule = compileRule("SELECT * FROM '#'");
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const text = JSON.stringify(object);
        const result = rule.evaluate(message(text));
        expect(result).toEqual({ matched: true, output: JSON.parse(text) });
      }),
      { numRuns: 300 },
    );
  });

  it('gives a < b the same result as b > a, and a <= b as b >= a, whenever defined or not', () => {
    fc.assert(
      fc.property(scalar, scalar, (a, b) => {
        const payload = { a, b };
        expect(evaluateExpression('a < b', payload)).toBe(evaluateExpression('b > a', payload));
        expect(evaluateExpression('a <= b', payload)).toBe(evaluateExpression('b >= a', payload));
      }),
      { numRuns: 300 },
    );
  });

  it('makes exactly one of a < b, a = b, a > b true for two numbers', () => {
    const number = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
    fc.assert(
      fc.property(number, number, (a, b) => {
        const payload = { a, b };
        const outcomes = ['a < b', 'a = b', 'a > b'].map((expression) => evaluateExpression(expression, payload));
        expect(outcomes.filter((outcome) => outcome === true)).toHaveLength(1);
      }),
      { numRuns: 300 },
    );
  });

  it('makes = symmetric and <> its negation whenever both sides are defined', () => {
    const value = fc.oneof(scalar, fc.jsonValue({ maxDepth: 2 }));
    fc.assert(
      fc.property(value, value, (a, b) => {
        const payload = { a, b };
        const equal = evaluateExpression('a = b', payload);
        expect(typeof equal).toBe('boolean');
        expect(evaluateExpression('b = a', payload)).toBe(equal);
        expect(evaluateExpression('a <> b', payload)).toBe(!equal);
        expect(evaluateExpression('a = a', payload)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('adds, subtracts and multiplies two Ints as Ints', () => {
    const small = fc.integer({ min: -1_000_000, max: 1_000_000 });
    fc.assert(
      fc.property(small, small, (x, y) => {
        const payload = { x, y };
        expect(evaluateExpression('x + y', payload)).toBe(x + y);
        expect(evaluateExpression('x - y', payload)).toBe(x - y === 0 ? 0 : x - y);
        expect(evaluateExpression('x * y', payload)).toBe(x * y === 0 ? 0 : x * y);
        expect(evaluateExpression('x / y', payload)).toBe(y === 0 ? undefined : Math.trunc(x / y) || 0);
      }),
      { numRuns: 300 },
    );
  });

  it('matches a topic against a filter made from it with + for some levels and # for a tail', () => {
    const level = fc.stringMatching(/^[a-z0-9_-]{1,6}$/);
    fc.assert(
      fc.property(fc.array(level, { minLength: 1, maxLength: 6 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), fc.nat(6), (levels, plus, cut) => {
        const topic = levels.join('/');
        const filterLevels = levels.map((l, i) => (plus[i] ? '+' : l));
        const withPlus = compileRule(`SELECT * FROM '${filterLevels.join('/')}'`);
        expect(withPlus.matchesTopic(topic)).toBe(true);
        const kept = Math.min(cut, levels.length);
        const withHash = compileRule(`SELECT * FROM '${[...filterLevels.slice(0, kept), '#'].join('/')}'`);
        expect(withHash.matchesTopic(topic)).toBe(true);
        expect(withPlus.matchesTopic(`${topic}/extra`)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
